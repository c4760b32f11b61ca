// The smoke-check bundle run the way the runner runs it, against real local servers: late starters, restarts,
// hangs, login redirects, old releases, private TLS, twenty URLs, and nginx → gunicorn serving the Django fixture.
import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StepResult } from '../harness/index.js';
import { runAction } from '../harness/index.js';
import type { LocalServer, SelfSignedCertificate } from '../support/smoke-check-servers.js';
import { injectedCommands, runnerLines } from '../support/workflow-command-lines.js';
import { json, selfSignedCertificate, startServer, text } from '../support/smoke-check-servers.js';

jest.setTimeout(90_000);

const NEW_SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b';
const OLD_SHA = '2c26b46b68ffc68ff99b453c1d30413413422d70';

// Short intervals keep the suite quick; the defaults are for real deploys.
const quick = { 'initial-interval': '200ms', 'max-interval': '1s', deadline: '20s', timeout: '3s' };

interface Result {
  name: string;
  url: string;
  ok: boolean;
  status: number | null;
  latencyMs: number | null;
  attempts: number;
  reason: string;
  version?: string;
  redirects: string[];
}

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});
async function serve(...args: Parameters<typeof startServer>): Promise<LocalServer> {
  const server = await startServer(...args);
  cleanups.push(() => server.close());
  return server;
}
function smokeCheck(inputs: Record<string, string>, secrets: string[] = []): Promise<StepResult> {
  return runAction({ action: 'smoke-check', inputs: { ...quick, ...inputs }, secrets, github: { sha: NEW_SHA } });
}
const results = (step: StepResult): Result[] => JSON.parse(step.outputs.results) as Result[];
const errors = (step: StepResult) => step.annotations.filter((a) => a.level === 'error');

