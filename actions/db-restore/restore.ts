import { posix } from 'node:path';
import { futureBackups, latestBackup, SAFETY_BACKUP_SUFFIX } from '../shared/backup-files.js';
import {
  describeDatabase,
  libpqDatabaseArgument,
  mysqlConnection,
  postgresEnvironment,
  type DatabaseTarget,
} from '../shared/database-url.js';
import { ActionFailure, ConfigurationError } from '../shared/errors.js';
import { excerpt } from '../shared/untrusted-text.js';
import { describeExit } from '../shared/process.js';
import {
  OPENSSL_ENC_ARGS,
  PASSPHRASE_ENV,
  postgresClientsOn,
  readServerVersion,
  takeBackup,
  tool,
  type BackupEngine,
  type BackupEdges,
  type BackupRequest,
  type BackupResult,
} from '../db-backup/backup.js';
import type { CommandHost } from '../db-backup/places.js';
import { choosePostgresClient } from '../db-backup/client-plan.js';
import { isCustomArchive, type BackupFormat } from '../db-backup/verify.js';

export interface RestoreRequest {
  engine: BackupEngine;
  database?: DatabaseTarget;
  databaseUrl?: string;
  django?: { manageCommand: string; workingDirectory: string };
  /** A path, or 'latest' (the newest backup in `directory` by the time in its name). */
  backup: string;
  directory: string;
  prefix?: string;
  confirm: string;
  skipSafetyBackup: boolean;
  safetyDirectory: string;
  safetyDirectoryInput: 'safety-directory' | 'directory';
  passphrase?: string;
  sha: string;
  now: Date;
  postgresClientRoot: string;
  /** Engine django: the NAME of Django's default database (read by restoreBackup when not given). */
  djangoDatabase?: string;
  /** Names the safety backup must not take (those already in the bucket it is copied to). */
  safetyTakenNames?: string[];
}

export interface RestoreEdges extends BackupEdges {
  /**
   * Told of the verified safety backup before anything is restored, to keep it in further places (a bucket, a
   * workflow artifact); if it throws, nothing is restored.
   */
  keepSafetyBackup?: (backup: BackupResult, request: BackupRequest, edges: BackupEdges) => Promise<void>;
}

export interface RestoreResult {
  path: string;
  format: BackupFormat;
  database: string;
  safetyBackup?: BackupResult;
  serverVersion: string;
  durationMs: number;
  command: string;
}

/** The name a restore must be confirmed with: the database that will be overwritten. */
export function targetName(request: Pick<RestoreRequest, 'engine' | 'database' | 'django' | 'djangoDatabase'>): string {
  if (request.engine === 'django') {
    // What Django itself will flush, whatever the URL says; a SQLite database is named by its file.
    if (request.djangoDatabase === undefined) throw new Error('the Django database name must be read first');
    return posix.basename(request.djangoDatabase);
  }
  return request.database?.database ?? '';
}

const DJANGO_NAME_MARK = 'runbook-database=';

/**
 * The NAME of Django's default database, as the project's settings give it (`manage.py shell -c`): the name
 * `confirm` must match for the django engine. Read-only: nothing is changed if it does not match.
 */
