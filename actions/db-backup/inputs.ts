import { isAbsolute, resolve } from 'node:path';
import { sanitizePrefix } from '../shared/backup-files.js';
import {
  databaseFromSettings,
  parseDatabaseUrl,
  type DatabaseEngine,
  type DatabaseTarget,
} from '../shared/database-url.js';
import { ConfigurationError } from '../shared/errors.js';
import { InputReader, type InputSource } from '../shared/inputs.js';
import { parseS3Location, readBucketSettings, type BucketSettings } from '../shared/object-store.js';
import type { SshSettings } from '../shared/ssh.js';
import { readArtifactRequest, type ArtifactRequest } from './artifact.js';
import type { BackupEngine } from './backup.js';

/** Where the database is and how to reach it: shared by db-backup and db-restore. */
export interface ConnectionInputs {
  engine: BackupEngine;
  database?: DatabaseTarget;
  /** The database URL text for Django (handed to manage.py), when one was given. */
  databaseUrl?: string;
  django?: { manageCommand: string; workingDirectory: string };
  ssh?: SshSettings;
  postgresClientRoot: string;
}

export interface BackupInputs extends ConnectionInputs {
  format: 'custom' | 'plain';
  directory: string;
  /** Where the file is kept, or (bucket only) where the dump's output is streamed from: the runner. */
  storage: 'runner' | 'server';
  /** False when the bucket is the only place: the dump is streamed into it and no file is kept. */
  keepFile: boolean;
  /** Set when the bucket is one of the places. */
  bucket?: BucketSettings;
  prefix: string;
  sha: string;
  keepDays: number;
  keepCount: number;
  verify: 'archive' | 'restore';
  passphrase?: string;
  /** Set when the backup is to be uploaded as a workflow artifact. */
  artifact?: ArtifactRequest;
}

export function readConnectionInputs(
  read: InputReader,
  setSecret: (s: string) => void,
  workspace: string,
): ConnectionInputs {
  const engineInput = read.oneOf('engine', ['auto', 'postgresql', 'mysql', 'django'] as const, 'auto');
  const url = read.optionalString('database-url');
  let database: DatabaseTarget | undefined;
  if (url) {
    database = parseDatabaseUrl(url, 'database-url', setSecret);
  } else if (read.optionalString('db-name')) {
    const engine: DatabaseEngine | undefined =
      engineInput === 'postgresql' || engineInput === 'mysql' ? engineInput : undefined;
    if (!engine) {
      throw new ConfigurationError(
        `Input 'engine' must be postgresql or mysql when the database is given by 'db-name' (no URL to infer it from).`,
      );
    }
    database = databaseFromSettings(
      {
        engine,
        name: read.string('db-name'),
        user: read.string('db-user'),
        password: read.string('db-password'),
        host: read.string('db-host'),
        port:
          read.optionalString('db-port') === undefined ? undefined : read.integer('db-port', { min: 1, max: 65535 }),
      },
      setSecret,
    );
  }
  const engine: BackupEngine = engineInput === 'auto' ? (database?.engine ?? 'django') : engineInput;
  if (engine !== 'django' && !database) {
    throw new ConfigurationError(
      `Input 'database-url' (or 'db-name' with 'db-user', 'db-password', 'db-host') is required for engine ${engine}.`,
    );
  }
  if (engine !== 'django' && database && database.engine !== engine) {
    throw new ConfigurationError(`Input 'engine' is ${engine} but 'database-url' is a ${database.engine} URL.`);
  }
  let django: ConnectionInputs['django'];
  if (engine === 'django') {
    const manageCommand = read.optionalString('django-manage-command');
    if (!manageCommand) {
      throw new ConfigurationError(
        `Input 'django-manage-command' is required for engine django (e.g. 'python manage.py'); without a database-url or db-name there is nothing else to back up.`,
      );
    }
    django = { manageCommand, workingDirectory: read.string('working-directory') || workspace };
  }
  return {
    engine,
    database,
    databaseUrl: url,
    django,
    ssh: readSsh(read, setSecret),
    postgresClientRoot: read.string('postgres-client-root') || '/usr/lib/postgresql',
  };
}