describe('smoke-check end to end', () => {
  test('a server that resets connections for a while, then serves', async () => {
    // Counted resets, not a head start in time: the outcome is the same however slowly the bundle starts.
    const server = await serve((_req, res) => json(res, 200, { status: 'ok' }), { resetFirst: 2 });
    const step = await smokeCheck({ urls: server.url('/health'), 'json-path': '$.status', 'json-equals': 'ok' });
    expect(step.exitCode).toBe(0);
    expect(step.outputs).toMatchObject({ healthy: 'true', 'failed-count': '0' });
    expect(Number(step.outputs['duration-ms'])).toBeGreaterThan(0);
    const [result] = results(step);
    expect(result).toMatchObject({ url: server.url('/health'), ok: true, status: 200, reason: 'healthy', attempts: 3 });
    expect(server.resets()).toBe(2);
    expect(step.log.match(/connection (reset|closed while sending) after \d+ ms; next try in \d+ ms/g)).toHaveLength(2);
    expect(step.summary).toContain('## Smoke check: healthy ✅');
    expect(errors(step)).toEqual([]);
  });

  test('503 while the app restarts, then 200', async () => {
    const server = await serve((_req, res, n) => (n <= 2 ? text(res, 503, 'restarting') : text(res, 200, 'Welcome')));
    const step = await smokeCheck({ urls: server.url('/'), 'body-contains': 'Welcome' });
    expect(step.exitCode).toBe(0);
    expect(results(step)[0]).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(step.log).toMatch(/HTTP 503 \(not ready yet\)/);
  });

  test('a hanging server: the request timeout fires, the deadline holds, the step fails', async () => {
    const server = await serve(() => undefined);
    const step = await smokeCheck({ urls: server.url('/'), timeout: '500ms', deadline: '2s' });
    expect(step.exitCode).toBe(1);
    expect(step.outputs.healthy).toBe('false');
    const [result] = results(step);
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.reason).toMatch(
      /^no answer within the request timeout \(500 ms\); deadline of 2 s reached after \d attempts$/,
    );
    expect(errors(step).map((a) => a.message)).toEqual([
      result.reason,
      `1 of 1 smoke checks failed; first: ${server.url('/')}: ${result.reason}`,
    ]);
    expect(step.summary).toContain('<p>No answer: no answer within the request timeout');
  });

  test('a redirect to the login page is not a success', async () => {
    const server = await serve((req, res) =>
      req.url === '/dashboard/'
        ? text(res, 302, '', { location: '/accounts/login/?next=/dashboard/' })
        : text(res, 200, '<form><input name="password"></form>'),
    );
    const step = await smokeCheck({ urls: server.url('/dashboard/'), 'reject-redirect': '/accounts/login/' });
    expect(step.exitCode).toBe(1);
    const [result] = results(step);
    expect(result).toMatchObject({
      ok: false,
      attempts: 2,
      redirects: [server.url('/accounts/login/?next=/dashboard/')],
    });
    expect(result.reason).toBe(
      `redirected to ${server.url('/accounts/login/?next=/dashboard/')}, which matches reject-redirect (2 times in a row)`,
    );
    expect(errors(step)[0].properties.title).toBe(`Smoke check failed: ${server.url('/dashboard/')}`);
    expect(step.summary).toContain('Redirected through: <code>');
    expect(step.summary).toContain('&lt;form&gt;');
  });

  test('the old release answers first, then the commit being deployed', async () => {
    const server = await serve((_req, res, n) =>
      json(res, 200, { status: 'ok', commit: n <= 3 ? OLD_SHA : NEW_SHA.slice(0, 12) }),
    );
    const step = await smokeCheck({
      urls: server.url('/health'),
      'expect-version': NEW_SHA,
      'version-from': 'json:$.commit',
    });
    expect(step.exitCode).toBe(0);
    expect(results(step)[0]).toMatchObject({ ok: true, attempts: 4, version: NEW_SHA.slice(0, 12) });
    expect(step.log).toContain(`serves version ${OLD_SHA} ($.commit), expected ${NEW_SHA}`);
  });

  test('a release that never arrives fails at the deadline, naming the version it saw', async () => {
    const server = await serve((_req, res) => json(res, 200, { commit: OLD_SHA }, { 'x-release': 'v41' }));
    const step = await smokeCheck({
      urls: server.url('/health'),
      'expect-version': 'v42',
      'version-from': 'header:X-Release',
      deadline: '1500ms',
      'fail-on-unhealthy': 'false',
    });
    expect(step.exitCode).toBe(0);
    expect(step.outputs).toMatchObject({ healthy: 'false', 'failed-count': '1' });
    expect(results(step)[0].reason).toMatch(
      /^serves version v41 \(header x-release\), expected v42; deadline of 1.5 s reached/,
    );
    expect(step.annotations.filter((a) => a.level === 'warning')).toHaveLength(1);
    expect(step.summary).toContain('## Smoke check: unhealthy ❌');
  });

  describe('TLS with a self-signed certificate', () => {
    let certificate: SelfSignedCertificate;
    let server: LocalServer;
    beforeAll(async () => {
      certificate = selfSignedCertificate();
      cleanups.push(() => certificate.remove());
      server = await serve((_req, res) => text(res, 200, 'secure ok'), { tls: certificate });
    });

    test('refused by default, at once', async () => {
      const step = await smokeCheck({ urls: server.url('/') });
      expect(step.exitCode).toBe(1);
      expect(results(step)[0]).toMatchObject({ ok: false, attempts: 1 });
      expect(results(step)[0].reason).toMatch(
        /^TLS certificate not trusted \(DEPTH_ZERO_SELF_SIGNED_CERT\); give the private CA in ca-bundle$/,
      );
    });

    test('accepted with the CA bundle', async () => {
      const step = await smokeCheck({
        urls: server.url('/'),
        'ca-bundle': certificate.certPath,
        'body-contains': 'secure ok',
      });
      expect(step.exitCode).toBe(0);
      expect(step.summary).toContain('verified against the system roots and the given `ca-bundle`');
    });

    test('accepted with insecure: true, which is shown', async () => {
      const step = await smokeCheck({ urls: server.url('/'), insecure: 'true' });
      expect(step.exitCode).toBe(0);
      expect(step.annotations.filter((a) => a.level === 'warning').map((a) => a.message)).toEqual([
        'TLS certificates are not verified for this check (insecure: true).',
      ]);
      expect(step.summary).toContain('TLS certificates were **not verified**');
    });
  });

  test('twenty URLs at once', async () => {
    let inFlight = 0;
    let mostInFlight = 0;
    const servers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        serve((_req, res) => {
          inFlight += 1;
          mostInFlight = Math.max(mostInFlight, inFlight);
          setTimeout(() => {
            inFlight -= 1;
            text(res, i === 13 ? 500 : 200, i === 13 ? 'Internal Server Error' : 'ok');
          }, 400);
        }),
      ),
    );
    const checks = servers.map((s, i) => `- url: ${s.url(`/page-${i}`)}\n  name: page ${i}`).join('\n');
    const step = await smokeCheck({ checks, 'fail-fast-after': '1' });
    expect(step.exitCode).toBe(1);
    expect(step.outputs['failed-count']).toBe('1');
    const all = results(step);
    expect(all).toHaveLength(20);
    expect(all.filter((r) => r.ok)).toHaveLength(19);
    expect(all[13]).toMatchObject({ name: 'page 13', ok: false, status: 500, reason: 'HTTP 500, expected 2xx' });
    expect(mostInFlight).toBe(20);
    expect(step.summary.match(/✅ pass/g)).toHaveLength(19);
    expect(step.summary).toContain('| page 13 | ❌ fail | 500 |');
  });

  test('secrets in URLs, auth inputs and headers never reach the log, summary or outputs', async () => {
    const seen: Array<Record<string, string | undefined>> = [];
    const server = await serve((req, res) => {
      seen.push({ url: req.url, authorization: req.headers.authorization, key: req.headers['x-api-key'] as string });
      // A debug page that echoes the request: the excerpt in the summary must still be masked.
      text(res, 500, `<pre>${req.url}\n${req.headers.authorization}\n${req.headers['x-api-key']}</pre>`);
    });
    const password = 'url-pa55-Zq81';
    const token = 'qtok-7d1e55aa';
    const bearer = 'bearer-c0ffee-9911';
    const apiKey = 'apikey-5e5e5e-77';
    const site = server.url(`/private?token=${token}`).replace('http://', `http://deploy:${password}@`);
    const step = await smokeCheck(
      {
        checks: `- url: ${site}\n- url: ${server.url('/api')}\n  bearer-token: ${bearer}\n  headers: "X-Api-Key: ${apiKey}"`,
        'fail-fast-after': '1',
      },
      [password, token, bearer, apiKey],
    );
    expect(step.exitCode).toBe(1);
    expect(step.masks).toEqual(expect.arrayContaining([password, token, bearer, apiKey]));
    expect(seen).toContainEqual({
      url: `/private?token=${token}`,
      authorization: `Basic ${Buffer.from(`deploy:${password}`).toString('base64')}`,
      key: undefined,
    });
    expect(seen).toContainEqual({ url: '/api', authorization: `Bearer ${bearer}`, key: apiKey });
    expect(results(step)[0].url).toBe(server.url('/private?token=***').replace('http://', 'http://deploy:***@'));
    expect(step.summary).toContain('Bearer ***');
  });

  test('bad input: one error naming the input, and no request sent', async () => {
    const server = await serve((_req, res) => text(res, 200, 'ok'));
    for (const [inputs, message] of [
      [{ urls: server.url('/'), method: 'POST' }, "Input 'method' must be one of GET, HEAD; got 'POST'."],
      [{ urls: server.url('/'), 'expected-status': '2xx,20' }, /^Input 'expected-status' must list HTTP statuses/],
      [{ urls: server.url('/'), timeout: '0s' }, /^Input 'timeout' must be a duration above zero/],
      [{ urls: server.url('/'), 'body-regex': '(' }, /^Input 'body-regex' must be a regular expression/],
      [{ checks: `- url: ${server.url('/')}\n url: [` }, /^Input 'checks' must be a YAML list/],
      [{ urls: 'localhost:8000/health' }, /^Input 'urls' must use http or https; got 'localhost'/],
      [{ urls: 'example.com/health' }, /^Input 'urls' must be an absolute URL with a scheme/],
    ] as Array<[Record<string, string>, string | RegExp]>) {
      const step = await smokeCheck(inputs);
      expect(step.exitCode).toBe(1);
      expect(errors(step)).toHaveLength(1);
      expect(errors(step)[0].message).toMatch(message);
      expect(step.log).not.toMatch(/\n\s+at /);
      expect(step.outputs).toEqual({});
    }
    expect(server.requests()).toBe(0);
  });
});

