/**
 * Backup file names: `<prefix>_<YYYYMMDDHHMM>_<short sha>[-n].<ext>[.enc]`, timestamp in UTC. The name carries the
 * commit the backup protects and the time that retention and `latest` use, so both work from a directory
 * listing alone (file times change when files are copied; names do not).
 */
export type BackupExtension = 'dump' | 'sql' | 'json';

export interface BackupName {
  file: string;
  prefix: string;
  /** Minutes precision, UTC. */
  time: Date;
  sha: string;
  /** 1, or n for a second backup in the same minute (`-n` before the extension). */
  sequence: number;
  extension: BackupExtension;
  encrypted: boolean;
}

const NAME = /^(.+)_(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})_([0-9A-Za-z]+)(?:-(\d+))?\.(dump|sql|json)(\.enc)?$/;

/** `202611271405` for 2026-11-27 14:05 UTC. */
export function timestampOf(time: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${time.getUTCFullYear()}${p(time.getUTCMonth() + 1)}${p(time.getUTCDate())}${p(time.getUTCHours())}${p(time.getUTCMinutes())}`;
}

/** A prefix safe in a file name (the database name by default): letters, digits, dot, dash, underscore. */
export function sanitizePrefix(prefix: string): string {
  return prefix.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'backup';
}

/** The short sha in a name: 7 characters of a commit, or 'nosha' when no commit is known. */
export function shortSha(sha: string): string {
  const clean = sha.replace(/[^0-9A-Za-z]/g, '');
  return clean === '' ? 'nosha' : clean.slice(0, 7).toLowerCase();
}

export function backupFileName(
  prefix: string,
  time: Date,
  sha: string,
  extension: BackupExtension,
  options: { encrypted?: boolean; sequence?: number } = {},
): string {
  const seq = options.sequence && options.sequence > 1 ? `-${options.sequence}` : '';
  return `${sanitizePrefix(prefix)}_${timestampOf(time)}_${shortSha(sha)}${seq}.${extension}${options.encrypted ? '.enc' : ''}`;
}

/** The parts of a backup name, or undefined for any other file (which retention and `latest` never touch). */
export function parseBackupName(file: string): BackupName | undefined {
  const m = NAME.exec(file);
  if (!m) return undefined;
  const [, prefix, y, mo, d, h, mi, sha, seq, extension, enc] = m;
  const time = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi)));
  // Reject impossible dates (month 13, 31 February): Date.UTC would silently roll them over.
  if (timestampOf(time) !== `${y}${mo}${d}${h}${mi}`) return undefined;
  return {
    file,
    prefix,
    time,
    sha,
    sequence: seq ? Number(seq) : 1,
    extension: extension as BackupExtension,
    encrypted: enc !== undefined,
  };
}

/** The newest backup among `files` (by the time in its name, then by name), optionally of one prefix. */
/** What db-restore appends to a database's name for the safety backup it takes before restoring. */
export const SAFETY_BACKUP_SUFFIX = '-before-restore';

/**
 * The newest backup of `prefix`; without a prefix, the newest of any database except db-restore's own safety
 * backups (a second `latest` restore must not undo the first by picking what the first saved).
 */
export function latestBackup(files: string[], prefix?: string, now?: Date): BackupName | undefined {
  return files
    .map(parseBackupName)
    .filter(
      (b): b is BackupName =>
        b !== undefined &&
        !isFuture(b, now) &&
        (prefix === undefined ? !b.prefix.endsWith(SAFETY_BACKUP_SUFFIX) : b.prefix === sanitizePrefix(prefix)),
    )
    .sort(compareNewestFirst)[0];
}

/**
 * A name dated after `now` was not made by a backup that already happened (a wrong clock, or a file named to be
 * picked): `latest` never chooses it and retention neither counts nor deletes it.
 */
export function isFuture(backup: BackupName, now: Date | undefined): boolean {
  return now !== undefined && backup.time.getTime() > now.getTime();
}

/** The backup names in `files` dated after `now`, for a warning. */
export function futureBackups(files: string[], now: Date): string[] {
  return files.filter((file) => {
    const backup = parseBackupName(file);
    return backup !== undefined && isFuture(backup, now);
  });
}

function compareNewestFirst(a: BackupName, b: BackupName): number {
  return (
    b.time.getTime() - a.time.getTime() || b.sequence - a.sequence || (a.file < b.file ? 1 : a.file > b.file ? -1 : 0)
  );
}

export interface RetentionRule {
  prefix: string;
  /** Delete backups older than this many days (0 = no age limit). */
  keepDays: number;
  /** Keep at most this many backups, newest first (0 = no count limit). */
  keepCount: number;
  now: Date;
  /** The backup just made: never deleted, whatever the rules say. */
  protect: string;
}

/**
 * Which files to delete: backups of this prefix older than keep-days, or beyond the newest keep-count. Files that
 * do not match the naming pattern, other prefixes, names dated in the future and the backup just made are never
 * candidates (a future name counted among the newest would push a real backup out).
 */
export function planRetention(files: string[], rule: RetentionRule): { remove: string[]; keep: string[] } {
  const prefix = sanitizePrefix(rule.prefix);
  const ours = files
    .map(parseBackupName)
    .filter((b): b is BackupName => b !== undefined && b.prefix === prefix && !isFuture(b, rule.now))
    .sort(compareNewestFirst);
  const cutoff = rule.now.getTime() - rule.keepDays * 86_400_000;
  const remove: string[] = [];
  const keep: string[] = [];
  ours.forEach((backup, index) => {
    const tooOld = rule.keepDays > 0 && backup.time.getTime() < cutoff;
    const beyondCount = rule.keepCount > 0 && index >= rule.keepCount;
    if (backup.file !== rule.protect && (tooOld || beyondCount)) remove.push(backup.file);
    else keep.push(backup.file);
  });
  return { remove, keep };
}
