import type { EngineDeps } from '../../../actions/smoke-check/engine.js';
import type { ProbeHop, ProbeOutcome, ProbeRequest } from '../../../actions/smoke-check/http-probe.js';

/** An answer as the requester gives it. */
export function response(
  status: number,
  body = '',
  headers: Record<string, string> = {},
  extra: { latencyMs?: number; hops?: ProbeHop[]; url?: string } = {},
): ProbeOutcome {
  const url = new URL(extra.url ?? 'https://site.test/health');
  return {
    kind: 'response',
    status,
    headers,
    body,
    url,
    hops: extra.hops ?? [{ url, status }],
    latencyMs: extra.latencyMs ?? 10,
  };
}

export function failure(code: string, message = code): ProbeOutcome {
  return { kind: 'error', code, message, hops: [], latencyMs: 5 };
}

/**
 * A world on a fake clock: each request takes `latencyMs` of fake time, sleeps advance the clock, and the
 * script decides each answer from the request number (1-based).
 */
export function fakeWorld(
  script: (attempt: number, request: ProbeRequest) => ProbeOutcome,
  options: { latencyMs?: number; random?: () => number } = {},
) {
  let now = 1000;
  const requests: ProbeRequest[] = [];
  const sleeps: number[] = [];
  const logs: string[] = [];
  const counts = new Map<string, number>();
  const deps: EngineDeps = {
    request: async (request) => {
      requests.push(request);
      const n = (counts.get(request.url.href) ?? 0) + 1;
      counts.set(request.url.href, n);
      const outcome = script(n, request);
      // A request never outlives its timeout: a hang (latency Infinity) costs exactly the timeout.
      const latencyMs = Math.min(outcome.latencyMs, request.timeoutMs);
      now += latencyMs;
      return { ...outcome, latencyMs };
    },
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    random: options.random ?? (() => 0.5),
    log: (line) => logs.push(line),
  };
  return { deps, requests, sleeps, logs, now: () => now };
}
