// db-restore from a bucket: the backup (a name, or `latest` under a prefix) is downloaded to a private folder on
// the runner and its SHA-256 checked against the one recorded when it was verified, before anything is touched.
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { latestBackup, parseBackupName } from '../shared/backup-files.js';
import { ActionFailure, ConfigurationError } from '../shared/errors.js';
import type { InputReader } from '../shared/inputs.js';
import {
  CHECKSUM_SUFFIX,
  objectKey,
  objectUrl,
  openObjectStore,
  parseS3Location,
  readBucketSettings,
  S3_SCHEME,
  type BucketSettings,
} from '../shared/object-store.js';
import { writeFailure } from '../shared/process.js';

export interface BucketBackupRef {
  settings: BucketSettings;
  /** A backup's name, or 'latest'. */
  name: string;
}

export const isBucketLocation = (backup: string): boolean => backup.startsWith(S3_SCHEME);

/** `s3://bucket/prefix/<name or latest>` and the s3-* inputs. */
export function readBucketBackup(
  read: InputReader,
  backup: string,
  setSecret: (s: string) => void,
  env: Record<string, string | undefined>,
): BucketBackupRef {
  const location = parseS3Location(backup, 'backup');
  const slash = location.path.lastIndexOf('/');
  const name = location.path.slice(slash + 1);
  if (name !== 'latest' && !parseBackupName(name)) {
    throw new ConfigurationError(
      `Input 'backup': '${backup}' must end with a backup's name (<prefix>_<YYYYMMDDHHMM>_<sha>.<ext>) or with /latest.`,
    );
  }
  const settings = readBucketSettings(
    read,
    { bucket: location.bucket, path: slash === -1 ? '' : location.path.slice(0, slash), input: 'backup' },
    setSecret,
    env,
  );
  return { settings, name };
}

export interface FetchedBackup {
  url: string;
  path: string;
  /** The private folder holding it, removed by the caller. */
  folder: string;
  sha256: string;
  sizeBytes: number;
}

/**
 * Picks the backup (for `latest`: the newest of `prefix`, or of any database but safety backups, among those with
 * their checksum file, i.e. verified), downloads it and checks its SHA-256. A mismatch deletes the download.
 */
export async function fetchFromBucket(
  ref: BucketBackupRef,
  options: {
    prefix?: string;
    now: Date;
    tempRoot: string;
    log: (m: string) => void;
    signal?: AbortSignal;
    /** Told the private folder as soon as it exists, before anything is downloaded into it (for a killed run's post step). */
    folderMade?: (folder: string) => void;
  },
): Promise<FetchedBackup> {
  const store = await openObjectStore(ref.settings);
  const names = (await store.list()).map((o) => o.key.slice(o.key.lastIndexOf('/') + 1));
  let name = ref.name;
  if (name === 'latest') {
    const verified = names.filter((n) => names.includes(`${n}${CHECKSUM_SUFFIX}`));
    const latest = latestBackup(verified, options.prefix, options.now);
    if (!latest)
      throw new ConfigurationError(
        `Input 'backup': no verified backup${options.prefix ? ` of '${options.prefix}'` : ''} (with its ${CHECKSUM_SUFFIX} file) under ${store.where}. Nothing was restored.`,
      );
    name = latest.file;
  } else if (!names.includes(name)) {
    throw new ConfigurationError(
      `Input 'backup': ${objectUrl(ref.settings, name)} does not exist. Nothing was restored.`,
    );
  }
  const url = objectUrl(ref.settings, name);
  const key = objectKey(ref.settings, name);
  const recorded =
    /^([0-9a-f]{64})\s/.exec((await store.getText(`${key}${CHECKSUM_SUFFIX}`)) ?? '')?.[1] ??
    (await store.head(key))?.metadata.sha256;
  if (!recorded)
    throw new ActionFailure(
      `${url} has no recorded SHA-256 (no ${CHECKSUM_SUFFIX} file): it was never verified. Nothing was restored.`,
    );
  const folder = mkdtempSync(join(options.tempRoot, 'rb-restore-'));
  options.folderMade?.(folder);
  const path = join(folder, name);
  const hash = createHash('sha256');
  let sizeBytes = 0;
  options.log(`Downloading ${url} to the runner.`);
  try {
    const body = await store.download(key, options.signal);
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        sizeBytes += chunk.length;
        callback(null, chunk);
      },
    });
    await pipeline(body, counter, createWriteStream(path, { mode: 0o600 })).catch((error: unknown) => {
      throw error instanceof ActionFailure || (error as { $metadata?: unknown }).$metadata
        ? error
        : writeFailure(error, path);
    });
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  const sha256 = hash.digest('hex');
  if (sha256 !== recorded) {
    rmSync(folder, { recursive: true, force: true });
    throw new ActionFailure(
      `${url} downloads with SHA-256 ${sha256}, but ${recorded} was recorded when it was verified: it is damaged. Nothing was restored.`,
    );
  }
  options.log(`Downloaded ${sizeBytes} bytes; SHA-256 ${sha256} matches the recorded one.`);
  return { url, path, folder, sha256, sizeBytes };
}
