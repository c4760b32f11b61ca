import type { RunOptions } from '../../../actions/smoke-check/check-spec.js';
import { defineCheck, DEFAULT_RUN_OPTIONS } from '../../../actions/smoke-check/check-spec.js';
import { formatMs, runChecks } from '../../../actions/smoke-check/engine.js';
import { failure, fakeWorld, response } from './fake-world.js';

const options = (overrides: Partial<RunOptions> = {}): RunOptions => ({
  ...DEFAULT_RUN_OPTIONS,
  deadlineMs: 60_000,
  ...overrides,
});
const health = defineCheck({ url: 'https://site.test/health' });

describe('the checking engine on a fake clock', () => {
  test('a healthy site passes on the first attempt', async () => {
    const world = fakeWorld(() => response(200, 'ok'));
    const report = await runChecks([health], options(), world.deps);
    expect(report).toMatchObject({ healthy: true, failedCount: 0 });
    expect(report.results[0]).toMatchObject({ ok: true, status: 200, attempts: 1, reason: 'healthy', latencyMs: 10 });
    expect(world.sleeps).toEqual([]);
  });

  test('refused, then 503, then 200: retried with growing jittered waits', async () => {
    const world = fakeWorld((n) => (n <= 2 ? failure('ECONNREFUSED') : n <= 4 ? response(503) : response(200)));
    const report = await runChecks([health], options(), world.deps);
    expect(report.results[0]).toMatchObject({ ok: true, attempts: 5 });
    // random() = 0.5: half of the cap 500, 1000, 2000, then 2000 (max-interval).
    expect(world.sleeps).toEqual([250, 500, 1000, 1000]);
    expect(world.logs.join('\n')).toMatch(/attempt 1: connection refused after 5 ms; next try in 250 ms/);
  });

  test('a fail-fast status ends the check after fail-fast-after answers in a row', async () => {
    const world = fakeWorld((n) => (n === 1 ? response(500) : n === 2 ? response(503) : response(404)));
    const report = await runChecks([health], options(), world.deps);
    expect(report.results[0]).toMatchObject({
      ok: false,
      status: 404,
      attempts: 4,
      reason: 'HTTP 404, expected 2xx (2 times in a row)',
    });
    expect(report.healthy).toBe(false);
  });

  test('fail-fast-after 1 stops at the first definitive answer', async () => {
    const world = fakeWorld(() => response(500, 'Server Error'));
    const report = await runChecks([health], options({ failFastAfter: 1 }), world.deps);
    expect(report.results[0]).toMatchObject({
      ok: false,
      attempts: 1,
      reason: 'HTTP 500, expected 2xx',
      lastBody: 'Server Error',
    });
  });

  test('a fatal answer stops at once', async () => {
    const world = fakeWorld(() => failure('DEPTH_ZERO_SELF_SIGNED_CERT'));
    const report = await runChecks([health], options(), world.deps);
    expect(report.results[0]).toMatchObject({
      ok: false,
      attempts: 1,
      reason: expect.stringMatching(/^TLS certificate not trusted/),
    });
  });

  test('the deadline holds: no attempt starts past it and the timeout shrinks to what is left', async () => {
    const world = fakeWorld(() => ({ ...failure('TIMEOUT'), latencyMs: Infinity }), { random: () => 1 });
    const start = world.now();
    const check = defineCheck({ url: 'https://site.test/', timeoutMs: 4000 });
    const report = await runChecks(
      [check],
      options({ deadlineMs: 10_000, initialIntervalMs: 500, maxIntervalMs: 500 }),
      world.deps,
    );
    expect(report.results[0]).toMatchObject({
      ok: false,
      attempts: 3,
      reason: 'no answer within the request timeout (4000 ms); deadline of 10 s reached after 3 attempts',
    });
    expect(world.requests.map((r) => r.timeoutMs)).toEqual([4000, 4000, 1000]);
    expect(world.now() - start).toBe(10_000);
  });

  test('stable-for needs that many passes in a row; a flap starts the count again', async () => {
    const answers = [200, 200, 503, 200, 200, 200];
    const world = fakeWorld((n) => response(answers[n - 1] ?? 200));
    const report = await runChecks([health], options({ stableFor: 3 }), world.deps);
    expect(report.results[0]).toMatchObject({ ok: true, attempts: 6, reason: 'healthy (3 passes in a row)' });
    // Passes are spaced by the first interval; the failure by a jittered backoff.
    expect(world.sleeps).toEqual([500, 500, 250, 500, 500]);
  });

  test('a site that never stabilises fails at the deadline saying so', async () => {
    const world = fakeWorld((n) => response(n % 2 ? 200 : 503));
    const report = await runChecks([health], options({ stableFor: 2, deadlineMs: 3000 }), world.deps);
    expect(report.results[0].ok).toBe(false);
    expect(report.results[0].reason).toMatch(/deadline of 3 s reached after \d+ attempts$/);
  });

  test('checks run in parallel and each keeps its own result', async () => {
    const world = fakeWorld((_n, request) => (request.url.pathname === '/bad' ? response(404) : response(200)));
    const checks = ['/a', '/b', '/bad'].map((path) => defineCheck({ url: `https://site.test${path}`, name: path }));
    const report = await runChecks(checks, options(), world.deps);
    expect(report.results.map((r) => [r.name, r.ok])).toEqual([
      ['/a', true],
      ['/b', true],
      ['/bad', false],
    ]);
    expect(report).toMatchObject({ healthy: false, failedCount: 1 });
    expect(world.logs.some((line) => line.startsWith('[3] /bad: '))).toBe(true);
  });

  test('results carry redacted URLs and redirects, never credentials', async () => {
    const target = new URL('https://site.test/login?token=zzz999');
    const world = fakeWorld(() =>
      response(
        200,
        'login',
        {},
        {
          hops: [
            { url: new URL('https://site.test/'), status: 302, location: target },
            { url: target, status: 200 },
          ],
        },
      ),
    );
    const check = defineCheck({ url: 'https://u:pw-12345@site.test/?api_key=k-1', rejectRedirect: /login/ });
    const report = await runChecks([check], options({ failFastAfter: 1 }), world.deps);
    expect(report.results[0]).toMatchObject({
      url: 'https://u:***@site.test/?api_key=***',
      redirects: ['https://site.test/login?token=***'],
    });
    expect(JSON.stringify(report)).not.toMatch(/pw-12345|zzz999|k-1/);
  });

  test('durations read well', () => {
    expect([250, 1500, 60_000, 90_000].map(formatMs)).toEqual(['250 ms', '1.5 s', '1 min', '1 min 30 s']);
  });
});
