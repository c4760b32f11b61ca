import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ActionFailure } from '../../shared/errors.js';

/** Heroku's Platform API v3 media type: without it the API answers with its legacy, undocumented shapes. */
export const HEROKU_ACCEPT = 'application/vnd.heroku+json; version=3';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface HerokuApiOptions {
  /** https://api.heroku.com, or a proxy / a test stand-in. */
  baseUrl: URL;
  apiKey: string;
  /** Called with the key before any request is built, so nothing can print it unmasked. */
  setSecret(secret: string): void;
  sleep(ms: number): Promise<void>;
  /** Uniform in [0, 1): the backoff jitter. */
  random(): number;
  warning(message: string): void;
  /** Attempts per request, the first included (429 and retried 5xx answers count). */
  maxAttempts?: number;
  /** First backoff delay; doubled per attempt, capped at maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Per-request timeout (no answer at all). */
  timeoutMs?: number;
  userAgent?: string;
}

export interface ApiAnswer<T> {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: T;
}

/** An answer Heroku gave that is not a success: `id` is Heroku's error id (not_found, forbidden, …). */
export class HerokuApiError extends ActionFailure {
  constructor(
    message: string,
    readonly status: number,
    readonly errorId?: string,
  ) {
    super(message);
    this.name = 'HerokuApiError';
  }
}

export interface RetryDecision {
  retry: boolean;
  delayMs: number;
  reason?: string;
}

/** A Retry-After longer than this is not waited for in full: a deploy step should not hang for minutes. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** A thrown value's message, also for errors made in another realm (node internals seen from a test VM). */
function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** Methods whose repetition cannot do a thing twice: a POST that creates a build or a release is not one of them. */
export function isIdempotent(method: HttpMethod): boolean {
  return method === 'GET' || method === 'PUT' || method === 'DELETE' || method === 'PATCH';
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Whether to try again after an answer (status) or a network error (status 0), and how long to wait first.
 * 429 is always safe to repeat (Heroku did nothing); a 5xx or a lost connection only for idempotent methods,
 * since a POST may have created a build before the answer was lost. Backoff doubles with full jitter.
 */
export function decideRetry(
  method: HttpMethod,
  status: number,
  attempt: number,
  retryAfter: number | undefined,
  options: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; random: () => number },
): RetryDecision {
  if (attempt >= options.maxAttempts) return { retry: false, delayMs: 0 };
  const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(backoff / 2 + (options.random() * backoff) / 2);
  if (status === 429) {
    return { retry: true, delayMs: Math.min(retryAfter ?? jittered, MAX_RETRY_AFTER_MS), reason: 'rate limited' };
  }
  if (!isIdempotent(method)) return { retry: false, delayMs: 0 };
  if (status === 0) return { retry: true, delayMs: jittered, reason: 'connection failed' };
  if (status >= 500) return { retry: true, delayMs: retryAfter ?? jittered, reason: `HTTP ${status}` };
  return { retry: false, delayMs: 0 };
}

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * A small Platform API client on node:http(s). The key goes only into the Authorization header of requests to
 * the API's own origin: signed URLs (put_url, output streams) are other hosts and never see it.
 */
export class HerokuApi {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  /** Set when RateLimit-Remaining reached 0: the next request waits instead of collecting a 429. */
  private pauseMs = 0;
  /** Every request sent, for the summary (method and path, never a header). */
  readonly calls: string[] = [];

  constructor(private readonly options: HerokuApiOptions) {
    options.setSecret(options.apiKey);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.timeoutMs = options.timeoutMs ?? 30000;
  }

  get origin(): string {
    return this.options.baseUrl.origin;
  }

  get<T>(path: string, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    return this.request<T>('GET', path, undefined, headers);
  }

