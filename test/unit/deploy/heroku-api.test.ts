import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decideRetry,
  HerokuApi,
  HerokuApiError,
  isIdempotent,
  retryAfterMs,
} from '../../../actions/deploy/heroku/api.js';
import type { HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { fastApi, standInWithApp, type Recorded } from './heroku-world.js';

const policy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, random: () => 1 };

describe('retry decisions', () => {
  test('a 429 is always retried after Retry-After; a 5xx only for idempotent methods', () => {
    expect(decideRetry('POST', 429, 1, 3000, policy)).toEqual({ retry: true, delayMs: 3000, reason: 'rate limited' });
    expect(decideRetry('POST', 429, 1, undefined, policy).delayMs).toBe(100);
    expect(decideRetry('GET', 503, 1, undefined, policy)).toEqual({ retry: true, delayMs: 100, reason: 'HTTP 503' });
    expect(decideRetry('GET', 503, 3, undefined, policy).delayMs).toBe(400);
    expect(decideRetry('POST', 503, 1, undefined, policy).retry).toBe(false);
    expect(decideRetry('GET', 0, 1, undefined, policy).reason).toBe('connection failed');
    expect(decideRetry('GET', 404, 1, undefined, policy).retry).toBe(false);
    expect(decideRetry('GET', 503, 4, undefined, policy).retry).toBe(false);
    // Backoff is capped, and jitter keeps it between half and all of it.
    expect(decideRetry('GET', 500, 3, undefined, { ...policy, maxDelayMs: 150, random: () => 0 }).delayMs).toBe(75);
    expect(isIdempotent('PATCH')).toBe(true);
  });

  test('Retry-After in seconds or as an HTTP date', () => {
    expect(retryAfterMs('2', 0)).toBe(2000);
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    const now = Date.parse('2026-11-27T14:00:00Z');
    expect(retryAfterMs('Fri, 27 Nov 2026 14:00:05 GMT', now)).toBe(5000);
  });
});

