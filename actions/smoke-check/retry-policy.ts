import { redactUrl } from '../shared/inputs.js';
import { untrustedText } from '../shared/untrusted-text.js';
import type { CheckSpec, RunOptions } from './check-spec.js';
import type { ProbeOutcome } from './http-probe.js';
import { describeJsonValue, evaluateJsonPath, jsonValueEquals } from './json-path.js';
import { statusInSet } from './status-set.js';

/**
 * What one attempt says about a check:
 * - pass: the answer meets every expectation;
 * - retry: the site may still be warming up (refused, reset, timeout, 502/503/504, old version, a body
 *   that does not match yet): try again within the deadline;
 * - definitive: an answer that will not change by waiting (a fail-fast status, a redirect to a login page,
 *   a rejected body); the check stops when it is seen `fail-fast-after` times in a row, so one stray 500
 *   during a reload does not fail a deploy;
 * - fatal: retrying cannot help (the TLS certificate is not trusted, a redirect loop): stop now.
 */
export type Verdict =
  | { readonly kind: 'pass'; readonly version?: string }
  | { readonly kind: 'retry' | 'definitive' | 'fatal'; readonly reason: string; readonly version?: string };

const TRANSIENT_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ECONNABORTED: 'connection aborted',
  ENOTFOUND: 'host name not resolvable (yet)',
  EAI_AGAIN: 'host name lookup failed temporarily',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connection timed out',
  TIMEOUT: 'no answer within the request timeout',
  HPE_INVALID_CONSTANT: 'malformed HTTP answer',
  UND_ERR_SOCKET: 'connection closed',
};

/** Statuses a proxy or platform gives while the app behind it restarts. */
const WARMING_STATUSES = new Set([408, 425, 429, 502, 503, 504]);

export function judgeAttempt(
  check: CheckSpec,
  outcome: ProbeOutcome,
  options: Pick<RunOptions, 'failFastStatuses'>,
): Verdict {
  if (outcome.kind === 'error') {
    if (outcome.code === 'TOO_MANY_REDIRECTS') return { kind: 'fatal', reason: `redirect loop (${outcome.message})` };
    if (isTlsTrustError(outcome.code)) {
      return {
        kind: 'fatal',
        reason: `TLS certificate not trusted (${outcome.code}); give the private CA in ca-bundle`,
      };
    }
    const known = TRANSIENT_ERRORS[outcome.code];
    const detail = outcome.code === 'TIMEOUT' ? `${known} (${check.timeoutMs} ms)` : known;
    return { kind: 'retry', reason: detail ?? `${untrustedText(outcome.code)}: ${untrustedText(outcome.message)}` };
  }

  if (check.rejectRedirect) {
    const rejected = outcome.hops.find((hop) => hop.location && check.rejectRedirect!.test(hop.location.href));
    if (rejected?.location) {
      return {
        kind: 'definitive',
        reason: `redirected to ${untrustedText(redactUrl(rejected.location))}, which matches reject-redirect`,
      };
    }
  }

  const status = outcome.status;
  if (!statusInSet(check.expectedStatus, status)) {
    const hop = outcome.hops[outcome.hops.length - 1];
    const to = hop?.location ? ` to ${untrustedText(redactUrl(hop.location))}` : '';
    const reason = `HTTP ${status}${to}, expected ${check.expectedStatus.text}`;
    if (statusInSet(options.failFastStatuses, status)) return { kind: 'definitive', reason };
    if (WARMING_STATUSES.has(status)) return { kind: 'retry', reason: `HTTP ${status} (not ready yet)` };
    return { kind: 'retry', reason };
  }

  if (check.rejectBody && check.rejectBody.test(outcome.body)) {
    return { kind: 'definitive', reason: `body matches reject-body ${check.rejectBody}` };
  }

  const version = readVersion(check, outcome);
  if (check.expectVersion !== undefined) {
    if (version.value === undefined) {
      const reason =
        version.where === 'body'
          ? `body does not show version ${check.expectVersion} (yet)`
          : `no version in ${version.where}, expected ${check.expectVersion}`;
      return { kind: 'retry', reason };
    }
    if (!versionMatches(check, version.value)) {
      return {
        kind: 'retry',
        reason: `serves version ${untrustedText(describeJsonValue(version.value))} (${version.where}), expected ${check.expectVersion}`,
        version: version.value,
      };
    }
  }
  const failed = (reason: string): Verdict => ({ kind: 'retry', reason, version: version.value });

  for (const text of check.bodyContains) {
    if (!outcome.body.includes(text)) return failed(`body does not contain '${text}'`);
  }
  if (check.bodyRegex && !check.bodyRegex.test(outcome.body)) return failed(`body does not match ${check.bodyRegex}`);
  if (check.json) {
    const lookup = parseBodyJson(outcome.body);
    if (!lookup.ok) return failed(`body is not JSON, expected ${check.json.path.text}`);
    const found = evaluateJsonPath(check.json.path, lookup.value);
    if (!found.found) return failed(`${check.json.path.text} not found in the JSON body`);
    if (check.json.equals !== undefined && !jsonValueEquals(found.value, check.json.equals)) {
      return failed(
        `${check.json.path.text} is ${untrustedText(describeJsonValue(found.value))}, expected ${check.json.equals}`,
      );
    }
  }
  for (const expectation of check.headerExpectations) {
    const value = outcome.headers[expectation.name.toLowerCase()];
    if (value === undefined) return failed(`no ${expectation.name} header`);
    if (expectation.equals !== undefined && value !== expectation.equals) {
      return failed(`header ${expectation.name} is '${untrustedText(value)}', expected '${expectation.equals}'`);
    }
    if (expectation.contains !== undefined && !value.includes(expectation.contains)) {
      return failed(
        `header ${expectation.name} is '${untrustedText(value)}', expected it to contain '${expectation.contains}'`,
      );
    }
  }
  if (check.maxLatencyMs !== undefined && outcome.latencyMs > check.maxLatencyMs) {
    return failed(`answered in ${Math.round(outcome.latencyMs)} ms, over max-latency ${check.maxLatencyMs} ms`);
  }
  return { kind: 'pass', version: version.value };
}

