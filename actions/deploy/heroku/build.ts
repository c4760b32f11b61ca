import { ActionFailure, errorMessage } from '../../shared/errors.js';
import { HerokuApiError, type HerokuApi } from './api.js';
import type { SourceBlob } from './source.js';

export interface HerokuBuild {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  output_stream_url: string | null;
  release: { id: string } | null;
  source_blob: { url: string; version: string | null; checksum: string | null };
  created_at?: string;
}

/** How a wait polls: interval, overall limit, and the clock and sleep it runs on (injected in tests). */
export interface Poll {
  intervalMs: number;
  timeoutMs: number;
  clock(): number;
  sleep(ms: number): Promise<void>;
}

export function appPath(app: string, ...rest: string[]): string {
  return ['/apps', encodeURIComponent(app), ...rest.map(encodeURIComponent)].join('/');
}

/** The request body of POST /apps/{app}/builds: buildpacks given as URLs, or as registry names (heroku/python). */
export function buildRequest(blob: SourceBlob, buildpacks: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {
    source_blob: { url: blob.url, version: blob.version, checksum: blob.checksum },
  };
  if (buildpacks.length > 0)
    body.buildpacks = buildpacks.map((bp) => (/^https?:\/\//.test(bp) ? { url: bp } : { name: bp }));
  return body;
}

/** How long the log stream may lag behind a finished build or release before we stop waiting for its last lines. */
export const STREAM_GRACE_MS = 15_000;

/** Waits for a stream to end, but never longer than the grace period (an output URL that stays open must not hang us). */
export function settleStream(streaming: Promise<boolean>, graceMs = STREAM_GRACE_MS): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise((resolve) => {
    timer = setTimeout(resolve, graceMs);
    timer.unref?.();
  });
  return Promise.race([streaming, grace]).finally(() => clearTimeout(timer));
}

/**
 * A poll sleep that also wakes up once when the output stream ends: Heroku closes it when the work is done, so the
 * next status read need not wait a whole interval. Later sleeps are plain ones.
 */
export function wakeOnEnd(
  sleep: (ms: number) => Promise<void>,
  streaming: Promise<unknown>,
): (ms: number) => Promise<void> {
  let ended = false;
  const end = streaming.then(() => {
    ended = true;
  });
  return (ms) => (ended ? sleep(ms) : Promise.race([sleep(ms), end]));
}

/** Polls `read` until `done` says so, or fails naming `what` after the timeout. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  poll: Poll,
  what: string,
): Promise<T> {
  const deadline = poll.clock() + poll.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (poll.clock() >= deadline) {
      throw new ActionFailure(`${what} did not finish within ${Math.round(poll.timeoutMs / 1000)} s.`);
    }
    await poll.sleep(poll.intervalMs);
  }
}

/** Clocks differ between the runner and Heroku: a build this much older than our request can still be ours. */
export const CLOCK_SKEW_MS = 120_000;

/** The build a request created, known from its source: the signed URL (one per upload), commit and checksum. Pure. */
export function isBuildOf(build: HerokuBuild, blob: SourceBlob, sentAt: Date): boolean {
  const source = build.source_blob;
  if (source.url !== blob.url && (source.version !== blob.version || source.checksum !== blob.checksum)) return false;
  const created = build.created_at ? Date.parse(build.created_at) : NaN;
  return Number.isNaN(created) || created >= sentAt.getTime() - CLOCK_SKEW_MS;
}

/** The answer to a POST may be lost after Heroku acted on it: a 5xx or a broken connection, not a 4xx refusal. */
function answerMayBeLost(error: unknown): boolean {
  return !(error instanceof HerokuApiError) || error.status >= 500;
}

/**
 * When the answer to POST /builds is lost, the build may exist and go on to release on its own: look for it (by
 * its source, created since the request) before failing. Asked twice, a poll apart, in case the list lags.
 */
export async function findLostBuild(
  api: HerokuApi,
  app: string,
  blob: SourceBlob,
  sentAt: Date,
  poll: Poll,
): Promise<HerokuBuild | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0) await poll.sleep(poll.intervalMs);
    const { body } = await api.get<HerokuBuild[]>(appPath(app, 'builds'), {
      Range: 'started_at ..; order=desc, max=20',
    });
    const found = (Array.isArray(body) ? body : []).find((b) => isBuildOf(b, blob, sentAt));
    if (found) return found;
  }
  return undefined;
}

/** What happened to the POST /builds of this run when its answer was lost; for the summary. */
export interface LostAnswer {
  error: string;
  found: boolean;
}

/** What runBuild tells its caller as it goes (the post step must know a running build; the summary a lost answer). */
export interface BuildEvents {
  onCreated?(build: HerokuBuild): void;
  onLost?(lost: LostAnswer): void;
  now?(): Date;
}

/**
 * Creates the build, streams its output live into the log while polling its status, and returns it once it
 * is no longer pending (and, when it succeeded, once Heroku has attached the release it created).
 */
export async function runBuild(
  api: HerokuApi,
  app: string,
  blob: SourceBlob,
  buildpacks: string[],
  onLine: (line: string) => void,
  poll: Poll,
  events: BuildEvents = {},
): Promise<HerokuBuild> {
  const { onCreated = () => undefined, onLost = () => undefined, now = () => new Date() } = events;
  const sentAt = now();
  let created: HerokuBuild;
  try {
    created = (await api.post<HerokuBuild>(appPath(app, 'builds'), buildRequest(blob, buildpacks))).body;
  } catch (error) {
    if (!answerMayBeLost(error)) throw error;
    const found = await findLostBuild(api, app, blob, sentAt, poll);
    onLost({ error: errorMessage(error), found: found !== undefined });
    if (!found) {
      throw new ActionFailure(
        `Creating the build of ${app} failed (${errorMessage(error)}), and Heroku lists no build of this source since: nothing was built or released.`,
      );
    }
    created = found;
  }
  onCreated(created);
  const streaming = created.output_stream_url ? api.stream(created.output_stream_url, onLine) : Promise.resolve(false);
  const read = async () => (await api.get<HerokuBuild>(appPath(app, 'builds', created.id))).body;
  let build = await pollUntil(
    read,
    (b) => b.status !== 'pending',
    { ...poll, sleep: wakeOnEnd(poll.sleep, streaming) },
    `The build ${created.id} of ${app}`,
  );
  // The stream ends when the build does; wait for its last lines so the log reads in order.
  await settleStream(streaming);
  if (build.status === 'succeeded' && !build.release) {
    build = await pollUntil(read, (b) => b.release !== null, poll, `The release of build ${created.id}`);
  }
  return build;
}