export async function readDjangoDatabase(
  request: Pick<RestoreRequest, 'django' | 'databaseUrl'>,
  host: CommandHost,
): Promise<string> {
  const django = request.django!;
  const code = `from django.db import connections; print(${JSON.stringify(DJANGO_NAME_MARK)} + str(connections['default'].settings_dict.get('NAME') or ''))`;
  const result = await host.run('sh', ['-c', `${django.manageCommand} "$@"`, 'manage.py', 'shell', '-c', code], {
    cwd: django.workingDirectory,
    secretEnv: request.databaseUrl ? { DATABASE_URL: request.databaseUrl } : {},
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith(DJANGO_NAME_MARK));
  if (result.code !== 0 || line === undefined)
    throw new ActionFailure(
      `Cannot read the database name from Django (manage.py shell): ${describeExit('manage.py shell', result)}. Nothing was restored.`,
    );
  const name = line.slice(DJANGO_NAME_MARK.length).trim();
  if (name === '')
    throw new ConfigurationError(`Django's default database has no NAME in its settings; nothing was restored.`);
  return name;
}

/** Nothing happens unless `confirm` names the database that will be overwritten, exactly. */
export function checkConfirmation(
  request: Pick<RestoreRequest, 'engine' | 'database' | 'django' | 'djangoDatabase' | 'confirm'>,
): void {
  const expected = targetName(request);
  if (request.confirm !== expected) {
    throw new ConfigurationError(
      `Input 'confirm' must be exactly the name of the database being overwritten, '${expected}'; got '${excerpt(request.confirm)}'. Nothing was restored.`,
    );
  }
}

/** The format of a backup file from its name, checked against its first bytes for custom archives. */
export function formatFromName(file: string, engine: BackupEngine): BackupFormat {
  const base = file.replace(/\.enc$/, '');
  if (base.endsWith('.dump')) return 'custom';
  if (base.endsWith('.json')) return 'json';
  if (base.endsWith('.sql')) return engine === 'mysql' ? 'mysql' : 'plain';
  throw new ConfigurationError(
    `Input 'backup': cannot tell the format of '${posix.basename(file)}'; expected a .dump, .sql or .json file (optionally .enc).`,
  );
}

export function checkFormatFitsEngine(format: BackupFormat, engine: BackupEngine): void {
  const fits: Record<BackupFormat, BackupEngine> = {
    custom: 'postgresql',
    plain: 'postgresql',
    mysql: 'mysql',
    json: 'django',
  };
  if (fits[format] !== engine) {
    throw new ConfigurationError(
      `Input 'backup' is a ${format === 'json' ? 'Django dumpdata (.json)' : format === 'custom' ? 'PostgreSQL custom archive' : 'SQL'} backup, which cannot be restored with engine ${engine}.`,
    );
  }
}

/** Resolves `backup` to one existing file. */
export async function resolveBackup(
  request: Pick<RestoreRequest, 'backup' | 'directory' | 'prefix'> & { now?: Date },
  edges: Pick<BackupEdges, 'files'> & { warn?: (message: string) => void },
): Promise<string> {
  if (request.backup === 'latest') {
    // A folder that does not exist holds no backup (as on a server, where listing it prints nothing).
    const files = await edges.files.list(request.directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw new ConfigurationError(
        `Input 'directory': cannot list '${excerpt(request.directory)}' on ${edges.files.where}${error.code ? ` (${error.code})` : ''}.`,
      );
    });
    const latest = latestBackup(files, request.prefix, request.now);
    const now = request.now;
    const future = now ? futureBackups(files, now) : [];
    if (now && future.length > 0)
      edges.warn?.(
        `Ignored ${future.length} file(s) whose name is dated after now (${now.toISOString()}): ${future.slice(0, 5).join(', ')}${future.length > 5 ? ', …' : ''}.`,
      );
    if (!latest) {
      throw new ConfigurationError(
        `Input 'backup' is latest but '${excerpt(request.directory)}' on ${edges.files.where} holds no backup named <prefix>_<YYYYMMDDHHMM>_<sha>.<ext>${request.prefix ? ` with prefix '${excerpt(request.prefix)}'` : ''}.`,
      );
    }
    return posix.join(request.directory, latest.file);
  }
  if (!(await edges.files.exists(request.backup))) {
    throw new ConfigurationError(
      `Input 'backup': '${excerpt(request.backup)}' does not exist on ${edges.files.where}.`,
    );
  }
  return request.backup;
}

/**
 * Restores a backup: confirmation, file, safety backup of the current data, then the engine's restore in one
 * transaction where the engine allows it (SQL and MySQL dumps stop at their first error).
 */
