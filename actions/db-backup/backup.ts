import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { backupFileName, planRetention, type BackupExtension } from '../shared/backup-files.js';
import {
  describeDatabase,
  libpqDatabaseArgument,
  mysqlConnection,
  mysqlIdentifier,
  postgresEnvironment,
  postgresIdentifier,
  type DatabaseTarget,
} from '../shared/database-url.js';
import { ActionFailure } from '../shared/errors.js';
import { describeExit, lastErrorLine, type ProcessResult } from '../shared/process.js';
import type { BucketSettings } from '../shared/object-store.js';
import {
  chooseMysqlDump,
  choosePostgresClient,
  parseMysqlVersion,
  postgresClientFromVersionText,
  postgresClientsFromPaths,
  type PostgresClient,
} from './client-plan.js';
import type { CommandHost, FileStore } from './places.js';
import { shellQuote } from '../shared/ssh.js';
import { checkArchiveListing, checkSize, checkSqlMarker, isCustomArchive, type BackupFormat } from './verify.js';

export type BackupEngine = 'postgresql' | 'mysql' | 'django';

/** Everything a backup needs, already validated (by inputs.ts, or by the deploy action that calls this). */
export interface BackupRequest {
  engine: BackupEngine;
  /** Required for postgresql and mysql; for django, handed to manage.py as DATABASE_URL when given. */
  database?: DatabaseTarget;
  /** PostgreSQL only: custom archive (pg_restore) or plain SQL (psql). */
  postgresFormat: 'custom' | 'plain';
  /** Absolute directory on the file store. */
  directory: string;
  prefix: string;
  sha: string;
  now: Date;
  keepDays: number;
  keepCount: number;
  verify: 'archive' | 'restore';
  /** When set, the verified dump is encrypted (openssl enc -aes-256-cbc -pbkdf2 -iter 600000). */
  passphrase?: string;
  /** Django: the command that runs manage.py (e.g. 'python manage.py'), and where. */
  django?: { manageCommand: string; workingDirectory: string; databaseUrl?: string };
  /** Where versioned PostgreSQL clients are installed (Debian: /usr/lib/postgresql). */
  postgresClientRoot: string;
  /** Names already used in another place (a bucket): the new backup takes none of them. */
  takenNames?: string[];
  /** Leave retention to the caller, who applies it once every place holds a verified copy. */
  deferRetention?: boolean;
}

export interface BackupEdges {
  /** Runs the dump (can reach the database). */
  dumpHost: CommandHost;
  /** Keeps the files; `storeHost` runs commands next to them (the same host as dumpHost, or the runner). */
  files: FileStore;
  storeHost: CommandHost;
  log: (message: string) => void;
  warn: (message: string) => void;
  /** Called with each partial path as soon as it exists, and with undefined once none is left (for signal cleanup). */
  trackPartial?: (path: string | undefined) => void;
  /** Called with a multipart upload's id once the bucket created it, and with undefined once it completed or was aborted. */
  trackUpload?: (upload: { key: string; uploadId: string } | undefined) => void;
  clock?: () => number;
  signal?: AbortSignal;
}

export interface BackupResult {
  path: string;
  file: string;
  location: 'runner' | 'server' | 'bucket';
  where: string;
  sizeBytes: number;
  sha256: string;
  format: BackupFormat;
  encrypted: boolean;
  serverVersion: string;
  client: string;
  durationMs: number;
  verification: string;
  deleted: string[];
  database: string;
}

export const EXTENSIONS: Record<BackupFormat, BackupExtension> = {
  custom: 'dump',
  plain: 'sql',
  mysql: 'sql',
  json: 'json',
};
export const OPENSSL_ENC_ARGS = ['enc', '-aes-256-cbc', '-pbkdf2', '-iter', '600000', '-md', 'sha256'];
export const PASSPHRASE_ENV = 'RUNBOOK_BACKUP_PASSPHRASE';

export function formatOf(request: Pick<BackupRequest, 'engine' | 'postgresFormat'>): BackupFormat {
  if (request.engine === 'postgresql') return request.postgresFormat;
  return request.engine === 'mysql' ? 'mysql' : 'json';
}

