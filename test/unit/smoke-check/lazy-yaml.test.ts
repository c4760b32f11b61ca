// The `yaml` package is most of what smoke-check's bundle would parse at start, and only the `checks` input needs
// it: a step with `urls` alone must never load it (the bundle then keeps it in a chunk that is not read).
import { jest } from '@jest/globals';
import { parse } from 'yaml';
import type { SmokeCheckEdges } from '../../../actions/smoke-check/main.js';
import { actionInputs } from './action-inputs.js';
import { fakeWorld, response } from './fake-world.js';

let yamlLoads = 0;
jest.unstable_mockModule('yaml', () => {
  yamlLoads += 1;
  return { parse };
});
const { smokeCheck } = await import('../../../actions/smoke-check/main.js');

function edges(values: Record<string, string>): SmokeCheckEdges {
  const world = fakeWorld(() => response(200, 'ok'));
  return {
    inputs: actionInputs(values),
    readFile: () => {
      throw new Error('ENOENT');
    },
    setSecret: () => undefined,
    setOutput: () => undefined,
    info: () => undefined,
    warning: () => undefined,
    error: () => undefined,
    writeSummary: async () => undefined,
    engine: (_options, log) => ({ ...world.deps, log }),
  };
}

test('urls alone: smoke-check neither imports nor loads the YAML parser', async () => {
  expect(yamlLoads).toBe(0);
  const report = await smokeCheck(edges({ urls: 'https://site.test/health' }));
  expect(report.healthy).toBe(true);
  expect(yamlLoads).toBe(0);
});

test('checks: the YAML parser is loaded then, and the checks are read with it', async () => {
  const report = await smokeCheck(
    edges({ checks: '- url: https://site.test/health\n  name: health\n- https://site.test/\n' }),
  );
  expect(report.results.map((r) => r.name)).toEqual(['health', 'https://site.test/']);
  expect(yamlLoads).toBe(1);
});