export async function restoreBackup(given: RestoreRequest, edges: RestoreEdges): Promise<RestoreResult> {
  const clock = edges.clock ?? Date.now;
  const started = clock();
  const request =
    given.engine === 'django' && given.djangoDatabase === undefined
      ? { ...given, djangoDatabase: await readDjangoDatabase(given, edges.dumpHost) }
      : given;
  checkConfirmation(request);
  const path = await resolveBackup(request, edges);
  const format = formatFromName(path, request.engine);
  checkFormatFitsEngine(format, request.engine);
  const encrypted = path.endsWith('.enc');
  if (encrypted && !request.passphrase) {
    throw new ConfigurationError(`Input 'encryption-passphrase' is required: '${posix.basename(path)}' is encrypted.`);
  }
  // Only now that the backup is known to be usable: a refused one leaves no safety folder behind.
  if (!request.skipSafetyBackup)
    await edges.files.prepareDirectory(request.safetyDirectory, request.safetyDirectoryInput);
  edges.log(
    `Restoring ${path} (${format}${encrypted ? ', encrypted' : ''}) into ${request.database ? describeDatabase(request.database) : 'the Django database'}.`,
  );

  let serverVersion = '';
  if (request.database) {
    const clients =
      request.engine === 'postgresql' ? await postgresClientsOn(edges.dumpHost, request.postgresClientRoot) : [];
    const newest = clients.sort((a, b) => b.major - a.major)[0];
    serverVersion = await readServerVersion(
      edges.dumpHost,
      request.database,
      newest ? tool(newest, 'psql') : 'psql',
      'mariadb',
    );
  }

  let plain = path;
  const partials: string[] = [];
  try {
    if (encrypted) {
      plain = `${path.replace(/\.enc$/, '')}.decrypted.partial`;
      partials.push(plain);
      edges.trackPartial?.(plain);
      await edges.files.createPrivate?.(plain);
      const dec = await edges.storeHost.run(
        'openssl',
        [...OPENSSL_ENC_ARGS, '-d', '-pass', `env:${PASSPHRASE_ENV}`, '-in', path, '-out', plain],
        {
          secretEnv: { [PASSPHRASE_ENV]: request.passphrase! },
        },
      );
      if (dec.code !== 0)
        throw new ActionFailure(
          `Decrypting '${posix.basename(path)}' failed (wrong passphrase?): ${describeExit('openssl', dec)}. Nothing was restored.`,
        );
    }
    if (format === 'custom' && !isCustomArchive(await edges.files.head(plain, 5))) {
      throw new ConfigurationError(
        `Input 'backup': '${posix.basename(path)}' is not a pg_dump custom archive. Nothing was restored.`,
      );
    }

    let safetyBackup: BackupResult | undefined;
    if (!request.skipSafetyBackup) {
      edges.log('Taking a safety backup of the current data first.');
      const safetyRequest: BackupRequest = {
        engine: request.engine,
        database: request.database,
        postgresFormat: 'custom',
        directory: request.safetyDirectory,
        prefix: `${targetName(request)}${SAFETY_BACKUP_SUFFIX}`,
        sha: request.sha,
        now: request.now,
        keepDays: 0,
        keepCount: 0,
        verify: 'archive',
        // The safety copy holds the same data as the backup: it is kept as privately.
        passphrase: request.passphrase,
        django: request.django && { ...request.django, databaseUrl: request.databaseUrl },
        postgresClientRoot: request.postgresClientRoot,
        takenNames: request.safetyTakenNames,
      };
      const safetyEdges: BackupEdges = {
        ...edges,
        // The safety backup says "none left" when it is done: the decrypted copy still is.
        trackPartial: (p) => {
          edges.trackPartial?.(p);
          if (p === undefined) for (const q of partials) edges.trackPartial?.(q);
        },
      };
      safetyBackup = await takeBackup(safetyRequest, safetyEdges);
      edges.log(`Safety backup: ${safetyBackup.path}`);
      await edges.keepSafetyBackup?.(safetyBackup, safetyRequest, safetyEdges);
    }

    const command = await applyRestore(format, plain, serverVersion, request, edges);
    return {
      path,
      format,
      database: targetName(request),
      safetyBackup,
      serverVersion,
      durationMs: clock() - started,
      command,
    };
  } finally {
    for (const p of partials) await edges.files.remove(p).catch(() => undefined);
    if (partials.length > 0) edges.trackPartial?.(undefined);
  }
}