/** A PostgreSQL client set on a host: versioned directories first, else whatever pg_dump is on PATH. */
export async function postgresClientsOn(host: CommandHost, root: string): Promise<PostgresClient[]> {
  const listing = await host.sh(
    `for f in ${shellQuote(root)}/*/bin/pg_dump; do [ -x "$f" ] && printf '%s\\n' "$f"; done; true`,
  );
  const clients = postgresClientsFromPaths(listing.stdout.split('\n'));
  if (clients.length > 0) return clients;
  const onPath = await host.sh('pg_dump --version 2>/dev/null || true');
  const client = postgresClientFromVersionText(onPath.stdout);
  return client ? [client] : [];
}

/** The first backup name (by sequence) not among `taken`; never one that exists, so no backup is overwritten. */
export function freeName(taken: ReadonlySet<string>, nameFor: (sequence: number) => string): string {
  for (let sequence = 1; sequence < 100; sequence++) {
    const name = nameFor(sequence);
    if (!taken.has(name)) return name;
  }
  throw new ActionFailure(
    `99 backups of this database were already taken in this minute at this commit (${nameFor(1)} and its sequels); remove some first.`,
  );
}

export function tool(client: PostgresClient, name: string): string {
  return client.binDir ? `${client.binDir}/${name}` : name;
}

/** Explains a failed login or connection in one line, naming where (never the password). */
export function connectionFailure(target: DatabaseTarget, result: ProcessResult, what: string): ActionFailure {
  // psql puts the cause on one line and a hint on the next; keep both, without the tool's own prefix.
  const lines = result.stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const start = Math.max(
    0,
    lines.findIndex((l) => /error|FATAL|failed|denied|refused/i.test(l)),
  );
  const reason = lines.slice(start, start + 2).join(' ') || describeExit(what, result);
  return new ActionFailure(
    `Cannot connect to ${describeDatabase(target)}: ${reason.replace(/^(psql|pg_dump|mariadb|mysql|mariadb-dump|mysqldump): (error: |Got error: )?/, '')}`,
  );
}

/** The server's version, read before anything is dumped (the client is chosen from it). */
export async function readServerVersion(
  host: CommandHost,
  target: DatabaseTarget,
  psql = 'psql',
  mysqlClient = 'mariadb',
): Promise<string> {
  if (target.engine === 'postgresql') {
    const { PGPASSWORD, ...env } = postgresEnvironment(target);
    const result = await host.run(psql, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', 'SHOW server_version'], {
      env,
      secretEnv: PGPASSWORD ? { PGPASSWORD } : undefined,
    });
    if (result.code !== 0) throw connectionFailure(target, result, 'psql');
    return result.stdout.trim();
  }
  const { args, env } = mysqlConnection(target);
  const result = await host.run(mysqlClient, [...args, '--batch', '--skip-column-names', '-e', 'SELECT VERSION()'], {
    secretEnv: env,
  });
  if (result.code !== 0) throw connectionFailure(target, result, mysqlClient);
  return result.stdout.trim();
}

export interface DumpSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
  secretEnv: Record<string, string>;
  cwd?: string;
  /** The tool's own output-file option, used when the dump runs where the file is kept (seekable archive). */
  fileOption?: (path: string) => string;
  client: string;
  serverVersion: string;
}