describe('smoke-check against nginx → gunicorn serving the Django fixture', () => {
  let site: string;
  beforeAll(async () => {
    const { startDjangoApp } = await import('../testbed/django-app.js');
    const { startNginx } = await import('../testbed/nginx.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-check-django-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const app = await startDjangoApp({
      databaseUrl: `sqlite:///${path.join(dir, 'db.sqlite3')}`,
      commit: NEW_SHA,
      release: 'r-e2e',
      workers: 1,
    });
    cleanups.push(() => app.stop());
    const nginx = await startNginx({ upstream: `127.0.0.1:${app.port}` });
    cleanups.push(() => nginx.stop());
    site = nginx.url.replace(/\/$/, '');
  }, 60_000);

  test('the new commit answers /health; the admin is a login redirect', async () => {
    const checks = [
      `- url: ${site}/health`,
      '  name: health',
      '  expect-version: ' + NEW_SHA,
      '  version-from: json:$.commit',
      '  json-path: $.database',
      '  json-equals: ok',
      '  header: "Cache-Control: no-store"',
      `- url: ${site}/admin/`,
      '  name: admin',
      '  reject-redirect: /login/',
    ].join('\n');
    const step = await smokeCheck({ checks, 'fail-on-unhealthy': 'false' });
    expect(step.exitCode).toBe(0);
    const [health, admin] = results(step);
    expect(health).toMatchObject({ name: 'health', ok: true, status: 200, version: NEW_SHA, attempts: 1 });
    expect(admin).toMatchObject({ name: 'admin', ok: false });
    expect(admin.reason).toMatch(/^redirected to .*\/admin\/login\/\?next=\/admin\/, which matches reject-redirect/);
    expect(step.outputs).toMatchObject({ healthy: 'false', 'failed-count': '1' });
  });
});

