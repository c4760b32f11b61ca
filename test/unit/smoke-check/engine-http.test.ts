import type { RunOptions } from '../../../actions/smoke-check/check-spec.js';
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../../../actions/smoke-check/check-spec.js';
import { defaultEngineDeps, runChecks } from '../../../actions/smoke-check/engine.js';
import type { LocalServer, SelfSignedCertificate } from '../../support/smoke-check-servers.js';
import { json, reservePort, selfSignedCertificate, startServer, text } from '../../support/smoke-check-servers.js';

// Real node:http(s) servers on loopback; short intervals keep the suite quick.
const fast = (overrides: Partial<RunOptions> = {}): RunOptions => ({
  ...DEFAULT_RUN_OPTIONS,
  deadlineMs: 15_000,
  initialIntervalMs: 100,
  maxIntervalMs: 400,
  ...overrides,
});
const logs: string[] = [];
const deps = (options: RunOptions) => defaultEngineDeps(options, (line) => logs.push(line));
const check = (options: RunOptions, ...checks: Parameters<typeof defineCheck>[0][]) =>
  runChecks(
    checks.map((c) => defineCheck({ timeoutMs: 2000, ...c })),
    options,
    deps(options),
  );

const servers: Array<{ close(): Promise<unknown> }> = [];
const serve = async (...args: Parameters<typeof startServer>): Promise<LocalServer> => {
  const server = await startServer(...args);
  servers.push(server);
  return server;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  logs.length = 0;
});