export async function planDump(request: BackupRequest, edges: BackupEdges): Promise<DumpSpec> {
  const host = edges.dumpHost;
  if (request.engine === 'postgresql') {
    const target = request.database!;
    const clients = await postgresClientsOn(host, request.postgresClientRoot);
    const newest = [...clients].sort((a, b) => b.major - a.major)[0];
    const serverVersion = await readServerVersion(host, target, newest ? tool(newest, 'psql') : 'psql');
    const client = choosePostgresClient(serverVersion, clients, host.where);
    const { PGPASSWORD, ...env } = postgresEnvironment(target);
    const args = ['--no-password', request.postgresFormat === 'custom' ? '--format=custom' : '--format=plain'];
    // A plain dump that drops what it recreates restores over existing data the same way pg_restore --clean does.
    if (request.postgresFormat === 'plain') args.push('--clean', '--if-exists');
    return {
      command: tool(client, 'pg_dump'),
      args,
      env,
      secretEnv: PGPASSWORD ? { PGPASSWORD } : {},
      fileOption: (path) => `--file=${path}`,
      client: `pg_dump ${client.major}${client.binDir ? ` (${client.binDir})` : ''}`,
      serverVersion,
    };
  }
  if (request.engine === 'mysql') {
    const target = request.database!;
    const probe = await host.sh(
      'command -v mariadb-dump >/dev/null 2>&1 && echo mariadb-dump; command -v mysqldump >/dev/null 2>&1 && echo mysqldump && mysqldump --version 2>/dev/null; true',
    );
    const available = {
      mariadbDump: /^mariadb-dump$/m.test(probe.stdout),
      mysqldump: /^mysqldump$/m.test(probe.stdout),
      mysqldumpIsMariadb: /mariadb/i.test(probe.stdout.split('\n').slice(1).join('\n')),
    };
    const clientName = available.mariadbDump ? 'mariadb' : 'mysql';
    const serverVersion = await readServerVersion(host, target, clientName, clientName);
    const choice = chooseMysqlDump(parseMysqlVersion(serverVersion), available, host.where);
    if (choice.warning) edges.warn(choice.warning);
    const { args, env } = mysqlConnection(target, 'dump');
    return {
      command: choice.dump,
      args: [
        ...args,
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--no-tablespaces',
        '--skip-lock-tables',
        // The name is an operand, never an option, whatever it starts with.
        '--',
        target.database,
      ],
      env: {},
      secretEnv: env,
      client: choice.dump,
      serverVersion,
    };
  }
  const django = request.django!;
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  if (django.databaseUrl) secretEnv.DATABASE_URL = django.databaseUrl;
  return {
    command: 'sh',
    // The user's command is a shell fragment (it may be 'python manage.py' or '.venv/bin/python src/manage.py').
    args: [
      '-c',
      `${django.manageCommand} "$@"`,
      'manage.py',
      'dumpdata',
      '--natural-foreign',
      '--natural-primary',
      '--exclude=contenttypes',
      '--exclude=auth.permission',
      '--exclude=sessions.session',
      '--exclude=admin.logentry',
    ],
    env,
    secretEnv,
    cwd: django.workingDirectory,
    client: `${django.manageCommand} dumpdata`,
    serverVersion: '',
  };
}

/**
 * Takes one backup: read the server version, pick a client at least as new, dump into `<name>.partial`, verify,
 * (encrypt,) rename into place, then apply retention. Any failure removes the partial: a name without
 * `.partial` always means a verified backup.
 */
