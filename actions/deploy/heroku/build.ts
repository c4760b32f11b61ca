import { ActionFailure } from '../../shared/errors.js';
import type { HerokuApi } from './api.js';
import type { SourceBlob } from './source.js';

export interface HerokuBuild {
  id: string;
  status: 'pending' | 'succeeded' | 'failed';
  output_stream_url: string | null;
  release: { id: string } | null;
  source_blob: { url: string; version: string | null; checksum: string | null };
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
  onCreated: (build: HerokuBuild) => void = () => undefined,
): Promise<HerokuBuild> {
  const { body: created } = await api.post<HerokuBuild>(appPath(app, 'builds'), buildRequest(blob, buildpacks));
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
