import type { CheckSpec } from '../../../actions/smoke-check/check-spec.js';
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../../../actions/smoke-check/check-spec.js';
import { parseJsonPath } from '../../../actions/smoke-check/json-path.js';
import { backoffDelay, judgeAttempt, versionMatches } from '../../../actions/smoke-check/retry-policy.js';
import { parseStatusSet } from '../../../actions/smoke-check/status-set.js';
import { failure, response } from './fake-world.js';

const check = defineCheck({ url: 'https://site.test/health' });
const judge = (outcome = response(200), overrides: Partial<CheckSpec> = {}) =>
  judgeAttempt({ ...check, ...overrides }, outcome, DEFAULT_RUN_OPTIONS);

describe('retry classification', () => {
  test.each([
    ['ECONNREFUSED', /connection refused/],
    ['ECONNRESET', /connection reset/],
    ['ENOTFOUND', /not resolvable/],
    ['EAI_AGAIN', /lookup failed temporarily/],
    ['TIMEOUT', /no answer within the request timeout \(10000 ms\)/],
    ['EWHATEVER', /EWHATEVER: EWHATEVER/],
  ])('%s is retried while the site warms up', (code, reason) => {
    const verdict = judge(failure(code));
    expect(verdict.kind).toBe('retry');
    expect(verdict).toMatchObject({ reason: expect.stringMatching(reason) });
  });

  test.each([
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])('an untrusted certificate (%s) is fatal: waiting will not fix it', (code) => {
    expect(judge(failure(code))).toEqual({ kind: 'fatal', reason: expect.stringContaining('ca-bundle') });
  });

  test('a redirect loop is fatal', () => {
    expect(judge(failure('TOO_MANY_REDIRECTS', 'more than 10 redirects')).kind).toBe('fatal');
  });

  test.each([502, 503, 504, 429])('HTTP %i is a restart in progress: retry', (status) => {
    expect(judge(response(status))).toEqual({ kind: 'retry', reason: `HTTP ${status} (not ready yet)` });
  });

  test.each([404, 500])('HTTP %i is definitive by default', (status) => {
    expect(judge(response(status))).toEqual({ kind: 'definitive', reason: `HTTP ${status}, expected 2xx` });
  });

  test('other unexpected statuses are retried and say where a redirect went', () => {
    const login = new URL('https://site.test/login?next=/');
    const hops = [{ url: new URL('https://site.test/'), status: 302, location: login }];
    expect(judge(response(302, '', {}, { hops }), { followRedirects: false })).toEqual({
      kind: 'retry',
      reason: 'HTTP 302 to https://site.test/login?next=/, expected 2xx',
    });
    expect(judge(response(401)).kind).toBe('retry');
  });

  test('an expected status wins over fail-fast', () => {
    expect(judge(response(404), { expectedStatus: parseStatusSet('expected-status', '404') }).kind).toBe('pass');
  });

  test('a redirect to a rejected URL is definitive, whatever the final status', () => {
    const hops = [
      {
        url: new URL('https://site.test/admin/'),
        status: 302,
        location: new URL('https://site.test/accounts/login/?token=abc'),
      },
      { url: new URL('https://site.test/accounts/login/?token=abc'), status: 200 },
    ];
    expect(judge(response(200, '<form>', {}, { hops }), { rejectRedirect: /\/login/ })).toEqual({
      kind: 'definitive',
      reason: 'redirected to https://site.test/accounts/login/?token=***, which matches reject-redirect',
    });
  });

  test('a rejected body is definitive', () => {
    expect(judge(response(200, 'Site under maintenance'), { rejectBody: /maintenance/i })).toEqual({
      kind: 'definitive',
      reason: 'body matches reject-body /maintenance/i',
    });
  });

  test('the old version still answering is retried', () => {
    const jsonCheck = { expectVersion: 'new1234567', versionFrom: versionSource('json:$.commit') };
    expect(judge(response(200, '{"commit":"old7654321"}'), jsonCheck)).toEqual({
      kind: 'retry',
      reason: 'serves version old7654321 ($.commit), expected new1234567',
      version: 'old7654321',
    });
    expect(judge(response(200, '{"commit":"new1234567"}'), jsonCheck)).toEqual({ kind: 'pass', version: 'new1234567' });
    expect(judge(response(200, '{"commit":"new1234"}'), jsonCheck).kind).toBe('pass');
    expect(judge(response(200, '{"status":"ok"}'), jsonCheck)).toMatchObject({
      kind: 'retry',
      reason: 'no version in $.commit, expected new1234567',
    });
    expect(judge(response(200, 'not json'), jsonCheck).kind).toBe('retry');
    expect(judge(response(200, '{"commit":12345678}'), { ...jsonCheck, expectVersion: '12345678' }).kind).toBe('pass');
  });

  test('the version from a header or the body', () => {
    const headerCheck = { expectVersion: 'v2', versionFrom: versionSource('header:X-Release') };
    expect(judge(response(200, '', { 'x-release': 'v2' }), headerCheck)).toEqual({ kind: 'pass', version: 'v2' });
    expect(judge(response(200, '', { 'x-release': 'v1' }), headerCheck).kind).toBe('retry');
    expect(judge(response(200, 'release v2 up'), { expectVersion: 'v2' })).toEqual({ kind: 'pass', version: 'v2' });
    expect(judge(response(200, 'release v1 up'), { expectVersion: 'v2' })).toEqual({
      kind: 'retry',
      reason: 'body does not show version v2 (yet)',
    });
  });

  test('short and full shas match each other, short strings do not', () => {
    const full = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
    expect(versionMatches({ expectVersion: full }, 'a94a8fe')).toBe(true);
    expect(versionMatches({ expectVersion: 'a94a8fe' }, full)).toBe(true);
    expect(versionMatches({ expectVersion: full }, 'a94a8f')).toBe(false);
    expect(versionMatches({ expectVersion: full }, 'b94a8fe')).toBe(false);
    expect(versionMatches({ expectVersion: 'v1' }, 'v10')).toBe(false);
  });

  test('body, JSON, header and latency assertions retry with a reason', () => {
    const body = '{"status":"ok","db":{"up":true}}';
    expect(judge(response(200, body), { bodyContains: ['ok', 'missing'] })).toMatchObject({
      kind: 'retry',
      reason: "body does not contain 'missing'",
    });
    expect(judge(response(200, body), { bodyRegex: /"db":\{"up":false/ })).toMatchObject({
      kind: 'retry',
      reason: expect.stringMatching(/^body does not match/),
    });
    const path = parseJsonPath('json-path', '$.db.up');
    expect(judge(response(200, body), { json: { path, equals: 'true' } }).kind).toBe('pass');
    expect(judge(response(200, body), { json: { path, equals: 'false' } })).toMatchObject({
      reason: '$.db.up is true, expected false',
    });
    expect(judge(response(200, body), { json: { path: parseJsonPath('json-path', '$.db.x') } })).toMatchObject({
      reason: '$.db.x not found in the JSON body',
    });
    expect(judge(response(200, 'html'), { json: { path } })).toMatchObject({
      reason: 'body is not JSON, expected $.db.up',
    });
    const headers = { 'cache-control': 'no-cache, private', 'x-frame-options': 'DENY' };
    expect(
      judge(response(200, body, headers), {
        headerExpectations: [
          { name: 'x-frame-options', equals: 'DENY' },
          { name: 'cache-control', contains: 'no-cache' },
        ],
      }).kind,
    ).toBe('pass');
    expect(
      judge(response(200, body, headers), { headerExpectations: [{ name: 'x-frame-options', equals: 'SAMEORIGIN' }] }),
    ).toMatchObject({ reason: "header x-frame-options is 'DENY', expected 'SAMEORIGIN'" });
    expect(
      judge(response(200, body, headers), { headerExpectations: [{ name: 'cache-control', contains: 'public' }] }),
    ).toMatchObject({ kind: 'retry' });
    expect(
      judge(response(200, body, headers), { headerExpectations: [{ name: 'x-missing', equals: '1' }] }),
    ).toMatchObject({ reason: 'no x-missing header' });
    expect(judge(response(200, body, {}, { latencyMs: 900 }), { maxLatencyMs: 500 })).toMatchObject({
      reason: 'answered in 900 ms, over max-latency 500 ms',
    });
    expect(judge(response(200, body, {}, { latencyMs: 400 }), { maxLatencyMs: 500 }).kind).toBe('pass');
  });
});

describe('backoff with full jitter', () => {
  const options = { initialIntervalMs: 500, maxIntervalMs: 5000 };

  test('the cap doubles per failure up to max-interval', () => {
    const top = () => 1;
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, options, top))).toEqual([
      500, 1000, 2000, 4000, 5000, 5000, 5000, 5000,
    ]);
  });

  test('the wait is uniform below the cap', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.25)).toBe(500);
    expect(backoffDelay(3, options, () => 0.999)).toBe(1998);
    // Out-of-range randoms are clamped rather than trusted.
    expect(backoffDelay(1, options, () => 7)).toBe(500);
    expect(backoffDelay(1, options, () => -1)).toBe(0);
  });

  test('checks started together spread out', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const delays = Array.from({ length: 20 }, () => backoffDelay(4, options, random));
    expect(new Set(delays).size).toBeGreaterThan(15);
    expect(Math.max(...delays)).toBeLessThanOrEqual(4000);
  });
});