export async function takeBackup(request: BackupRequest, edges: BackupEdges): Promise<BackupResult> {
  const clock = edges.clock ?? Date.now;
  const started = clock();
  const { files } = edges;
  const format = formatOf(request);
  if (runsAsOneScript(request, edges)) return takeServerArchive(request, edges, started);
  const spec = await planDump(request, edges);
  if (spec.serverVersion)
    edges.log(`Server version ${spec.serverVersion}; dumping with ${spec.client} on ${edges.dumpHost.where}.`);

  const existing = new Set([...(await files.list(request.directory)), ...(request.takenNames ?? [])]);
  const name = freeName(existing, (sequence) =>
    backupFileName(request.prefix, request.now, request.sha, EXTENSIONS[format], {
      encrypted: request.passphrase !== undefined,
      sequence,
    }),
  );
  const finalPath = posix.join(request.directory, name);
  const plainPath = posix.join(request.directory, `${name.replace(/\.enc$/, '')}.partial`);
  const encPath = `${finalPath}.partial`;
  const partials = new Set<string>();
  const track = (path: string) => {
    partials.add(path);
    edges.trackPartial?.(path);
  };

  try {
    track(plainPath);
    await files.createPrivate?.(plainPath);
    const sameHost = edges.dumpHost.remote === edges.files.remote;
    const args = [...spec.args];
    let streamedHash: string | undefined;
    let result: ProcessResult;
    const dumpStarted = clock();
    if (sameHost && spec.fileOption) {
      args.splice(spec.args.length, 0, spec.fileOption(plainPath));
      result = await edges.dumpHost.run(spec.command, args, {
        env: spec.env,
        secretEnv: spec.secretEnv,
        cwd: spec.cwd,
        signal: edges.signal,
      });
    } else {
      result = await edges.dumpHost.run(spec.command, args, {
        env: spec.env,
        secretEnv: spec.secretEnv,
        cwd: spec.cwd,
        signal: edges.signal,
        sha256: !sameHost || !edges.files.remote,
        ...(sameHost ? { stdoutOnHost: plainPath } : { stdoutFile: plainPath }),
      });
      streamedHash = result.sha256;
    }
    if (edges.signal?.aborted) throw new ActionFailure('The backup was cancelled; its partial file was removed.');
    const dumped = clock();
    if (result.code !== 0) {
      if (
        request.database &&
        /password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(
          result.stderrTail,
        )
      ) {
        throw connectionFailure(request.database, result, spec.command);
      }
      throw new ActionFailure(`The dump failed: ${describeExit(posix.basename(spec.command), result)}`);
    }

    // The checksum of an unencrypted dump is read while the verification runs: on a large archive the two reads
    // overlap instead of adding up.
    const hashing = streamedHash || request.passphrase !== undefined ? undefined : files.sha256(plainPath);
    hashing?.catch(() => undefined);
    edges.log(`Dumped in ${dumped - dumpStarted} ms (checks before the dump: ${dumpStarted - started} ms); verifying.`);
    const verification = await verifyDump(format, plainPath, request, edges, spec);
    edges.log(`Verified in ${clock() - dumped} ms.`);
    let path = plainPath;
    if (request.passphrase !== undefined) {
      track(encPath);
      await files.createPrivate?.(encPath);
      const enc = await edges.storeHost.run(
        'openssl',
        [...OPENSSL_ENC_ARGS, '-salt', '-pass', `env:${PASSPHRASE_ENV}`, '-in', plainPath, '-out', encPath],
        {
          secretEnv: { [PASSPHRASE_ENV]: request.passphrase },
        },
      );
      if (enc.code !== 0) throw new ActionFailure(`Encrypting the backup failed: ${describeExit('openssl', enc)}`);
      await files.remove(plainPath);
      path = encPath;
      streamedHash = undefined;
    }
    const sizeBytes = await files.size(path);
    const sha256 = streamedHash ?? (await (hashing ?? files.sha256(path)));
    await files.rename(path, finalPath);
    partials.clear();
    edges.trackPartial?.(undefined);

    const deleted = await applyRetention(request, name, edges);
    return {
      path: finalPath,
      file: name,
      location: files.remote ? 'server' : 'runner',
      where: files.where,
      sizeBytes,
      sha256,
      format,
      encrypted: request.passphrase !== undefined,
      serverVersion: spec.serverVersion,
      client: spec.client,
      durationMs: clock() - started,
      verification,
      deleted,
      database: request.database?.database ?? '',
    };
  } catch (error) {
    for (const path of partials) await files.remove(path).catch(() => undefined);
    edges.trackPartial?.(undefined);
    throw error;
  }
}

/**
 * A custom-format PostgreSQL archive dumped and kept on one server (the deploy's pre-migration backup, db-backup
 * over SSH): every command over the connection costs a client start and a remote shell, so the same steps run as
 * two scripts instead of about ten commands. The client is still chosen here from the server's version, and the
 * checks are those of verifyDump, made on the server before the rename and repeated here on what it reports.
 */
function runsAsOneScript(request: BackupRequest, edges: BackupEdges): boolean {
  return (
    request.engine === 'postgresql' &&
    request.postgresFormat === 'custom' &&
    request.passphrase === undefined &&
    request.verify === 'archive' &&
    edges.dumpHost.remote &&
    edges.files.remote &&
    edges.dumpHost === edges.storeHost
  );
}

const q = shellQuote;
const MARK = 'runbook-backup';

