import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../shared/errors.js';
import { InputReader, type InputSource } from '../shared/inputs.js';
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
  return {
    ...connection,
    backup: backupInput === 'latest' || bucket ? backupInput : place(backupInput),
    directory,
    prefix: read.optionalString('prefix'),
    confirm: read.string('confirm', { required: true }),
    skipSafetyBackup: read.boolean('skip-safety-backup', false),
    safetyDirectory: safetyDirectory ? place(safetyDirectory) : directory,
    safetyDirectoryInput: safetyDirectory ? 'safety-directory' : 'directory',
    storage,
    passphrase,
    sha: read.string('sha'),
    bucket,
  };
}
