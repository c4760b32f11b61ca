// A glob in `reports` must not load @actions/glob: it imports @actions/core, whose OIDC client brings undici into
// the run (test/e2e/cold-start.test.ts checks the same on the bundle for a plain path).
import { jest } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let actionsGlobLoads = 0;
jest.unstable_mockModule('@actions/glob', () => {
  actionsGlobLoads += 1;
  return { create: async () => ({ glob: async () => [] }) };
});
const { defaultEdges } = await import('../../../actions/coverage-gate/edges.js');

test('findFiles with a glob finds the reports without loading @actions/glob', async () => {
  const workspace = mkdtempSync(join(tmpdir(), 'glob-path-'));
  try {
    for (const dir of ['out/unit', 'out/e2e']) {
      mkdirSync(join(workspace, dir), { recursive: true });
      writeFileSync(join(workspace, dir, 'coverage.xml'), '<coverage/>');
    }
    const found = await defaultEdges().findFiles('out/**/coverage.xml', workspace);
    expect(found.sort()).toEqual([join(workspace, 'out/e2e/coverage.xml'), join(workspace, 'out/unit/coverage.xml')]);
    expect(actionsGlobLoads).toBe(0);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
});
