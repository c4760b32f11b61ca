import { ConfigurationError } from '../shared/errors.js';
import type { JsonPath } from './json-path.js';
import { parseJsonPath } from './json-path.js';
import type { StatusSet } from './status-set.js';
import { parseStatusSet } from './status-set.js';
import { excerpt } from '../shared/untrusted-text.js';

export type HttpMethod = 'GET' | 'HEAD';
export const HTTP_METHODS: readonly HttpMethod[] = ['GET', 'HEAD'];

/** Where the release identity is read from in an answer. */
export type VersionSource =
  | { readonly kind: 'body' }
  | { readonly kind: 'header'; readonly name: string }
  | { readonly kind: 'json'; readonly path: JsonPath };

export interface HeaderExpectation {
  readonly name: string;
  readonly equals?: string;
  readonly contains?: string;
}

/** One URL to check and what its answer must look like. */
export interface CheckSpec {
  readonly url: URL;
  /** Display name; the redacted URL when not given. */
  readonly name?: string;
  readonly method: HttpMethod;
  readonly expectedStatus: StatusSet;
  readonly bodyContains: readonly string[];
  readonly bodyRegex?: RegExp;
  readonly json?: { readonly path: JsonPath; readonly equals?: string };
  readonly headerExpectations: readonly HeaderExpectation[];
  /** The release that must answer (a commit sha, a release id); unset: any release will do. */
  readonly expectVersion?: string;
  readonly versionFrom: VersionSource;
  readonly maxLatencyMs?: number;
  readonly followRedirects: boolean;
  readonly rejectRedirect?: RegExp;
  readonly rejectBody?: RegExp;
  /** Request headers, including Authorization for basic or bearer auth. */
  readonly headers: Readonly<Record<string, string>>;
  /** Send `headers` on to another origin when a redirect leads there (default: only to the URL's own origin). */
  readonly keepHeadersOnRedirect?: boolean;
  /** Per-request timeout. */
  readonly timeoutMs: number;
}

/** Settings shared by all checks of one run. */
export interface RunOptions {
  /** Overall time budget of the run; no request starts or continues past it. */
  readonly deadlineMs: number;
  /** Consecutive passing answers a check needs before it is declared healthy. */
  readonly stableFor: number;
  /** Statuses that end a check early when seen `failFastAfter` times in a row. */
  readonly failFastStatuses: StatusSet;
  readonly failFastAfter: number;
  /** First backoff cap; the cap doubles after each failed attempt up to maxIntervalMs. */
  readonly initialIntervalMs: number;
  readonly maxIntervalMs: number;
  readonly tls: { readonly ca?: string; readonly insecure: boolean };
  /** How much of each body is read and kept (assertions and the failure excerpt). */
  readonly maxBodyBytes: number;
  readonly maxRedirects: number;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  deadlineMs: 120_000,
  stableFor: 1,
  failFastStatuses: parseStatusSet('fail-fast-statuses', '404,500'),
  failFastAfter: 2,
  initialIntervalMs: 500,
  maxIntervalMs: 2_000,
  tls: { insecure: false },
  maxBodyBytes: 1024 * 1024,
  maxRedirects: 10,
};

/**
 * A check with the action's defaults for whatever is not given: what the deploy action uses for its health
 * gate, e.g. `defineCheck({ url, expectVersion: sha, versionFrom: versionSource('json:$.commit') })`.
 */
export function defineCheck(check: Omit<Partial<CheckSpec>, 'url'> & { url: URL | string }): CheckSpec {
  return {
    method: 'GET',
    expectedStatus: parseStatusSet('expected-status', '2xx'),
    bodyContains: [],
    headerExpectations: [],
    versionFrom: { kind: 'body' },
    followRedirects: true,
    headers: {},
    timeoutMs: 10_000,
    ...check,
    url: typeof check.url === 'string' ? new URL(check.url) : check.url,
  };
}

/** `body`, `header:<Name>` or `json:<path>`; throws a ConfigurationError naming input `name`. */
export function versionSource(text: string, name = 'version-from'): VersionSource {
  const trimmed = text.trim();
  if (trimmed === 'body') return { kind: 'body' };
  const header = /^header\s*:\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(trimmed);
  if (header) return { kind: 'header', name: header[1].toLowerCase() };
  const json = /^json\s*:\s*(.+)$/.exec(trimmed);
  if (json) return { kind: 'json', path: parseJsonPath(name, json[1]) };
  throw new ConfigurationError(
    `Input '${name}' must be body, header:<Header-Name> or json:<path> (e.g. json:$.commit); got '${excerpt(trimmed)}'.`,
  );
}
