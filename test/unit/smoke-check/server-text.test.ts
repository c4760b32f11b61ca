// Every way the engine quotes what a server sent (a version from JSON or a header, a JSON value, a header value,
// a redirect target) reaches the log and the reason neutralised, whatever the server put in it.
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../../../actions/smoke-check/check-spec.js';
import { runChecks } from '../../../actions/smoke-check/engine.js';
import { parseStatusSet } from '../../../actions/smoke-check/status-set.js';
import { INJECTIONS, injectedCommands } from '../../support/workflow-command-lines.js';
import { fakeWorld, response } from './fake-world.js';

const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b';
const options = { ...DEFAULT_RUN_OPTIONS, deadlineMs: 3000 };

/** Each text path: the check, and the answer that carries `hostile` through that path. */
const PATHS = {
  'JSON version': (hostile: string) => ({
    check: { expectVersion: SHA, versionFrom: versionSource('json:$.commit') },
    answer: response(200, JSON.stringify({ commit: hostile })),
  }),
  'header version': (hostile: string) => ({
    check: { expectVersion: SHA, versionFrom: versionSource('header:X-Release') },
    answer: response(200, 'ok', { 'x-release': hostile }),
  }),
  'json-equals': (hostile: string) => ({
    check: { json: { path: jsonPath('$.db'), equals: 'ok' } },
    answer: response(200, JSON.stringify({ db: hostile })),
  }),
  'header equals': (hostile: string) => ({
    check: { headerExpectations: [{ name: 'X-State', equals: 'ok' }] },
    answer: response(200, 'ok', { 'x-state': hostile }),
  }),
  'header contains': (hostile: string) => ({
    check: { headerExpectations: [{ name: 'X-State', contains: 'healthy' }] },
    answer: response(200, 'ok', { 'x-state': hostile }),
  }),
  'redirect target': (hostile: string) => ({
    check: { expectedStatus: parseStatusSet('expected-status', '200') },
    answer: response(
      302,
      '',
      {},
      {
        hops: [
          { url: new URL('https://site.test/'), status: 302, location: new URL(`https://site.test/x#${hostile}`) },
        ],
      },
    ),
  }),
  'error message': (hostile: string) => ({
    check: {},
    answer: { kind: 'error' as const, code: 'EWEIRD', message: hostile, hops: [], latencyMs: 5 },
  }),
};

function jsonPath(text: string) {
  const source = versionSource(`json:${text}`);
  if (source.kind !== 'json') throw new Error('not a JSON path');
  return source.path;
}

describe.each(Object.entries(PATHS))('%s', (_path, make) => {
  test.each(INJECTIONS.concat(['x'.repeat(50_000)]))('%j stays one bounded line', async (hostile) => {
    const { check, answer } = make(hostile);
    const world = fakeWorld(() => answer);
    const report = await runChecks([defineCheck({ url: 'https://site.test/', ...check })], options, world.deps);
    const result = report.results[0];
    expect(result.ok).toBe(false);
    for (const text of [...world.logs, result.reason, result.version ?? '']) {
      expect(injectedCommands(text)).toEqual([]);
      expect(text).not.toMatch(/[\r\n\u0085\u2028\u2029]/);
      expect(text.length).toBeLessThan(1200);
    }
  });
});