/** Clients, server version (read with the newest psql) and the files already in the directory, in one script. */
export function probeScript(root: string, directory: string): string {
  return [
    'newest=; newest_major=-1',
    `for f in ${q(root)}/*/bin/pg_dump; do`,
    '  [ -x "$f" ] || continue',
    '  printf \'client %s\\n\' "$f"',
    '  m=${f%/bin/pg_dump}; m=${m##*/}',
    "  case $m in ''|*[!0-9]*) continue;; esac",
    '  if [ "$m" -gt "$newest_major" ]; then newest_major=$m; newest=${f%/pg_dump}/psql; fi',
    'done',
    `if [ -z "$newest" ]; then printf 'path %s\\n' "$(pg_dump --version 2>/dev/null || true)"; newest=psql; fi`,
    `printf 'psql %s\\n' "$newest"`,
    `if [ -d ${q(directory)} ]; then for f in ${q(directory)}/*; do if [ -e "$f" ]; then printf 'file %s\\n' "\${f##*/}"; fi; done; fi`,
    'rc=0; v=$("$newest" -X -A -t -v ON_ERROR_STOP=1 -c \'SHOW server_version\') || rc=$?',
    `if [ "$rc" = 0 ]; then printf 'server %s\\n' "$v"; else printf 'psql-exit %s\\n' "$rc"; fi`,
  ].join('\n');
}

/**
 * Dump to the partial, check it (size, PGDMP magic, pg_restore --list with its header), hash it and rename it
 * only if every check passed; the partial is removed on any other way out. The last line says what happened.
 */
export function archiveScript(dump: string, pgRestore: string, partial: string, final: string): string {
  const p = q(partial);
  return [
    'umask 077',
    `trap 'rm -f ${p} ${q(`${partial}.list`)} ${q(`${partial}.err`)}' EXIT`,
    "trap 'exit 143' HUP INT TERM",
    'now() { date +%s%3N; }',
    't0=$(now)',
    `rc=0; ${dump} || rc=$?`,
    `if [ "$rc" != 0 ]; then echo "${MARK} dump $rc"; exit 0; fi`,
    't1=$(now)',
    `size=$(wc -c < ${p} | tr -d ' ')`,
    `magic=$(head -c 5 ${p} | od -An -v -tx1 | tr -d ' \\n')`,
    `lrc=0; ${q(pgRestore)} --list ${p} > ${q(`${partial}.list`)} 2> ${q(`${partial}.err`)} || lrc=$?`,
    `if [ "$lrc" != 0 ]; then cat ${q(`${partial}.err`)} >&2; fi`,
    `entries=$(grep -c '^[0-9][0-9]*;' ${q(`${partial}.list`)} || true)`,
    `header=0; if grep -q '; Archive created at' ${q(`${partial}.list`)}; then header=1; fi`,
    'sum=-; state=rejected',
    `if [ "$size" -gt 0 ] && [ "$magic" = 5047444d50 ] && [ "$lrc" = 0 ] && [ "$header" = 1 ]; then`,
    `  sum=$(sha256sum ${p} | cut -d' ' -f1)`,
    `  if [ -e ${q(final)} ]; then state=exists; else mv -f ${p} ${q(final)}; state=kept; fi`,
    'fi',
    't2=$(now)',
    `echo "${MARK} $state $size $magic $lrc $header $entries $sum $t0 $t1 $t2"`,
  ].join('\n');
}