function isTlsTrustError(code: string): boolean {
  return (
    code.startsWith('CERT_') ||
    code.includes('SELF_SIGNED') ||
    code.startsWith('UNABLE_TO_') ||
    code === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    code === 'HOSTNAME_MISMATCH'
  );
}

function parseBodyJson(body: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

/** The release identity the answer carries, as text, and where it was looked for. */
function readVersion(
  check: CheckSpec,
  outcome: Extract<ProbeOutcome, { kind: 'response' }>,
): { value?: string; where: string } {
  const source = check.versionFrom;
  if (source.kind === 'header') return { value: outcome.headers[source.name], where: `header ${source.name}` };
  if (source.kind === 'json') {
    const parsed = parseBodyJson(outcome.body);
    const found = parsed.ok ? evaluateJsonPath(source.path, parsed.value) : { found: false as const };
    const value = found.found && found.value !== null && found.value !== undefined ? found.value : undefined;
    return {
      value: value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value),
      where: source.path.text,
    };
  }
  // In the body: only known to be right when the expected text is there.
  if (check.expectVersion !== undefined && outcome.body.includes(check.expectVersion)) {
    return { value: check.expectVersion, where: 'body' };
  }
  return { value: undefined, where: 'body' };
}

/**
 * A version read from a header or JSON field matches when equal, or when one is a prefix of the other and
 * both are at least 7 characters: a health endpoint often reports the short sha of the full `github.sha`.
 */
export function versionMatches(check: Pick<CheckSpec, 'expectVersion'>, actual: string): boolean {
  const expected = (check.expectVersion ?? '').trim();
  const got = actual.trim();
  if (got === expected) return true;
  if (got.length < 7 || expected.length < 7) return false;
  return got.startsWith(expected) || expected.startsWith(got);
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): the wait
 * is uniform in [0, min(max, initial * 2^(n-1))] after the n-th failure in a row. Checks started together
 * against one restarting server spread out instead of knocking in lockstep, and the expected wait once the
 * server is up stays under one backoff step.
 */
export function backoffDelay(
  failuresInARow: number,
  options: Pick<RunOptions, 'initialIntervalMs' | 'maxIntervalMs'>,
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failuresInARow - 1, 0), 30);
  const cap = Math.min(options.maxIntervalMs, options.initialIntervalMs * 2 ** exponent);
  return Math.round(cap * Math.min(Math.max(random(), 0), 1));
}