describe('the engine against real local servers', () => {
  test('a server that refuses connections for a while, then serves', async () => {
    const port = await reservePort();
    const options = fast();
    // The server takes the port only once the engine has logged a refusal, so a retry is certain on any machine.
    let late: Promise<LocalServer> | undefined;
    const report = await runChecks(
      [defineCheck({ timeoutMs: 2000, url: `http://127.0.0.1:${port}/health` })],
      options,
      defaultEngineDeps(options, (line) => {
        logs.push(line);
        if (late === undefined && /connection refused/.test(line))
          late = serve((_req, res) => text(res, 200, 'up'), { port });
      }),
    );
    expect(late).toBeDefined();
    expect(report.healthy).toBe(true);
    expect(report.results[0].attempts).toBeGreaterThan(1);
    expect((await late!).requests()).toBe(1);
  });

  test('a server that resets connections for a while, then serves', async () => {
    const server = await serve((_req, res) => text(res, 200, 'up'), { resetFirst: 2 });
    const report = await check(fast(), { url: server.url('/health') });
    expect(report.results[0]).toMatchObject({ ok: true, status: 200, attempts: 3 });
    expect(server.resets()).toBe(2);
    expect(logs.filter((line) => /connection (reset|closed while sending)/.test(line))).toHaveLength(2);
  });

  test('503 while warming up, then 200', async () => {
    const server = await serve((_req, res, n) => (n <= 3 ? text(res, 503, 'warming up') : text(res, 200, 'ok')));
    const report = await check(fast(), { url: server.url('/') });
    expect(report.results[0]).toMatchObject({ ok: true, status: 200, attempts: 4 });
    expect(server.requests()).toBe(4);
  });

  test('a hanging server: the per-request timeout fires and the deadline holds', async () => {
    const server = await serve(() => undefined);
    const report = await check(fast({ deadlineMs: 1500 }), { url: server.url('/'), timeoutMs: 400 });
    expect(report.results[0]).toMatchObject({ ok: false, status: undefined });
    expect(report.results[0].reason).toMatch(
      /^no answer within the request timeout \(400 ms\); deadline of 1.5 s reached after \d attempts$/,
    );
    expect(report.results[0].attempts).toBeLessThanOrEqual(4);
  });

  test('a redirect to the login page fails with reject-redirect and is seen in the chain', async () => {
    const server = await serve((req, res) =>
      req.url === '/admin/'
        ? text(res, 302, '', { location: '/accounts/login/?next=/admin/' })
        : text(res, 200, '<form>Sign in</form>'),
    );
    const rejected = await check(fast(), { url: server.url('/admin/'), rejectRedirect: /\/login\// });
    expect(rejected.results[0]).toMatchObject({
      ok: false,
      attempts: 2,
      status: 200,
      redirects: [server.url('/accounts/login/?next=/admin/')],
      reason: `redirected to ${server.url('/accounts/login/?next=/admin/')}, which matches reject-redirect (2 times in a row)`,
    });
    // Without reject-redirect the login page is a 200, which is exactly what fools a plain check.
    expect((await check(fast(), { url: server.url('/admin/') })).healthy).toBe(true);
    // Not following: the 302 itself is judged.
    const unfollowed = await check(fast({ deadlineMs: 600 }), { url: server.url('/admin/'), followRedirects: false });
    expect(unfollowed.results[0]).toMatchObject({ ok: false, status: 302 });
    expect(unfollowed.results[0].reason).toMatch(/^HTTP 302 to .*\/accounts\/login\/\?next=\/admin\/, expected 2xx/);
  });

  test('the old release answers first, then the new one', async () => {
    const server = await serve((_req, res, n) =>
      json(res, 200, { status: 'ok', commit: n <= 3 ? 'a1b2c3d4e5f6' : 'f6e5d4c3b2a1' }),
    );
    const report = await check(fast(), {
      url: server.url('/health'),
      expectVersion: 'f6e5d4c3b2a1f00dfeedbeef0123456789abcdef',
      versionFrom: versionSource('json:$.commit'),
    });
    expect(report.results[0]).toMatchObject({ ok: true, attempts: 4, version: 'f6e5d4c3b2a1' });
    expect(logs.join('\n')).toMatch(/serves version a1b2c3d4e5f6 \(\$\.commit\), expected f6e5d4c3b2a1f00d/);
  });

  describe('TLS', () => {
    let certificate: SelfSignedCertificate;
    let server: LocalServer;
    beforeAll(async () => {
      certificate = selfSignedCertificate();
      server = await startServer((_req, res) => text(res, 200, 'secure ok'), { tls: certificate });
    });
    afterAll(async () => {
      await server.close();
      certificate.remove();
    });

    test('a self-signed certificate is refused by default, at once', async () => {
      const report = await check(fast(), { url: server.url('/') });
      expect(report.results[0]).toMatchObject({ ok: false, attempts: 1 });
      expect(report.results[0].reason).toMatch(/^TLS certificate not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    });

    test('accepted with the CA bundle, or with insecure', async () => {
      expect(
        (await check(fast({ tls: { insecure: false, ca: certificate.cert } }), { url: server.url('/') })).healthy,
      ).toBe(true);
      expect((await check(fast({ tls: { insecure: true } }), { url: server.url('/') })).healthy).toBe(true);
    });
  });

  test('twenty URLs are checked at the same time', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const slow = (_req: unknown, res: Parameters<Parameters<typeof startServer>[0]>[1]) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      setTimeout(() => {
        inFlight -= 1;
        text(res, 200, 'ok');
      }, 300);
    };
    const many = await Promise.all(Array.from({ length: 20 }, () => serve(slow)));
    const report = await check(fast(), ...many.map((s) => ({ url: s.url('/') })));
    expect(report).toMatchObject({ healthy: true, failedCount: 0 });
    expect(report.results).toHaveLength(20);
    expect(mostInFlight).toBe(20);
  });

  test('HEAD, request headers, credentials in the URL, and a body cut at the limit', async () => {
    const seen: Array<{ method?: string; auth?: string; accept?: string }> = [];
    const server = await serve((req, res) => {
      seen.push({ method: req.method, auth: req.headers.authorization, accept: req.headers.accept });
      text(res, 200, 'x'.repeat(200_000));
    });
    const url = server.url('/').replace('http://', 'http://ops:p%40ss@');
    const report = await runChecks(
      [
        defineCheck({ url, method: 'HEAD' }),
        defineCheck({ url: server.url('/big'), headers: { accept: 'text/plain' }, bodyContains: ['xxx'] }),
      ],
      fast({ maxBodyBytes: 1000 }),
      deps(fast()),
    );
    expect(report.healthy).toBe(true);
    expect(seen).toContainEqual({
      method: 'HEAD',
      auth: `Basic ${Buffer.from('ops:p@ss').toString('base64')}`,
      accept: undefined,
    });
    expect(seen).toContainEqual({ method: 'GET', auth: undefined, accept: 'text/plain' });
    expect(report.results[0].url).toBe(url.replace('p%40ss', '***'));
  });

  test('no header the user gave follows a redirect to another origin; on the same origin they all stay', async () => {
    const given = {
      'x-api-key': 'k1',
      'x-auth-token': 't2',
      authorization: 'Bearer b3',
      cookie: 'c=4',
      'x-tenant': 't5',
    };
    const seen: Record<string, Array<Record<string, unknown>>> = { same: [], other: [] };
    const other = await serve((req, res) => {
      seen.other.push(req.headers);
      text(res, 200, 'elsewhere');
    });
    const first = await serve((req, res) => {
      if (req.url === '/landing') {
        seen.same.push(req.headers);
        return text(res, 200, 'here');
      }
      text(res, 307, '', { location: req.url === '/same' ? '/landing' : other.url('/landing') });
    });
    await check(fast(), { url: first.url('/same'), headers: given }, { url: first.url('/away'), headers: given });
    for (const [name, value] of Object.entries(given)) {
      expect(seen.same[0][name]).toBe(value);
      expect(seen.other[0][name]).toBeUndefined();
    }
    await check(fast(), { url: first.url('/away'), headers: given, keepHeadersOnRedirect: true });
    for (const [name, value] of Object.entries(given)) expect(seen.other[1][name]).toBe(value);
  });

  test('credentials are not sent to another origin on a redirect', async () => {
    const seen: Array<string | undefined> = [];
    const other = await serve((req, res) => {
      seen.push(req.headers.authorization);
      text(res, 200, 'elsewhere');
    });
    const first = await serve((_req, res) => text(res, 307, '', { location: other.url('/landing') }));
    const report = await check(fast(), { url: first.url('/'), headers: { authorization: 'Bearer t0k3n-value' } });
    expect(report.healthy).toBe(true);
    expect(seen).toEqual([undefined]);
  });

  test('a redirect loop fails at once', async () => {
    const server = await serve((_req, res) => text(res, 302, '', { location: '/again' }));
    const report = await check(fast(), { url: server.url('/') });
    expect(report.results[0]).toMatchObject({
      ok: false,
      attempts: 1,
      reason: 'redirect loop (more than 10 redirects)',
    });
  });
});
