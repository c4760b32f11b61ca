import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../shared/errors.js';
import { InputReader, type InputSource } from '../shared/inputs.js';
import { parseS3Location, readBucketSettings, type BucketSettings } from '../shared/object-store.js';
import { readConnectionInputs, type ConnectionInputs } from '../db-backup/inputs.js';
import { isBucketLocation, readBucketBackup, type BucketBackupRef } from './bucket-source.js';

export interface RestoreInputs extends ConnectionInputs {
  backup: string;
  directory: string;
  prefix?: string;
  confirm: string;
  skipSafetyBackup: boolean;
  safetyDirectory: string;
  /** The input a bad safety directory is reported under: it is `directory` unless `safety-directory` is given. */
  safetyDirectoryInput: 'safety-directory' | 'directory';
  storage: 'runner' | 'server';
  passphrase?: string;
  sha: string;
  /** Set when `backup` is an s3:// location: it is downloaded and checked first. */
  bucket?: BucketBackupRef;
  /** Set when the safety backup is also copied (and verified) into a bucket before the restore. */
  safetyBucket?: BucketSettings;
  /** Set when the safety backup is also uploaded as a workflow artifact before the restore. */
  safetyArtifact?: { retentionDays?: number };
}

export function readRestoreInputs(
  source: InputSource,
  setSecret: (s: string) => void,
  workspace: string,
  env: Record<string, string | undefined> = {},
): RestoreInputs {
  const read = new InputReader(source);
  const connection = readConnectionInputs(read, setSecret, workspace);
  const storage = read.oneOf('storage', ['runner', 'server'] as const, 'runner');
  if (storage === 'server' && !connection.ssh) {
    throw new ConfigurationError(`Input 'storage' is server, which needs 'ssh-host' (the backup is on that server).`);
  }
  // On the runner relative paths are relative to the workspace; on the server, to the SSH user's home.
  const place = (path: string) => (storage === 'server' || isAbsolute(path) ? path : resolve(workspace, path));
  const backupInput = read.string('backup', { required: true });
  const bucket = isBucketLocation(backupInput) ? readBucketBackup(read, backupInput, setSecret, env) : undefined;
  if (bucket && storage === 'server') {
    throw new ConfigurationError(
      `Input 'storage' must be runner for a backup in a bucket (it is downloaded to the runner and streamed to the database, over SSH when ssh-host is set).`,
    );
  }
  const directory = place(read.string('directory') || 'backups');
  const safetyDirectory = read.optionalString('safety-directory');
  const passphrase = read.optionalString('encryption-passphrase');
  if (passphrase) setSecret(passphrase);
  const skipSafetyBackup = read.boolean('skip-safety-backup', false);
  const safetyBucketInput = read.optionalString('safety-bucket');
  const safetyBucket = safetyBucketInput
    ? readBucketSettings(
        read,
        { ...parseS3Location(safetyBucketInput, 'safety-bucket'), input: 'safety-bucket' },
        setSecret,
        env,
      )
    : undefined;
  const safetyArtifact = readSafetyArtifact(read, storage);
  const extraPlace = safetyBucket ? 'safety-bucket' : safetyArtifact ? 'safety-upload-artifact' : undefined;
  if (skipSafetyBackup && extraPlace) {
    throw new ConfigurationError(
      `Input '${extraPlace}' is set but 'skip-safety-backup' is true: there would be no safety backup to keep there.`,
    );
  }
  return {
    ...connection,
    backup: backupInput === 'latest' || bucket ? backupInput : place(backupInput),
    directory,
    prefix: read.optionalString('prefix'),
    confirm: read.string('confirm', { required: true }),
    skipSafetyBackup,
    safetyDirectory: safetyDirectory ? place(safetyDirectory) : directory,
    safetyDirectoryInput: safetyDirectory ? 'safety-directory' : 'directory',
    storage,
    passphrase,
    sha: read.string('sha'),
    bucket,
    safetyBucket,
    safetyArtifact,
  };
}

function readSafetyArtifact(read: InputReader, storage: 'runner' | 'server'): RestoreInputs['safetyArtifact'] {
  const retention = read.optionalString('safety-retention-days');
  if (!read.boolean('safety-upload-artifact', false)) return undefined;
  if (storage === 'server') {
    throw new ConfigurationError(
      `Input 'safety-upload-artifact' needs the safety backup on the runner, but 'storage' is server (it is kept on that server); use 'safety-bucket' to keep a copy off the server.`,
    );
  }
  return {
    retentionDays: retention === undefined ? undefined : read.integer('safety-retention-days', { min: 1, max: 90 }),
  };
}