describe('HerokuApi against the stand-in', () => {
  let standIn: HerokuStandIn;
  let recorded: Recorded;
  beforeEach(async () => {
    standIn = await standInWithApp();
    recorded = { secrets: [], warnings: [], lines: [], states: [], health: [], backups: [] };
  });
  afterEach(async () => {
    expect(standIn.violations).toEqual([]);
    await standIn.stop();
  });

  test('masks the key at once, sends it as a bearer header with the v3 media type', async () => {
    const api = fastApi(standIn, recorded);
    expect(recorded.secrets).toEqual([standIn.apiKey]);
    const { body } = await api.get<{ name: string }>('/apps/ocpizza');
    expect(body.name).toBe('ocpizza');
    expect(standIn.requests[0]).toMatchObject({ auth: 'valid', accept: 'application/vnd.heroku+json; version=3' });
    expect(api.calls).toEqual(['GET /apps/ocpizza']);
    expect(api.origin).toBe(standIn.url);
  });

  test('waits Retry-After on a 429 and retries a GET after a 503', async () => {
    const sleeps: number[] = [];
    const api = fastApi(standIn, recorded, standIn.apiKey, sleeps);
    standIn.failNext({ status: 429, retryAfterSeconds: 1 });
    standIn.failNext({ status: 503 });
    const { status } = await api.get('/apps/ocpizza');
    expect(status).toBe(200);
    // Retry-After 1 s wins over the backoff (then 20 ms with half jitter: 15); it is not waited twice for the 429's RateLimit-Remaining: 0.
    expect(sleeps).toEqual([1000, 15]);
    expect(standIn.requests.map((r) => r.status)).toEqual([429, 503, 200]);
    expect(recorded.warnings.join('\n')).toMatch(/rate limit|rate limited/);
  });

  test('does not repeat a POST after a 503 (it may have created something)', async () => {
    const api = fastApi(standIn, recorded);
    standIn.failNext({ status: 503, method: 'POST' });
    await expect(api.post('/sources', undefined)).rejects.toThrow(/POST \/sources failed: HTTP 503 \(unavailable\)/);
    expect(standIn.requests).toHaveLength(1);
  });

  test('a wrong key: 401 with a hint, and the key never in the message', async () => {
    const api = fastApi(standIn, recorded, 'wrong-key-0123456789');
    const error = (await api.get('/apps/ocpizza').catch((e: unknown) => e)) as HerokuApiError;
    expect(error).toBeInstanceOf(HerokuApiError);
    expect(error.status).toBe(401);
    expect(error.errorId).toBe('unauthorized');
    expect(error.message).toMatch(/heroku-api-key/);
    expect(error.message).not.toContain('wrong-key-0123456789');
    const missing = (await fastApi(standIn, recorded)
      .get('/apps/nope')
      .catch((e: unknown) => e)) as Error;
    expect(missing.message).toMatch(/HTTP 404 \(not_found\).*Check the app name/);
  });

  test('uploads with an empty content type and without the key; streams lines; gives up on a missing stream', async () => {
    const api = fastApi(standIn, recorded);
    const dir = mkdtempSync(join(tmpdir(), 'heroku-api-'));
    try {
      writeFileSync(join(dir, 'x.tgz'), 'tarball');
      const { body } = await api.post<{ source_blob: { put_url: string } }>('/sources', undefined);
      await api.upload(body.source_blob.put_url, join(dir, 'x.tgz'), 7);
      const put = standIn.requests.find((r) => r.method === 'PUT');
      expect(put).toMatchObject({ auth: 'none', status: 200 });
      await expect(api.upload(`${body.source_blob.put_url}x`, join(dir, 'x.tgz'), 7)).rejects.toThrow(/HTTP 403/);
      const lines: string[] = [];
      expect(await api.stream(`${standIn.url}/streams/unknown`, (l) => lines.push(l), 2)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HerokuApi against a misbehaving server', () => {
  let server: http.Server;
  let base: string;
  let answers: ((res: http.ServerResponse) => void)[];
  beforeEach(async () => {
    answers = [];
    server = http.createServer((_req, res) => (answers.shift() ?? ((r) => r.writeHead(500).end()))(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function api(warnings: string[], sleeps: number[] = []): HerokuApi {
    return new HerokuApi({
      baseUrl: new URL(`${base}/prefix`),
      apiKey: 'k',
      setSecret: () => undefined,
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0,
      warning: (m) => warnings.push(m),
      maxAttempts: 3,
      baseDelayMs: 10,
    });
  }

  test('an answer that is not JSON, an empty body, and a proxy error page', async () => {
    const warnings: string[] = [];
    answers.push((r) => r.writeHead(200).end('<html>'));
    await expect(api(warnings).get('/x')).rejects.toThrow(/not JSON/);
    answers.push((r) => r.writeHead(202).end(''));
    expect((await api(warnings).get('/x')).body).toBeUndefined();
    answers.push((r) => r.writeHead(400).end('<html>Bad gateway</html>'));
    await expect(api(warnings).patch('/x', {})).rejects.toThrow(/HTTP 400: <html>Bad gateway/);
  });

  test('pauses before the next request when RateLimit-Remaining reaches 0', async () => {
    const warnings: string[] = [];
    const sleeps: number[] = [];
    const client = api(warnings, sleeps);
    answers.push((r) => r.writeHead(200, { 'RateLimit-Remaining': '0' }).end('{}'));
    answers.push((r) => r.writeHead(200).end('{}'));
    await client.get('/a');
    await client.get('/b');
    expect(sleeps).toEqual([20]);
    expect(warnings[0]).toMatch(/rate limit reached/);
  });

  test('a dropped connection is retried for a GET, then reported', async () => {
    const warnings: string[] = [];
    for (let i = 0; i < 3; i++) answers.push((r) => r.socket?.destroy());
    await expect(api(warnings).get('/a')).rejects.toThrow(/Heroku API GET \/prefix\/a: socket hang up/);
    expect(warnings).toHaveLength(2);
  });

  test('a failing upload is retried, then reported with its status', async () => {
    const warnings: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'heroku-api-'));
    writeFileSync(join(dir, 'f'), 'x');
    try {
      for (let i = 0; i < 3; i++) answers.push((r) => r.writeHead(502).end('bad'));
      await expect(api(warnings).upload(`${base}/put`, join(dir, 'f'), 1)).rejects.toThrow(/HTTP 502 bad/);
      expect(warnings).toHaveLength(2);
      await expect(api(warnings).upload('ftp://x/y', join(dir, 'f'), 1)).rejects.toThrow(/Unsupported URL scheme/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('settleStream', () => {
  test('returns when the stream ends, or after the grace period when it never does', async () => {
    const { settleStream } = await import('../../../actions/deploy/heroku/build.js');
    await expect(settleStream(Promise.resolve(true), 10_000)).resolves.toBe(true);
    await expect(settleStream(new Promise<boolean>(() => undefined), 20)).resolves.toBeUndefined();
  });
});
