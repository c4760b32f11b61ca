import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import type { HttpMethod } from './check-spec.js';
import { safeDecode } from '../shared/database-url.js';

export interface ProbeRequest {
  readonly url: URL;
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  /** Covers the whole redirect chain, body included. */
  readonly timeoutMs: number;
  readonly followRedirects: boolean;
  readonly maxRedirects: number;
  readonly maxBodyBytes: number;
  /** Send `headers` to another origin too when a redirect leads there; by default they stay with the first one. */
  readonly keepHeadersOnRedirect?: boolean;
}

/** One answer in a redirect chain. */
export interface ProbeHop {
  readonly url: URL;
  readonly status: number;
  readonly location?: URL;
}

export type ProbeOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      /** Lower-case names; repeated headers joined with ', '. */
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string;
      readonly url: URL;
      readonly hops: readonly ProbeHop[];
      readonly latencyMs: number;
    }
  | {
      readonly kind: 'error';
      /** A Node error code (ECONNREFUSED, ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT…) or TIMEOUT, TOO_MANY_REDIRECTS. */
      readonly code: string;
      readonly message: string;
      readonly hops: readonly ProbeHop[];
      readonly latencyMs: number;
    };

/** Sends one probe (following redirects when asked) and never throws: failures come back as outcomes. */
export type HttpRequester = (request: ProbeRequest) => Promise<ProbeOutcome>;

export interface TlsSettings {
  /** Extra PEM certificates trusted on top of Node's bundled roots (a private CA). */
  readonly ca?: string;
  readonly insecure: boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** What the requester adds itself: the only header that follows a redirect to another origin by default. */
const OWN_HEADERS = { 'user-agent': 'runbook-smoke-check' };

/**
 * A requester over node:http and node:https. Global fetch (undici) cannot take a CA bundle per request
 * without undici's own Agent, and follows redirects out of sight; here every hop is seen, so a redirect to
 * a login page is known, and TLS trust is set on our own agents.
 */
export function createHttpRequester(tls: TlsSettings, clock: () => number = performanceNow): HttpRequester {
  // keepAlive off: every attempt measures a fresh connection, as a user's first request after a deploy does.
  const httpAgent = new http.Agent({ keepAlive: false });
  const httpsAgent = new https.Agent({
    keepAlive: false,
    rejectUnauthorized: !tls.insecure,
    ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
  });
  return async (request) => {
    const started = clock();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), request.timeoutMs);
    const hops: ProbeHop[] = [];
    let url = request.url;
    let headers: Record<string, string> = { ...OWN_HEADERS, ...request.headers };
    try {
      for (;;) {
        const answer = await send(
          url,
          request,
          headers,
          url.protocol === 'https:' ? httpsAgent : httpAgent,
          controller,
        );
        const locationHeader = answer.headers.location;
        const location =
          locationHeader && REDIRECT_STATUSES.has(answer.status) ? safeUrl(locationHeader, url) : undefined;
        hops.push({ url, status: answer.status, location });
        if (!location || !request.followRedirects) {
          return { kind: 'response', ...answer, url, hops, latencyMs: clock() - started };
        }
        if (hops.length > request.maxRedirects) {
          return {
            kind: 'error',
            code: 'TOO_MANY_REDIRECTS',
            message: `more than ${request.maxRedirects} redirects`,
            hops,
            latencyMs: clock() - started,
          };
        }
        // Any header the user gave may be a credential (X-Api-Key, X-Auth-Token…), not only Authorization and
        // Cookie: none goes to another origin unless asked, as curl without --location-trusted behaves.
        if (location.origin !== url.origin && !request.keepHeadersOnRedirect) headers = { ...OWN_HEADERS };
        url = location;
      }
    } catch (error) {
      const timedOut = controller.signal.aborted;
      const err = error as NodeJS.ErrnoException;
      return {
        kind: 'error',
        code: timedOut ? 'TIMEOUT' : (err.code ?? 'EUNKNOWN'),
        message: timedOut ? `no complete answer within ${request.timeoutMs} ms` : err.message,
        hops,
        latencyMs: clock() - started,
      };
    } finally {
      clearTimeout(timer);
    }
  };
}

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function send(
  url: URL,
  request: ProbeRequest,
  headers: Record<string, string>,
  agent: http.Agent,
  controller: AbortController,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const auth = url.username ? `${safeDecode(url.username)}:${safeDecode(url.password)}` : undefined;
    const req = transport.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers,
        agent,
        signal: controller.signal,
        ...(auth && !hasHeader(headers, 'authorization') ? { auth } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: flattenHeaders(res.headers),
            body: Buffer.concat(chunks).toString('utf8'),
          });
        res.on('data', (chunk: Buffer) => {
          if (size >= request.maxBodyBytes) return;
          chunks.push(chunk.subarray(0, request.maxBodyBytes - size));
          size += chunk.length;
          // Enough to judge: a health check must not download a large page to the end.
          if (size >= request.maxBodyBytes) {
            res.destroy();
            finish();
          }
        });
        res.on('end', finish);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

function safeUrl(location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}

function performanceNow(): number {
  return performance.now();
}
