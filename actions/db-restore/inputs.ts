import { isAbsolute, resolve } from 'node:path';
import { ConfigurationError } from '../shared/errors.js';
import { InputReader, type InputSource } from '../shared/inputs.js';
import { readConnectionInputs, type ConnectionInputs } from '../db-backup/inputs.js';

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
}

export function readRestoreInputs(
  source: InputSource,
  setSecret: (s: string) => void,
  workspace: string,
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
  const directory = place(read.string('directory') || 'backups');
  const safetyDirectory = read.optionalString('safety-directory');
  const passphrase = read.optionalString('encryption-passphrase');
  if (passphrase) setSecret(passphrase);
  return {
    ...connection,
    backup: backupInput === 'latest' ? 'latest' : place(backupInput),
    directory,
    prefix: read.optionalString('prefix'),
    confirm: read.string('confirm', { required: true }),
    skipSafetyBackup: read.boolean('skip-safety-backup', false),
    safetyDirectory: safetyDirectory ? place(safetyDirectory) : directory,
    safetyDirectoryInput: safetyDirectory ? 'safety-directory' : 'directory',
    storage,
    passphrase,
    sha: read.string('sha'),
  };
}
