// Report globs are matched on node:fs (find-files.ts), not by @actions/glob, which loads @actions/core and undici.
// The matching must stay what @actions/glob did: both run here over one tree, with the options edges.ts gave it.
import * as glob from '@actions/glob';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { globFiles } from '../../../actions/coverage-gate/find-files.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'find-files-'));
  const files = [
    'coverage.xml',
    'lcov.info',
    '.coverage.xml',
    'out/coverage.xml',
    'out/unit/coverage.xml',
    'out/unit/lcov.info',
    'out/e2e/deep/er/coverage.xml',
    'out/.hidden/coverage.xml',
    'out/a1/report.xml',
    'out/b2/report.xml',
    'out/c3/report.xml',
    'out/{a,b}/report.xml',
    'out/[x]/report.xml',
    'out/space dir/report (1).xml',
    'out/ü/report.xml',
    'web/coverage-final.json',
    'web/packages/app/coverage/coverage-final.json',
    'web/packages/lib/coverage/coverage-final.json',
    'web/node_modules/dep/coverage/coverage-final.json',
  ];
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), 'x');
  }
  // A directory named like a report, a link to a directory, a link back up (a cycle) and a broken link.
  mkdirSync(join(root, 'out/dir.xml'));
  symlinkSync(join(root, 'out/unit'), join(root, 'linked'));
  symlinkSync(join(root, 'out'), join(root, 'out/e2e/up'));
  symlinkSync(join(root, 'nowhere.xml'), join(root, 'out/broken.xml'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function withActionsGlob(pattern: string): Promise<string[]> {
  const globber = await glob.create(join(root, pattern), { matchDirectories: false, implicitDescendants: false });
  return (await globber.glob()).filter((f) => !f.endsWith('dir.xml')).sort();
}

test.each([
  '*.xml',
  '**/coverage.xml',
  'out/**/*.xml',
  'out/**',
  'out/*/coverage.xml',
  'out/**/deep/**/coverage.xml',
  'out/?1/report.xml',
  'out/[ab]?/report.xml',
  'out/[!a]?/report.xml',
  'out/[^ab]?/report.xml',
  'out/[a-b][[:digit:]]/report.xml',
  'out/{a,b}/*.xml',
  'out/[[]x]/*.xml',
  'out/space dir/*.xml',
  'out/ü/*',
  'out/*.xml',
  'linked/*',
  '**/lcov.info',
  'web/**/coverage/coverage-final.json',
  'web/packages/*/coverage/*.json',
  'missing/**/*.xml',
  'coverage.xml/**',
])('%s matches what @actions/glob matched', async (pattern) => {
  const ours = (await globFiles(pattern, root)).sort();
  expect(ours).toEqual(await withActionsGlob(pattern));
});

test('a relative pattern is read from cwd; an absolute one as it is', async () => {
  expect(await globFiles('out/*/lcov.info', root)).toEqual([join(root, 'out/unit/lcov.info')]);
  expect(await globFiles(join(root, 'out/*/lcov.info'), '/nonexistent')).toEqual([join(root, 'out/unit/lcov.info')]);
});