  post<T>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    return this.request<T>('POST', path, body);
  }

  patch<T>(path: string, body: unknown): Promise<ApiAnswer<T>> {
    return this.request<T>('PATCH', path, body);
  }

  /** A JSON request to the API, retried per decideRetry; throws HerokuApiError on an answer that is not 2xx. */
  async request<T>(
    method: HttpMethod,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(path.replace(/^\//, ''), this.options.baseUrl.href.replace(/\/?$/, '/'));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const requestHeaders: Record<string, string> = {
      Accept: HEROKU_ACCEPT,
      Authorization: `Bearer ${this.options.apiKey}`,
      'User-Agent': this.options.userAgent ?? 'runbook-deploy',
      ...headers,
    };
    if (payload) {
      requestHeaders['Content-Type'] = 'application/json';
      requestHeaders['Content-Length'] = String(payload.length);
    }
    for (let attempt = 1; ; attempt++) {
      if (this.pauseMs > 0) {
        const pause = this.pauseMs;
        this.pauseMs = 0;
        await this.options.sleep(pause);
      }
      this.calls.push(`${method} ${url.pathname}`);
      let answer: RawAnswer;
      try {
        answer = await send(url, method, requestHeaders, payload, this.timeoutMs);
      } catch (error) {
        const decision = this.decide(method, 0, attempt, undefined);
        if (!decision.retry) {
          throw new ActionFailure(`Heroku API ${method} ${url.pathname}: ${messageOf(error)}`);
        }
        this.options.warning(
          `Heroku API ${method} ${url.pathname}: ${decision.reason}; retrying in ${decision.delayMs} ms.`,
        );
        await this.options.sleep(decision.delayMs);
        continue;
      }
      if (answer.status >= 200 && answer.status < 300) {
        this.notePace(answer.headers);
        return { status: answer.status, headers: answer.headers, body: parseJson<T>(answer.text, method, url) };
      }
      const decision = this.decide(
        method,
        answer.status,
        attempt,
        retryAfterMs(header(answer.headers, 'retry-after'), Date.now()),
      );
      if (!decision.retry) throw apiError(method, url, answer);
      this.options.warning(
        `Heroku API ${method} ${url.pathname}: ${decision.reason}; retrying in ${decision.delayMs} ms (attempt ${attempt + 1} of ${this.maxAttempts}).`,
      );
      await this.options.sleep(decision.delayMs);
    }
  }

  /** Uploads a file to a signed URL: PUT with an empty Content-Type (the URL is signed for exactly that). */
  async upload(putUrl: string, file: string, size: number): Promise<void> {
    const url = new URL(putUrl);
    for (let attempt = 1; ; attempt++) {
      let status = 0;
      let text: string;
      try {
        const answer = await send(
          url,
          'PUT',
          { 'Content-Type': '', 'Content-Length': String(size) },
          () => createReadStream(file),
          this.timeoutMs * 4,
        );
        status = answer.status;
        text = answer.text;
        if (status >= 200 && status < 300) return;
      } catch (error) {
        text = messageOf(error);
      }
      const decision = this.decide('PUT', status, attempt, undefined);
      if (!decision.retry) {
        throw new ActionFailure(
          `Uploading the source to ${url.origin} failed: ${status ? `HTTP ${status} ` : ''}${text.slice(0, 200)}`,
        );
      }
      this.options.warning(`Source upload: ${decision.reason}; retrying in ${decision.delayMs} ms.`);
      await this.options.sleep(decision.delayMs);
    }
  }

  /**
   * Streams a build or release output URL into `onLine`, line by line, until the server closes it. The stream may
   * not exist yet for a moment (404): retried a few times. Never throws: a lost stream only costs log lines.
   */
  async stream(streamUrl: string, onLine: (line: string) => void, attempts = 10): Promise<boolean> {
    const url = new URL(streamUrl);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const status = await streamLines(url, onLine, this.timeoutMs * 20).catch(() => 0);
      if (status >= 200 && status < 300) return true;
      await this.options.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * attempt));
    }
    return false;
  }

  private decide(method: HttpMethod, status: number, attempt: number, retryAfter: number | undefined): RetryDecision {
    return decideRetry(method, status, attempt, retryAfter, {
      maxAttempts: this.maxAttempts,
      baseDelayMs: this.baseDelayMs,
      maxDelayMs: this.maxDelayMs,
      random: this.options.random,
    });
  }

  /** Heroku refills the token bucket continuously: at zero, a short pause beats a 429 and its retry. */
  private notePace(headers: http.IncomingHttpHeaders): void {
    const remaining = header(headers, 'ratelimit-remaining');
    if (remaining !== undefined && Number(remaining) <= 0) {
      this.pauseMs = retryAfterMs(header(headers, 'retry-after'), Date.now()) ?? this.baseDelayMs * 2;
      this.options.warning(`Heroku API rate limit reached; pausing ${this.pauseMs} ms before the next request.`);
    }
  }
}

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson<T>(text: string, method: string, url: URL): T {
  if (text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ActionFailure(`Heroku API ${method} ${url.pathname} answered with something that is not JSON.`);
  }
}

function apiError(method: string, url: URL, answer: RawAnswer): HerokuApiError {
  let id: string | undefined;
  let message = answer.text.slice(0, 300);
  try {
    const body = JSON.parse(answer.text) as { id?: string; message?: string };
    id = body.id;
    message = body.message ?? message;
  } catch {
    // Not JSON (a proxy's HTML page): the start of the text says enough.
  }
  const hint =
    answer.status === 401
      ? ' Check the heroku-api-key secret (a token from `heroku authorizations:create`).'
      : answer.status === 403 || answer.status === 404
        ? ' Check the app name and that the API key can access it.'
        : '';
  return new HerokuApiError(
    `Heroku API ${method} ${url.pathname} failed: HTTP ${answer.status}${id ? ` (${id})` : ''}: ${message}${hint}`,
    answer.status,
    id,
  );
}

type Body = Buffer | (() => NodeJS.ReadableStream) | undefined;

function transport(url: URL): typeof http | typeof https {
  if (url.protocol === 'https:') return https;
  if (url.protocol === 'http:') return http;
  throw new ActionFailure(`Unsupported URL scheme ${url.protocol} (${url.origin}).`);
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Body,
  timeoutMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = transport(url).request(url, { method, headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    if (typeof body === 'function') body().pipe(request);
    else request.end(body);
  });
}

/** GET a stream, handing each complete line to onLine as it arrives; resolves with the status once it ends. */
function streamLines(url: URL, onLine: (line: string) => void, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = transport(url).get(url, { timeout: timeoutMs }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        response.resume();
        response.on('end', () => resolve(status));
        return;
      }
      let pending = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) onLine(line.replace(/\r$/, ''));
      });
      response.on('end', () => {
        if (pending) onLine(pending);
        resolve(status);
      });
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`stream idle for ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
