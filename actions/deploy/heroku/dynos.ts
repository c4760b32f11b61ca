import { ActionFailure } from '../../shared/errors.js';
import type { HerokuApi } from './api.js';
import { appPath, type Poll } from './build.js';

export interface HerokuDyno {
  name: string;
  type: string;
  state: string;
  release: { id: string; version: number } | null;
}

/** What the web dynos say about a release: up on it, crashed on it, or still on their way. Pure. */
export function judgeDynos(
  dynos: HerokuDyno[],
  version: number,
): { verdict: 'up' | 'crashed' | 'waiting' | 'none'; detail: string } {
  const web = dynos.filter((d) => d.type === 'web');
  if (web.length === 0) return { verdict: 'none', detail: 'no web dyno runs' };
  const list = web.map((d) => `${d.name} ${d.state} on v${d.release?.version ?? '?'}`).join(', ');
  // A dyno of the old release that crashes says nothing about the new one: only crashes on this version count.
  if (web.some((d) => d.release?.version === version && d.state === 'crashed'))
    return { verdict: 'crashed', detail: list };
  if (web.every((d) => d.release?.version === version && d.state === 'up')) return { verdict: 'up', detail: list };
  return { verdict: 'waiting', detail: list };
}

/**
 * The health gate when the router cannot be asked (the app is in maintenance, so every request gets Heroku's
 * maintenance page): the release succeeded, and every web dyno runs it and is up. GET /apps/{app}/dynos is polled
 * until then; a web dyno of this release that crashes fails it at once.
 */
export async function checkDynos(api: HerokuApi, app: string, version: number, poll: Poll): Promise<string> {
  const deadline = poll.clock() + poll.timeoutMs;
  for (;;) {
    const { body } = await api.get<HerokuDyno[]>(appPath(app, 'dynos'));
    const { verdict, detail } = judgeDynos(Array.isArray(body) ? body : [], version);
    if (verdict === 'up') return detail;
    if (verdict === 'none') return `${detail}: only the release status could be checked`;
    if (verdict === 'crashed') throw new ActionFailure(`A web dyno of ${app} v${version} crashed (${detail}).`);
    if (poll.clock() >= deadline) {
      throw new ActionFailure(
        `The web dynos of ${app} were not up on v${version} within ${Math.round(poll.timeoutMs / 1000)} s (${detail}).`,
      );
    }
    await poll.sleep(poll.intervalMs);
  }
}