async function takeServerArchive(request: BackupRequest, edges: BackupEdges, started: number): Promise<BackupResult> {
  const clock = edges.clock ?? Date.now;
  const host = edges.dumpHost;
  const target = request.database!;
  const { PGPASSWORD, ...env } = postgresEnvironment(target);
  const secretEnv = PGPASSWORD ? { PGPASSWORD } : undefined;
  const probe = await host.sh(probeScript(request.postgresClientRoot, request.directory), { env, secretEnv });
  if (probe.code !== 0)
    throw new ActionFailure(
      `Preparing the backup on ${host.where} failed: ${describeExit('the remote script', probe)}`,
    );
  const lines = probe.stdout.split('\n');
  const value = (word: string) => lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1));
  let clients = postgresClientsFromPaths(value('client'));
  if (clients.length === 0) {
    const onPath = postgresClientFromVersionText(value('path').join('\n'));
    clients = onPath ? [onPath] : [];
  }
  const failedPsql = value('psql-exit')[0];
  if (failedPsql !== undefined) {
    const result = { code: Number(failedPsql), signal: null, stdout: '', stderrTail: probe.stderrTail, bytes: 0 };
    throw connectionFailure(target, result, value('psql')[0] ?? 'psql');
  }
  const serverVersion = (value('server')[0] ?? '').trim();
  const client = choosePostgresClient(serverVersion, clients, host.where);
  const clientName = `pg_dump ${client.major}${client.binDir ? ` (${client.binDir})` : ''}`;
  edges.log(`Server version ${serverVersion}; dumping with ${clientName} on ${host.where}.`);

  const name = freeName(new Set([...value('file'), ...(request.takenNames ?? [])]), (sequence) =>
    backupFileName(request.prefix, request.now, request.sha, 'dump', { sequence }),
  );
  const finalPath = posix.join(request.directory, name);
  const partial = `${finalPath}.partial`;
  edges.trackPartial?.(partial);
  try {
    const dump = [tool(client, 'pg_dump'), '--no-password', '--format=custom', `--file=${partial}`].map(q).join(' ');
    const scriptStarted = clock();
    const result = await host.sh(archiveScript(dump, tool(client, 'pg_restore'), partial, finalPath), {
      env,
      secretEnv,
      signal: edges.signal,
    });
    if (edges.signal?.aborted) throw new ActionFailure('The backup was cancelled; its partial file was removed.');
    const last = result.stdout
      .split('\n')
      .reverse()
      .find((l) => l.startsWith(`${MARK} `));
    if (result.code !== 0 || !last)
      throw new ActionFailure(`The backup on ${host.where} failed: ${describeExit('the backup script', result)}`);
    const [state, ...fields] = last.slice(MARK.length + 1).split(' ');
    if (state === 'dump') {
      const failed = { ...result, code: Number(fields[0]) };
      if (
        /password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(
          result.stderrTail,
        )
      )
        throw connectionFailure(target, failed, tool(client, 'pg_dump'));
      throw new ActionFailure(`The dump failed: ${describeExit('pg_dump', failed)}`);
    }
    const [size, magic, listCode, header, entries, sha256, t0, t1, t2] = fields;
    const timings = [t0, t1, t2].map(Number);
    if (timings.every(Number.isFinite)) {
      edges.log(
        `Dumped in ${timings[1] - timings[0]} ms (checks before the dump: ${scriptStarted - started} ms); verifying.`,
      );
      edges.log(`Verified in ${timings[2] - timings[1]} ms.`);
    }
    const fail = (reason: string) =>
      new ActionFailure(`The backup failed verification: ${reason}; no backup was kept.`);
    const reason =
      checkSize(Number(size)) ??
      (isCustomArchive(Buffer.from(magic, 'hex')) ? undefined : 'the file is not a pg_dump custom archive') ??
      checkArchiveListing(Number(listCode), header === '1' ? '; Archive created at' : '', result.stderrTail);
    if (reason) {
      if (state === 'kept') await edges.files.remove(finalPath);
      throw fail(reason);
    }
    if (state !== 'kept')
      throw new ActionFailure(`The backup could not be renamed: ${finalPath} appeared on ${host.where} meanwhile.`);
    edges.trackPartial?.(undefined);
    const deleted = await applyRetention(request, name, edges);
    return {
      path: finalPath,
      file: name,
      location: 'server',
      where: edges.files.where,
      sizeBytes: Number(size),
      sha256,
      format: 'custom',
      encrypted: false,
      serverVersion,
      client: clientName,
      durationMs: clock() - started,
      verification: `${size} bytes; pg_restore --list read ${entries} entries`,
      deleted,
      database: target.database,
    };
  } catch (error) {
    await edges.files.remove(partial).catch(() => undefined);
    edges.trackPartial?.(undefined);
    throw error;
  }
}