function readSsh(read: InputReader, setSecret: (s: string) => void): SshSettings | undefined {
  const host = read.optionalString('ssh-host');
  if (!host) return undefined;
  const privateKey = read.string('ssh-private-key');
  if (privateKey) {
    setSecret(privateKey);
    for (const line of privateKey.split(/\r?\n/))
      if (line.trim().length > 20 && !line.includes('PRIVATE KEY')) setSecret(line.trim());
  }
  return {
    host,
    port: read.integer('ssh-port', { min: 1, max: 65535, fallback: 22 }),
    user: read.string('ssh-user', { required: true }),
    privateKey,
    knownHosts: read.optionalString('ssh-known-hosts'),
    hostFingerprint: read.optionalString('ssh-host-fingerprint'),
    acceptNew: read.boolean('ssh-accept-new-host-key', false),
  };
}

/** `storage`: one place or two, comma-separated (runner or server, and/or bucket). */
export function readStoragePlaces(read: InputReader): { file?: 'runner' | 'server'; bucket: boolean } {
  const words = read
    .string('storage')
    .split(/[\s,]+/)
    .filter((w) => w !== '');
  if (words.length === 0) return { file: 'runner', bucket: false };
  const bad = words.find((w) => !['runner', 'server', 'bucket'].includes(w));
  if (
    bad !== undefined ||
    new Set(words).size !== words.length ||
    (words.includes('runner') && words.includes('server'))
  )
    throw new ConfigurationError(
      `Input 'storage' must be runner, server or bucket, or bucket with one of the other two (e.g. 'server, bucket'); got '${read.string('storage')}'.`,
    );
  return {
    file: words.find((w) => w === 'runner' || w === 'server') as 'runner' | 'server' | undefined,
    bucket: words.includes('bucket'),
  };
}

export function readBackupInputs(
  source: InputSource,
  setSecret: (s: string) => void,
  workspace: string,
  env: Record<string, string | undefined> = {},
): BackupInputs {
  const read = new InputReader(source);
  const connection = readConnectionInputs(read, setSecret, workspace);
  const places = readStoragePlaces(read);
  const storage = places.file ?? 'runner';
  const bucketInput = read.optionalString('bucket');
  if (places.bucket !== Boolean(bucketInput)) {
    throw new ConfigurationError(
      places.bucket
        ? `Input 'storage' includes bucket, which needs 'bucket' (an s3://bucket/prefix location).`
        : `Input 'bucket' is set but 'storage' does not include bucket; use e.g. 'storage: bucket' or 'storage: runner, bucket'.`,
    );
  }
  const bucket = bucketInput
    ? readBucketSettings(read, { ...parseS3Location(bucketInput, 'bucket'), input: 'bucket' }, setSecret, env)
    : undefined;
  if (storage === 'server' && !connection.ssh) {
    throw new ConfigurationError(
      `Input 'storage' is server, which needs 'ssh-host' (the backup is kept on that server).`,
    );
  }
  const dirInput = read.string('directory') || 'backups';
  // On the server a relative directory is relative to the SSH user's home, where remote commands start.
  const directory = storage === 'server' || isAbsolute(dirInput) ? dirInput : resolve(workspace, dirInput);
  const passphrase = read.optionalString('encryption-passphrase');
  if (passphrase) {
    setSecret(passphrase);
    if (passphrase.length < 12)
      throw new ConfigurationError(`Input 'encryption-passphrase' must be at least 12 characters long.`);
  }
  if (!places.file && passphrase) {
    throw new ConfigurationError(
      `Input 'encryption-passphrase' needs a file to encrypt, but 'storage' is bucket only; use 'storage: runner, bucket' (the encrypted file is uploaded) or the bucket's own 's3-server-side-encryption'.`,
    );
  }
  const verify = read.oneOf('verify', ['archive', 'restore'] as const, 'archive');
  if (verify === 'restore' && connection.engine === 'django') {
    throw new ConfigurationError(
      `Input 'verify' cannot be restore for engine django (loaddata into a scratch database needs a second Django settings); use archive.`,
    );
  }
  const format = read.oneOf('format', ['custom', 'plain'] as const, 'custom');
  const inputs: BackupInputs = {
    ...connection,
    format,
    directory,
    storage,
    keepFile: places.file !== undefined,
    bucket,
    prefix: sanitizePrefix(read.string('prefix') || connection.database?.database || 'django'),
    sha: read.string('sha'),
    keepDays: read.integer('keep-days', { min: 0, fallback: 14 }),
    keepCount: read.integer('keep-count', { min: 0, fallback: 0 }),
    verify,
    passphrase,
    artifact: readArtifactRequest(read),
  };
  if (!places.file && inputs.artifact) {
    throw new ConfigurationError(
      `Input 'upload-artifact' needs the backup file on the runner, but 'storage' is bucket only; use 'storage: runner, bucket'.`,
    );
  }
  return inputs;
}
