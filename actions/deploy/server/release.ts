/** The release model on a server: ids, the release log, which release to roll back to, which to prune. */

export type ReleaseOutcome = 'started' | 'succeeded' | 'failed' | 'rolled-back' | 'restored';

/** One line of `<deploy-to>/releases.jsonl`. */
export interface ReleaseLogEntry {
  release: string;
  commit: string;
  who: string;
  when: string;
  outcome: ReleaseOutcome;
  /** Why a release failed, or which release a rollback restored. */
  note?: string;
}

const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{7,12}$/;

/** `20261127T134501Z-1a2b3c4`: sorts by time as text, names the commit, and is safe in any shell word. */
export function releaseId(now: Date, commit: string): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  const short = commit
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '')
    .slice(0, 7);
  if (short.length < 7) throw new Error(`release id needs a hexadecimal commit sha; got '${commit}'`);
  return `${stamp}-${short}`;
}

export function isReleaseId(name: string): boolean {
  return RELEASE_ID.test(name);
}

export function formatLogEntry(entry: ReleaseLogEntry): string {
  return JSON.stringify(entry);
}

/** Reads the log, skipping lines that are not ours (a hand edit, a line cut short by a full disk). */
export function parseReleaseLog(text: string): ReleaseLogEntry[] {
  const entries: ReleaseLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as Partial<ReleaseLogEntry>;
      if (typeof value.release === 'string' && typeof value.outcome === 'string')
        entries.push(value as ReleaseLogEntry);
    } catch {
      // A torn last line: the entries before it still count.
    }
  }
  return entries;
}

/** The last outcome recorded for each release. */
export function lastOutcomes(entries: ReleaseLogEntry[]): Map<string, ReleaseOutcome> {
  const outcomes = new Map<string, ReleaseOutcome>();
  for (const entry of entries) outcomes.set(entry.release, entry.outcome);
  return outcomes;
}

/**
 * The release to go back to: the newest one older than `current` whose last outcome is a success (a release
 * that failed or was rolled back is never chosen) and whose directory still exists.
 */
export function chooseRollbackTarget(
  current: string | undefined,
  existing: string[],
  entries: ReleaseLogEntry[],
): string | undefined {
  const outcomes = lastOutcomes(entries);
  return existing
    .filter(isReleaseId)
    .filter((id) => id !== current && (current === undefined || id < current))
    .filter((id) => outcomes.get(id) === 'succeeded' || outcomes.get(id) === 'restored')
    .sort()
    .at(-1);
}

/**
 * Release directories to delete so that at most `keep` remain. Releases that failed, were rolled back or never
 * finished go first (so a crash loop cannot fill the disk), then the oldest good ones. Never deleted, whatever their
 * age: `current`, the release being deployed, and the newest good release older than `current` (what
 * `mode: rollback` goes back to).
 */
export function planPrune(
  existing: string[],
  keep: number,
  protect: { current?: string; deploying?: string },
  entries: ReleaseLogEntry[],
): string[] {
  const releases = existing.filter(isReleaseId).sort();
  const rollbackTarget = chooseRollbackTarget(protect.current, releases, entries);
  const guarded = new Set([protect.current, protect.deploying, rollbackTarget]);
  const outcomes = lastOutcomes(entries);
  // A release with no entry predates the log: it is treated as good.
  const bad = (id: string) => !['succeeded', 'restored', undefined].includes(outcomes.get(id));
  const candidates = releases.filter((id) => !guarded.has(id));
  const order = [...candidates.filter(bad), ...candidates.filter((id) => !bad(id))];
  return order.slice(0, Math.max(0, releases.length - keep)).sort();
}

/** The latest applied migration of each app from `manage.py showmigrations <apps>` ('zero' when none applied). */
export function parseAppliedMigrations(output: string): Map<string, string> {
  const applied = new Map<string, string>();
  let app: string | undefined;
  for (const line of output.split('\n')) {
    const header = /^([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line);
    if (header) {
      app = header[1];
      applied.set(app, 'zero');
      continue;
    }
    const migration = /^\s+\[X\]\s+(\S+)/.exec(line);
    if (app && migration) applied.set(app, migration[1]);
  }
  return applied;
}
