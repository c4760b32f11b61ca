import { redactUrl } from '../shared/inputs.js';
import { untrustedText } from '../shared/untrusted-text.js';
import type { CheckSpec, RunOptions } from './check-spec.js';
import type { HttpRequester, ProbeOutcome } from './http-probe.js';
import { createHttpRequester } from './http-probe.js';
import { backoffDelay, judgeAttempt, type Verdict } from './retry-policy.js';

/** The world the engine talks to, passed in so tests and the deploy action can give their own. */
export interface EngineDeps {
  readonly request: HttpRequester;
  /** Milliseconds on a monotonic clock. */
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): the backoff jitter. */
  readonly random: () => number;
  readonly log: (line: string) => void;
}

export interface CheckResult {
  readonly name: string;
  /** Redacted: no password, no token. */
  readonly url: string;
  readonly ok: boolean;
  /** Last HTTP status seen; undefined when no answer came. */
  readonly status?: number;
  /** Latency of the last attempt in ms. */
  readonly latencyMs?: number;
  readonly attempts: number;
  /** Why it passed or failed, in words. */
  readonly reason: string;
  /** The release identity read from the last answer, when one was asked for. */
  readonly version?: string;
  /** Redacted URLs the last answer was redirected through. */
  readonly redirects: readonly string[];
  /** The start of the last body, for a failure's excerpt (not yet masked). */
  readonly lastBody?: string;
  readonly durationMs: number;
}

export interface RunReport {
  readonly healthy: boolean;
  readonly results: readonly CheckResult[];
  readonly failedCount: number;
  readonly durationMs: number;
}

/** The real edges: node:http(s) with the run's TLS settings, the monotonic clock, timers, Math.random. */
export function defaultEngineDeps(options: Pick<RunOptions, 'tls'>, log: (line: string) => void): EngineDeps {
  return {
    request: createHttpRequester(options.tls),
    clock: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    log,
  };
}

const EXCERPT_BYTES = 4096;

/**
 * Runs every check in parallel until each passes `stableFor` times in a row, fails definitively, or the
 * shared deadline passes. Never throws for an unhealthy site: the report says what happened.
 */
export async function runChecks(
  checks: readonly CheckSpec[],
  options: RunOptions,
  deps: EngineDeps,
): Promise<RunReport> {
  const started = deps.clock();
  const deadlineAt = started + options.deadlineMs;
  const results = await Promise.all(
    checks.map((check, index) => runOne(check, checks.length > 1 ? `[${index + 1}] ` : '', options, deps, deadlineAt)),
  );
  const failedCount = results.filter((result) => !result.ok).length;
  return { healthy: failedCount === 0, results, failedCount, durationMs: Math.round(deps.clock() - started) };
}

async function runOne(
  check: CheckSpec,
  prefix: string,
  options: RunOptions,
  deps: EngineDeps,
  deadlineAt: number,
): Promise<CheckResult> {
  const started = deps.clock();
  const url = redactUrl(check.url);
  const name = check.name ?? url;
  let attempts = 0;
  let passesInARow = 0;
  let failuresInARow = 0;
  let definitiveInARow = 0;
  let last: ProbeOutcome | undefined;
  const finish = (ok: boolean, reason: string, version?: string): CheckResult => ({
    name,
    url,
    ok,
    status: last?.kind === 'response' ? last.status : undefined,
    latencyMs: last ? Math.round(last.latencyMs) : undefined,
    attempts,
    reason,
    version,
    redirects: (last?.hops ?? []).filter((hop) => hop.location).map((hop) => redactUrl(hop.location!)),
    lastBody: last?.kind === 'response' ? last.body.slice(0, EXCERPT_BYTES) : undefined,
    durationMs: Math.round(deps.clock() - started),
  });

  for (;;) {
    const remaining = deadlineAt - deps.clock();
    attempts += 1;
    // The per-request timeout never reaches past the deadline, so the deadline holds even against a hang.
    last = await deps.request({
      url: check.url,
      method: check.method,
      headers: check.headers,
      timeoutMs: Math.max(1, Math.min(check.timeoutMs, remaining)),
      followRedirects: check.followRedirects,
      keepHeadersOnRedirect: check.keepHeadersOnRedirect ?? false,
      maxRedirects: options.maxRedirects,
      maxBodyBytes: options.maxBodyBytes,
    });
    const verdict = neutralised(judgeAttempt(check, last, options));
    const seen = last.kind === 'response' ? `HTTP ${last.status}` : untrustedText(last.code);
    const latency = `${Math.round(last.latencyMs)} ms`;

    let delay: number;
    if (verdict.kind === 'pass') {
      passesInARow += 1;
      failuresInARow = 0;
      definitiveInARow = 0;
      if (passesInARow >= options.stableFor) {
        deps.log(`${prefix}${name}: attempt ${attempts}: ${seen} in ${latency}: healthy`);
        const stable = options.stableFor > 1 ? ` (${options.stableFor} passes in a row)` : '';
        return finish(true, `healthy${stable}`, verdict.version);
      }
      // Stability is judged at a steady pace: the first interval, without growing or jitter.
      delay = options.initialIntervalMs;
      deps.log(
        `${prefix}${name}: attempt ${attempts}: ${seen} in ${latency}: pass ${passesInARow}/${options.stableFor}`,
      );
    } else {
      passesInARow = 0;
      failuresInARow += 1;
      definitiveInARow = verdict.kind === 'definitive' ? definitiveInARow + 1 : 0;
      if (verdict.kind === 'fatal') {
        deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason}: giving up`);
        return finish(false, verdict.reason, verdict.version);
      }
      if (verdict.kind === 'definitive' && definitiveInARow >= options.failFastAfter) {
        deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason}: definitive, giving up`);
        const times = definitiveInARow > 1 ? ` (${definitiveInARow} times in a row)` : '';
        return finish(false, `${verdict.reason}${times}`, verdict.version);
      }
      delay = backoffDelay(failuresInARow, options, deps.random);
      deps.log(`${prefix}${name}: attempt ${attempts}: ${verdict.reason} after ${latency}; next try in ${delay} ms`);
    }

    if (deps.clock() + delay >= deadlineAt) {
      const why =
        verdict.kind === 'pass' ? `only ${passesInARow} of ${options.stableFor} passes in a row` : verdict.reason;
      return finish(
        false,
        `${why}; deadline of ${formatMs(options.deadlineMs)} reached after ${attempts} attempts`,
        verdict.version,
      );
    }
    await deps.sleep(delay);
  }
}

/** Reasons and versions quote what the server said; they reach logs, annotations and the deploy's gate. */
const REASON_LIMIT = 1000;

function neutralised(verdict: Verdict): Verdict {
  const version = verdict.version === undefined ? {} : { version: untrustedText(verdict.version) };
  if (verdict.kind === 'pass') return { kind: 'pass', ...version };
  return { kind: verdict.kind, reason: untrustedText(verdict.reason, REASON_LIMIT), ...version };
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}