async function verifyDump(
  format: BackupFormat,
  path: string,
  request: BackupRequest,
  edges: BackupEdges,
  spec: DumpSpec,
): Promise<string> {
  const fail = (reason: string) => new ActionFailure(`The backup failed verification: ${reason}; no backup was kept.`);
  const size = await edges.files.size(path);
  const empty = checkSize(size);
  if (empty) throw fail(empty);
  const checks: string[] = [`${size} bytes`];
  if (format === 'custom') {
    if (!isCustomArchive(await edges.files.head(path, 5))) throw fail('the file is not a pg_dump custom archive');
    const clients = await postgresClientsOn(edges.storeHost, request.postgresClientRoot);
    const client = choosePostgresClient(spec.serverVersion, clients, edges.storeHost.where);
    const list = await edges.storeHost.run(tool(client, 'pg_restore'), ['--list', path]);
    const reason = checkArchiveListing(list.code, list.stdout, list.stderrTail);
    if (reason) throw fail(reason);
    const entries = list.stdout.split('\n').filter((l) => /^\d+;/.test(l)).length;
    checks.push(`pg_restore --list read ${entries} entries`);
  } else if (format === 'plain' || format === 'mysql') {
    const reason = checkSqlMarker(format, await edges.files.tail(path, 4096));
    if (reason) throw fail(reason);
    checks.push('completion marker present');
  } else {
    const reason = await edges.files.checkJson(path);
    if (reason) throw fail(reason);
    checks.push('JSON parses');
  }
  if (request.verify === 'restore') {
    checks.push(await testRestore(format, path, request, edges, spec));
  }
  return checks.join('; ');
}

