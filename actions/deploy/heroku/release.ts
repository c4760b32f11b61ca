import { ActionFailure } from '../../shared/errors.js';
import type { HerokuApi } from './api.js';
import { appPath, pollUntil, settleStream, wakeOnEnd, type Poll } from './build.js';

export interface HerokuRelease {
  id: string;
  version: number;
  status: 'pending' | 'succeeded' | 'failed' | 'expired';
  current: boolean;
  description: string;
  output_stream_url: string | null;
  slug: { id: string } | null;
}

/** Heroku pages lists with a Range header; newest first is what a deploy wants (enough to see past rollbacks). */
export const RECENT_RELEASES = 'version ..; order=desc, max=50';

export async function recentReleases(api: HerokuApi, app: string): Promise<HerokuRelease[]> {
  const { body } = await api.get<HerokuRelease[]>(appPath(app, 'releases'), { Range: RECENT_RELEASES });
  return Array.isArray(body) ? body : [];
}

/** The release serving now: the one flagged current, else the newest that succeeded. Pure. */
export function servingRelease(releases: HerokuRelease[]): HerokuRelease | undefined {
  const sorted = [...releases].sort((a, b) => b.version - a.version);
  return sorted.find((r) => r.current) ?? sorted.find((r) => r.status === 'succeeded');
}

/** The version a rollback release went back to: Heroku writes `Rollback to v<N>` (API, CLI and dashboard alike). */
export function rolledBackTo(release: HerokuRelease): number | undefined {
  const match = /^Rollback to v(\d+)\b/.exec(release.description ?? '');
  return match ? Number(match[1]) : undefined;
}

/**
 * The version whose code a release runs: itself, or for a rollback the release it went back to (followed through
 * rollbacks of rollbacks, as far as the list reaches). Pure.
 */
export function codeVersion(release: HerokuRelease, releases: HerokuRelease[]): number {
  const byVersion = new Map(releases.map((r) => [r.version, r]));
  let version = release.version;
  for (let current: HerokuRelease | undefined = release, hops = 0; current && hops < releases.length; hops++) {
    const to = rolledBackTo(current);
    if (to === undefined) break;
    version = to;
    current = byVersion.get(to);
  }
  return version;
}

/**
 * Versions a rollback replaced: `Rollback to vN` written as vM means every release between vN and vM was taken
 * down, whether the health gate rejected it or someone rolled it back by hand. Pure.
 */
export function replacedVersions(releases: HerokuRelease[]): Set<number> {
  const replaced = new Set<number>();
  for (const release of releases) {
    const to = rolledBackTo(release);
    if (to === undefined) continue;
    for (const other of releases)
      if (other.version > to && other.version < release.version) replaced.add(other.version);
  }
  return replaced;
}

/**
 * The release to roll back to from `serving`: the newest succeeded one older than the code serving (for a
 * rollback release, older than the release it went back to, so rolling back twice never returns to what the first
 * rollback replaced), and never one a rollback replaced. Pure.
 */
export function rollbackTarget(releases: HerokuRelease[], serving: HerokuRelease): HerokuRelease | undefined {
  const bound = codeVersion(serving, releases);
  const replaced = replacedVersions(releases);
  return [...releases]
    .sort((a, b) => b.version - a.version)
    .find(
      (r) =>
        r.version < bound &&
        r.status === 'succeeded' &&
        !replaced.has(r.version) &&
        codeVersion(r, releases) < bound &&
        !replaced.has(codeVersion(r, releases)),
    );
}

/** The commit a release runs: its slug's `commit` (the source_blob version we built it from). */
export async function releaseCommit(api: HerokuApi, app: string, release: HerokuRelease): Promise<string | undefined> {
  if (!release.slug) return undefined;
  const { body } = await api.get<{ commit: string | null }>(appPath(app, 'slugs', release.slug.id));
  return body?.commit ?? undefined;
}

/**
 * Waits until the release leaves `pending`, streaming its release-phase output (where `manage.py migrate`
 * runs) into the log. A failed release phase means Heroku kept the previous release serving.
 */
export async function waitForRelease(
  api: HerokuApi,
  app: string,
  releaseId: string,
  onLine: (line: string) => void,
  poll: Poll,
): Promise<HerokuRelease> {
  const read = async () => (await api.get<HerokuRelease>(appPath(app, 'releases', releaseId))).body;
  let release = await read();
  // Streamed even when the phase is already over: the stream replays its output, and a failure needs it in the log.
  const streaming = release.output_stream_url ? api.stream(release.output_stream_url, onLine) : Promise.resolve(false);
  if (release.status === 'pending') {
    release = await pollUntil(
      read,
      (r) => r.status !== 'pending',
      { ...poll, sleep: wakeOnEnd(poll.sleep, streaming) },
      `The release phase of ${app}`,
    );
  }
  await settleStream(streaming);
  return release;
}

/** POST /apps/{app}/releases {release}: a new release with the old slug and config; waited for. */
export async function rollBack(
  api: HerokuApi,
  app: string,
  to: HerokuRelease,
  onLine: (line: string) => void,
  poll: Poll,
): Promise<HerokuRelease> {
  const { body } = await api.post<HerokuRelease>(appPath(app, 'releases'), { release: to.id });
  const release = await waitForRelease(api, app, body.id, onLine, poll);
  if (release.status !== 'succeeded') {
    throw new ActionFailure(
      `Rolling ${app} back to v${to.version} failed: release v${release.version} is ${release.status}.`,
    );
  }
  return release;
}