async function applyRestore(
  format: BackupFormat,
  path: string,
  serverVersion: string,
  request: RestoreRequest,
  edges: BackupEdges,
): Promise<string> {
  const host = edges.dumpHost;
  // The file is read where it is: directly when the restore runs next to it, else streamed over SSH stdin.
  const input =
    host.remote === edges.files.remote
      ? { stdinOnHost: path }
      : { stdin: (await import('node:fs')).createReadStream(path) };
  const fail = (what: string, result: Parameters<typeof describeExit>[1]) =>
    new ActionFailure(
      `The restore failed and was stopped: ${describeExit(what, result)}.` +
        (format === 'custom' || format === 'plain'
          ? ' It ran in one transaction, so the database is unchanged.'
          : ' The safety backup holds the data as it was before.'),
    );
  if (format === 'custom' || format === 'plain') {
    const target = request.database!;
    const client = choosePostgresClient(
      serverVersion,
      await postgresClientsOn(host, request.postgresClientRoot),
      host.where,
    );
    const { PGPASSWORD, ...env } = postgresEnvironment(target);
    const options = { env, secretEnv: PGPASSWORD ? { PGPASSWORD } : undefined, ...input, signal: edges.signal };
    if (format === 'custom') {
      const args = [
        '--clean',
        '--if-exists',
        '--single-transaction',
        '--exit-on-error',
        '--no-owner',
        '--no-acl',
        `--dbname=${libpqDatabaseArgument(target.database)}`,
      ];
      const result = await host.run(tool(client, 'pg_restore'), args, options);
      if (result.code !== 0) throw fail('pg_restore', result);
      return `pg_restore ${args.join(' ')}`;
    }
    const args = [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '--single-transaction',
      `--dbname=${libpqDatabaseArgument(target.database)}`,
      '-o',
      '/dev/null',
    ];
    const result = await host.run(tool(client, 'psql'), args, options);
    if (result.code !== 0) throw fail('psql', result);
    return `psql ${args.join(' ')}`;
  }
  if (format === 'mysql') {
    const target = request.database!;
    const { args, env } = mysqlConnection(target);
    const probe = await host.sh('command -v mariadb >/dev/null 2>&1 && echo mariadb || echo mysql');
    const client = probe.stdout.trim() || 'mysql';
    // Without --force the client stops at the first failing statement.
    const full = [...args, `--database=${target.database}`];
    const result = await host.run(client, full, { secretEnv: env, ...input, signal: edges.signal });
    if (result.code !== 0) throw fail(client, result);
    return `${client} ${full.join(' ')}`;
  }
  const django = request.django!;
  const secretEnv: Record<string, string> = request.databaseUrl ? { DATABASE_URL: request.databaseUrl } : {};
  const manage = (args: string[], stdin?: typeof input) =>
    host.run('sh', ['-c', `${django.manageCommand} "$@"`, 'manage.py', ...args], {
      cwd: django.workingDirectory,
      secretEnv,
      signal: edges.signal,
      ...stdin,
    });
  // loaddata adds and overwrites by primary key; flushing first makes the result equal the backup.
  const flushed = await manage(['flush', '--no-input']);
  if (flushed.code !== 0)
    throw new ActionFailure(`The restore failed: ${describeExit('manage.py flush', flushed)}. Nothing was restored.`);
  // The fixture goes in on stdin: loaddata reads a file's format from its name, which a decrypted copy
  // (….decrypted.partial) does not carry, and a file kept on the runner is not on the server manage.py runs on.
  const loaded = await manage(['loaddata', '--format=json', '-'], input);
  if (loaded.code !== 0) throw fail('manage.py loaddata', loaded);
  return `${django.manageCommand} flush --no-input && ${django.manageCommand} loaddata --format=json - < ${path}`;
}

export function restoreSummary(result: RestoreResult, where: string, extraRows: [string, string][] = []): string {
  const rows: [string, string][] = [
    ['Restored', `\`${result.path}\` (on ${where})`],
    ['Into database', `\`${result.database}\``],
    ['Format', result.format],
    ['Server version', result.serverVersion || '(not read)'],
    [
      'Safety backup',
      result.safetyBackup
        ? `\`${result.safetyBackup.path}\` (${result.safetyBackup.sizeBytes} bytes, sha256 \`${result.safetyBackup.sha256}\`)`
        : 'skipped (skip-safety-backup: true)',
    ],
    ...extraRows,
    ['Command', `\`${result.command}\``],
    ['Duration', `${result.durationMs} ms`],
  ];
  return [
    '## Database restore',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');
}