/** Restores the dump into a scratch database next to the real one, then drops it whatever happened. */
export async function testRestore(
  format: BackupFormat,
  path: string,
  request: BackupRequest,
  edges: BackupEdges,
  spec: DumpSpec,
  /** The backup as a stream on the runner (read back from a bucket) instead of the file at `path`. */
  openStream?: () => Promise<Readable>,
): Promise<string> {
  const target = request.database!;
  const scratch = `${target.database.slice(0, 40)}_verify_${Math.random().toString(36).slice(2, 8)}`;
  const host = edges.dumpHost;
  const fromFile = openStream
    ? { stdin: await openStream() }
    : edges.dumpHost.remote === edges.files.remote
      ? { stdinOnHost: path }
      : { stdin: (await import('node:fs')).createReadStream(path) };
  const fail = (what: string, result: ProcessResult) =>
    new ActionFailure(
      `The backup failed its test restore into scratch database '${scratch}': ${describeExit(what, result)}; no backup was kept.`,
    );
  if (format === 'custom' || format === 'plain') {
    const binDir = spec.command.includes('/') ? posix.dirname(spec.command) : '';
    const pg = (name: string) => (binDir ? `${binDir}/${name}` : name);
    const { PGPASSWORD, ...env } = postgresEnvironment(target);
    const secretEnv = PGPASSWORD ? { PGPASSWORD } : undefined;
    // The database to connect to comes from PGDATABASE: a name in argv could be read as a connection string.
    const admin = (sql: string) => host.run(pg('psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env, secretEnv });
    const created = await admin(`CREATE DATABASE ${postgresIdentifier(scratch)}`);
    if (created.code !== 0) throw fail('CREATE DATABASE', created);
    try {
      const scratchEnv = { ...env, PGDATABASE: scratch };
      const restored =
        format === 'custom'
          ? await host.run(
              pg('pg_restore'),
              [
                '--no-owner',
                '--no-acl',
                '--exit-on-error',
                '--single-transaction',
                `--dbname=${libpqDatabaseArgument(scratch)}`,
              ],
              { env: scratchEnv, secretEnv, ...fromFile },
            )
          : await host.run(
              pg('psql'),
              ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-o', '/dev/null'],
              { env: scratchEnv, secretEnv, ...fromFile },
            );
      if (restored.code !== 0) throw fail(format === 'custom' ? 'pg_restore' : 'psql', restored);
      const tables = await host.run(
        pg('psql'),
        [
          '-X',
          '-A',
          '-t',
          '-c',
          "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')",
        ],
        { env: scratchEnv, secretEnv },
      );
      return `test restore into a scratch database succeeded (${tables.stdout.trim() || '?'} tables)`;
    } finally {
      const dropped = await admin(`DROP DATABASE IF EXISTS ${postgresIdentifier(scratch)}`);
      if (dropped.code !== 0)
        edges.warn(`Could not drop the scratch database '${scratch}': ${lastErrorLine(dropped.stderrTail)}`);
    }
  }
  const { args, env } = mysqlConnection(target);
  const client = spec.command.startsWith('mariadb') ? 'mariadb' : 'mysql';
  const admin = (sql: string) => host.run(client, [...args, '-e', sql], { secretEnv: env });
  const created = await admin(`CREATE DATABASE ${mysqlIdentifier(scratch)}`);
  if (created.code !== 0) throw fail('CREATE DATABASE', created);
  try {
    const restored = await host.run(client, [...args, `--database=${scratch}`], { secretEnv: env, ...fromFile });
    if (restored.code !== 0) throw fail(client, restored);
    return 'test restore into a scratch database succeeded';
  } finally {
    const dropped = await admin(`DROP DATABASE IF EXISTS ${mysqlIdentifier(scratch)}`);
    if (dropped.code !== 0)
      edges.warn(`Could not drop the scratch database '${scratch}': ${lastErrorLine(dropped.stderrTail)}`);
  }
}

export async function applyRetention(
  request: Pick<BackupRequest, 'keepDays' | 'keepCount' | 'prefix' | 'now' | 'directory' | 'deferRetention'>,
  name: string,
  edges: Pick<BackupEdges, 'files' | 'log'>,
  now = false,
): Promise<string[]> {
  if (request.keepDays === 0 && request.keepCount === 0) return [];
  if (request.deferRetention && !now) return [];
  const plan = planRetention(await edges.files.list(request.directory), {
    prefix: request.prefix,
    keepDays: request.keepDays,
    keepCount: request.keepCount,
    now: request.now,
    protect: name,
  });
  for (const file of plan.remove) {
    await edges.files.remove(posix.join(request.directory, file));
    edges.log(`Retention: deleted ${file}`);
  }
  return plan.remove;
}

/** The server a backup was taken on over SSH: the connection db-restore needs to reach the database and file. */
export interface BackupServer {
  host: string;
  port: number;
  user: string;
}

/**
 * The db-restore step that puts this backup back, ready to paste into a workflow. Every key is an input of
 * db-restore's action.yml (a unit test checks each variant); secrets appear as the secret names the reusable
 * workflows use, never as values.
 */
export function restoreCommand(
  result: Pick<BackupResult, 'path' | 'database' | 'encrypted' | 'location' | 'format'>,
  actionRef: string,
  server?: BackupServer,
  bucket?: Pick<BucketSettings, 'region' | 'endpoint' | 'forcePathStyle' | 'credentials'>,
): string {
  const lines = [`- uses: ${actionRef}`, '  with:', `    backup: ${result.path}`];
  if (result.format === 'json') {
    lines.push('    engine: django', '    django-manage-command: python manage.py');
  } else {
    lines.push(`    database-url: \${{ secrets.DATABASE_URL }}`);
  }
  lines.push(`    confirm: ${result.database || '<database name>'}`);
  if (result.encrypted) lines.push(`    encryption-passphrase: \${{ secrets.BACKUP_PASSPHRASE }}`);
  // A dump taken over SSH reached a database only that server may reach: the restore goes the same way.
  if (result.location === 'server' || server) {
    if (result.location === 'server') lines.push('    storage: server');
    lines.push(`    ssh-host: ${server?.host ?? '<server>'}`);
    if (server && server.port !== 22) lines.push(`    ssh-port: ${server.port}`);
    lines.push(
      `    ssh-user: ${server?.user ?? '<user>'}`,
      `    ssh-private-key: \${{ secrets.DEPLOY_SSH_KEY }}`,
      `    ssh-known-hosts: \${{ secrets.SERVER_KNOWN_HOSTS }}`,
    );
  }
  // The bucket is reached as the backup reached it; credentials from the inputs become secret references (never
  // values), credentials from the environment need no input.
  if (result.location === 'bucket' && bucket) {
    lines.push(`    s3-region: ${bucket.region}`);
    if (bucket.endpoint) lines.push(`    s3-endpoint: ${bucket.endpoint}`);
    if (bucket.forcePathStyle) lines.push('    s3-force-path-style: true');
    if (bucket.credentials) {
      lines.push(
        `    s3-access-key-id: \${{ secrets.S3_ACCESS_KEY_ID }}`,
        `    s3-secret-access-key: \${{ secrets.S3_SECRET_ACCESS_KEY }}`,
      );
      if (bucket.credentials.sessionToken) lines.push(`    s3-session-token: \${{ secrets.S3_SESSION_TOKEN }}`);
    }
  }
  return lines.join('\n');
}