describe('what a server cannot do to the job', () => {
  // Header names people use for API credentials; the action masks some of them, but masking does not stop a send.
  const GIVEN = {
    'x-api-key': 'k-3f9a1c7e',
    'x-auth-token': 't-8b2d4f60',
    'x-tenant': 'ocpizza',
    cookie: 'sessionid=s-1d5e9a0b',
  };
  const headerLines = Object.entries(GIVEN)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\n');

  async function redirectPair() {
    const seenByOther: Array<Record<string, string | string[] | undefined>> = [];
    const other = await serve((req, res) => {
      seenByOther.push(req.headers);
      text(res, 200, 'ok');
    });
    const first = await serve((_req, res) => text(res, 302, '', { location: other.url('/landing') }));
    return { first, seenByOther };
  }

  test('no request header goes to another origin on a redirect, unless keep-headers-on-redirect says so', async () => {
    const secrets = Object.values(GIVEN).filter((v) => v !== 'ocpizza');
    const { first, seenByOther } = await redirectPair();
    const step = await smokeCheck({ urls: first.url('/'), headers: headerLines, 'basic-auth': 'ops:b-42c7e1' }, [
      ...secrets,
      'b-42c7e1',
    ]);
    expect(step.exitCode).toBe(0);
    expect(seenByOther).toHaveLength(1);
    for (const name of [...Object.keys(GIVEN), 'authorization']) expect(seenByOther[0][name]).toBeUndefined();
    expect(seenByOther[0]['user-agent']).toBe('runbook-smoke-check');

    const kept = await redirectPair();
    const keptStep = await smokeCheck(
      { urls: kept.first.url('/'), headers: headerLines, 'keep-headers-on-redirect': 'true' },
      secrets,
    );
    expect(keptStep.exitCode).toBe(0);
    for (const [name, value] of Object.entries(GIVEN)) expect(kept.seenByOther[0][name]).toBe(value);
  });

  test('text from the server cannot become a workflow command, whichever way it is quoted', async () => {
    const hostile: Record<string, (res: Parameters<typeof text>[0]) => void> = {
      '/json-lf': (res) => json(res, 200, { commit: 'abc1234\n::error title=FORGED::deploy of FORGED failed' }),
      '/json-cr': (res) => json(res, 200, { commit: 'abc1234\r::add-mask::Healthy' }),
      '/json-stop': (res) => json(res, 200, { commit: 'abc1234\n::stop-commands::FORGEDTOKEN' }),
      '/json-equals': (res) => json(res, 200, { database: 'down\n::warning::FORGED' }),
      '/header': (res) => text(res, 200, 'ok', { 'x-release': '##[error]FORGED legacy command' }),
      '/redirect': (res) => text(res, 302, '', { location: '/login##[error]FORGED' }),
      '/long': (res) => json(res, 200, { commit: 'x'.repeat(200_000) }),
    };
    const server = await serve((req, res) => {
      const path = (req.url ?? '/').split('#')[0];
      (hostile[path] ?? ((r) => text(r, 200, 'login page')))(res);
    });
    const checks = [
      ...['/json-lf', '/json-cr', '/json-stop', '/long'].map(
        (path) => `- url: ${server.url(path)}\n  version-from: json:$.commit\n  expect-version: ${NEW_SHA}`,
      ),
      `- url: ${server.url('/json-equals')}\n  json-path: $.database\n  json-equals: ok`,
      `- url: ${server.url('/header')}\n  version-from: header:X-Release\n  expect-version: ${NEW_SHA}`,
      `- url: ${server.url('/redirect')}\n  reject-redirect: /login/`,
    ].join('\n');
    const step = await smokeCheck({ checks, deadline: '2s' });

    expect(step.exitCode).toBe(1);
    // The step's own annotations quote the reasons (escaped); any other command, or a legacy one, was forged.
    const own = /^::error( title=Smoke check failed%3A [^:]*)?::(?!.*##\[)/;
    expect(injectedCommands(step.log).filter((line) => !own.test(line))).toEqual([]);
    expect(step.masks).toEqual([]);
    // Commands still work after the run (nothing stopped them): the step's own failure is an annotation.
    expect(errors(step).at(-1)?.message).toMatch(/^7 of 7 smoke checks failed/);
    expect(errors(step).filter((a) => /FORGED/.test(a.properties.title ?? ''))).toEqual([]);
    const reasons = results(step).map((r) => r.reason);
    for (const reason of reasons) expect(reason).not.toMatch(/[\r\n\u2028\u2029]/);
    expect(reasons).toContainEqual(expect.stringMatching(/^\$\.database is down\\n::warning::FORGED, expected ok/));
    // Bounded: 200 KB of version never reaches the log whole.
    expect(Math.max(...runnerLines(step.log).map((line) => line.length))).toBeLessThan(4000);
    expect(step.summary.length).toBeLessThan(40_000);
  });
});
