// db-backup's bucket place: a dump streamed straight into an S3-compatible bucket (no file of the whole dump on
// the runner), or a verified backup file copied there; then the bucket's own retention.
import { createReadStream } from 'node:fs';
import { posix } from 'node:path';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { backupFileName, planRetention } from '../shared/backup-files.js';
import { ActionFailure } from '../shared/errors.js';
import {
  CHECKSUM_SUFFIX,
  objectKey,
  objectUrl,
  type ObjectStore,
  type StoredObject,
  type UploadReport,
} from '../shared/object-store.js';
import { choosePostgresClient } from './client-plan.js';
import { describeExit } from '../shared/process.js';
import {
  connectionFailure,
  EXTENSIONS,
  formatOf,
  freeName,
  planDump,
  postgresClientsOn,
  testRestore,
  tool,
  type BackupEdges,
  type BackupRequest,
  type BackupResult,
  type DumpSpec,
} from './backup.js';
import { checkArchiveListing, checkSize, checkSqlMarker, isCustomArchive, JsonStructureCheck } from './verify.js';

/** One verified copy in the bucket. */
export interface BucketCopy {
  url: string;
  key: string;
  sizeBytes: number;
  sha256: string;
  verification: string;
  deleted: string[];
}

/** The backup names already in the bucket (the new one must take none of them). */
export function namesIn(objects: StoredObject[]): string[] {
  return objects.map((o) => posix.basename(o.key));
}

/** What the object carries about itself: enough to know, from the bucket alone, what it is and where it came from. */
export function backupMetadata(
  request: Pick<BackupRequest, 'engine' | 'sha'> & { database?: { database: string } },
  fields: { format: string; serverVersion: string; sha256?: string; partSize: number },
): Record<string, string> {
  const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
  const metadata: Record<string, string> = {
    engine: request.engine,
    format: fields.format,
    'server-version': ascii(fields.serverVersion || 'unknown'),
    commit: ascii(request.sha || 'none'),
    database: ascii(request.database?.database ?? ''),
    'part-size': String(fields.partSize),
  };
  if (fields.sha256) metadata.sha256 = fields.sha256;
  return metadata;
}

/**
 * Passes the dump's output on to the upload and reads it on the way (start, end, JSON structure), without ever
 * ending the upload's stream: only the caller ends it, once the dump has exited cleanly and passed its checks, so a
 * dump that dies half-way can never complete the upload.
 */
class DumpTap extends Writable {
  readonly body = new PassThrough();
  head = Buffer.alloc(0);
  tail = Buffer.alloc(0);
  bytes = 0;
  private readonly json?: JsonStructureCheck;
  private readonly decoder = new StringDecoder('utf8');

  constructor(format: string) {
    super();
    if (format === 'json') this.json = new JsonStructureCheck();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    if (this.head.length < 5) this.head = Buffer.concat([this.head, chunk.subarray(0, 5 - this.head.length)]);
    this.tail = Buffer.concat([this.tail, chunk.subarray(Math.max(0, chunk.length - 4096))]);
    if (this.tail.length > 4096) this.tail = this.tail.subarray(this.tail.length - 4096);
    this.json?.feed(this.decoder.write(chunk));
    if (this.body.write(chunk)) callback();
    else this.body.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    callback();
  }

  /** Why the dump is not complete, or undefined. */
  problem(format: string): string | undefined {
    const empty = checkSize(this.bytes);
    if (empty) return empty;
    if (format === 'custom')
      return isCustomArchive(this.head) ? undefined : 'the output is not a pg_dump custom archive';
    if (format === 'plain' || format === 'mysql') return checkSqlMarker(format, this.tail.toString('utf8'));
    this.json!.feed(this.decoder.end());
    return this.json!.end();
  }
}

/**
 * The bucket is the only place: the dump runs (on the runner or over SSH) and its output is streamed into a
 * multipart upload. The upload completes only after the dump exited 0 with a complete output; the stored object's
 * checksum is then checked, a custom archive's table of contents is read back with pg_restore --list (and with
 * verify: restore the object is restored into a scratch database), and only then is the checksum file written
 * beside it: a backup without its `.sha256` is never taken as good.
 */
export async function streamBackupToBucket(
  request: BackupRequest,
  edges: BackupEdges,
  store: ObjectStore,
  existing: StoredObject[],
): Promise<BackupResult> {
  const clock = edges.clock ?? Date.now;
  const started = clock();
  const format = formatOf(request);
  const spec = await planDump(request, edges);
  if (spec.serverVersion)
    edges.log(`Server version ${spec.serverVersion}; dumping with ${spec.client} on ${edges.dumpHost.where}.`);
  const name = freeName(new Set(namesIn(existing)), (sequence) =>
    backupFileName(request.prefix, request.now, request.sha, EXTENSIONS[format], { sequence }),
  );
  const key = objectKey(store.settings, name);
  const url = objectUrl(store.settings, name);
  const tap = new DumpTap(format);
  edges.log(`Streaming the dump into ${url}.`);
  const uploading = trackedUpload(edges, key, (started) =>
    store.upload(
      key,
      tap.body,
      backupMetadata(request, { format, serverVersion: spec.serverVersion, partSize: store.settings.partSize }),
      edges.signal,
      started,
    ),
  );
  let uploadError: Error | undefined;
  // A failed upload stops reading: stop the dump too (its pipe would otherwise fill and block it for good).
  uploading.catch((error: Error) => {
    uploadError = error;
    tap.destroy(error);
  });
  let dumpError: Error | undefined;
  try {
    const result = await edges.dumpHost.run(spec.command, spec.args, {
      env: spec.env,
      secretEnv: spec.secretEnv,
      cwd: spec.cwd,
      signal: edges.signal,
      stdoutStream: tap,
    });
    if (edges.signal?.aborted) dumpError = new ActionFailure('The backup was cancelled; the upload was aborted.');
    else if (result.code !== 0) dumpError = dumpFailure(request, spec, result);
    else {
      const problem = tap.problem(format);
      if (problem) dumpError = new ActionFailure(`The backup failed verification: ${problem}; nothing was kept.`);
    }
  } catch (error) {
    dumpError = error as Error;
  }
  if (dumpError || uploadError) {
    // Whichever failed first is the story; the dump's "write failed" after a failed upload is only its echo.
    const first = uploadError ?? dumpError!;
    // The upload sees the error, aborts the multipart upload and settles; wait for that before reporting.
    tap.body.destroy(first);
    await uploading.catch(() => undefined);
    throw first;
  }
  tap.body.end();
  const dumped = clock();
  const sent = await uploading;
  edges.log(`Dumped and uploaded ${sent.bytes} bytes in ${dumped - started} ms; ${sent.verification}.`);
  const checks = [`${sent.bytes} bytes`, sent.verification];
  try {
    checks.push(...(await verifyObject(format, key, url, request, edges, spec, store)));
    await store.putText(`${key}${CHECKSUM_SUFFIX}`, `${sent.sha256}  ${name}\n`);
  } catch (error) {
    await store.remove(key).catch(() => undefined);
    throw error;
  }
  return {
    path: url,
    file: name,
    location: 'bucket',
    where: store.where,
    sizeBytes: sent.bytes,
    sha256: sent.sha256,
    format,
    encrypted: false,
    serverVersion: spec.serverVersion,
    client: spec.client,
    durationMs: clock() - started,
    verification: checks.join('; '),
    deleted: [],
    database: request.database?.database ?? '',
  };
}

/** Tells the edges about the multipart upload while it is in progress (a killed run's post step aborts it). */
async function trackedUpload(
  edges: BackupEdges,
  key: string,
  upload: (started: (uploadId: string) => void) => Promise<UploadReport>,
): Promise<UploadReport> {
  let started = false;
  try {
    return await upload((uploadId) => {
      started = true;
      edges.trackUpload?.({ key, uploadId });
    });
  } finally {
    if (started) edges.trackUpload?.(undefined);
  }
}

function dumpFailure(
  request: BackupRequest,
  spec: DumpSpec,
  result: { code: number | null; signal: NodeJS.Signals | null; stderrTail: string; stdout: string; bytes: number },
): ActionFailure {
  if (
    request.database &&
    /password authentication failed|Access denied|could not connect|Connection refused|timeout expired/i.test(
      result.stderrTail,
    )
  )
    return connectionFailure(request.database, result, spec.command);
  return new ActionFailure(
    `The dump failed: ${describeExit(posix.basename(spec.command), result)}; the upload was aborted.`,
  );
}

/** Checks made on what the bucket holds: a custom archive's table of contents, and the test restore when asked. */
async function verifyObject(
  format: string,
  key: string,
  url: string,
  request: BackupRequest,
  edges: BackupEdges,
  spec: DumpSpec,
  store: ObjectStore,
): Promise<string[]> {
  const checks: string[] = [];
  const fail = (reason: string) =>
    new ActionFailure(`The backup in ${url} failed verification: ${reason}; it was deleted.`);
  if (format === 'custom') {
    const clients = await postgresClientsOn(edges.storeHost, request.postgresClientRoot);
    const client = choosePostgresClient(spec.serverVersion, clients, edges.storeHost.where);
    // pg_restore reads the table of contents at the start of the archive and stops: the rest is not downloaded.
    const abort = new AbortController();
    const stream = await store.download(key, abort.signal);
    stream.on('error', () => undefined);
    const list = await edges.storeHost.run(tool(client, 'pg_restore'), ['--list'], { stdin: stream });
    abort.abort();
    stream.destroy();
    const reason = checkArchiveListing(list.code, list.stdout, list.stderrTail);
    if (reason) throw fail(reason);
    checks.push(`pg_restore --list read ${list.stdout.split('\n').filter((l) => /^\d+;/.test(l)).length} entries`);
  } else {
    checks.push(format === 'json' ? 'JSON structure complete' : 'completion marker present');
  }
  if (request.verify === 'restore') {
    checks.push(
      await testRestore(format as BackupResult['format'], url, request, edges, spec, () => store.download(key)),
    );
  }
  return checks;
}

/**
 * Copies a verified backup file (on the runner, or read over SSH from the server) into the bucket, with its
 * SHA-256 in the object's metadata; the hash of what was sent must equal the file's, and the stored object's
 * checksum must equal what was sent.
 */
export async function copyBackupToBucket(
  backup: BackupResult,
  request: BackupRequest,
  edges: BackupEdges,
  store: ObjectStore,
): Promise<BucketCopy> {
  const key = objectKey(store.settings, backup.file);
  const url = objectUrl(store.settings, backup.file);
  const metadata = backupMetadata(request, {
    format: backup.format,
    serverVersion: backup.serverVersion,
    sha256: backup.sha256,
    partSize: store.settings.partSize,
  });
  let body: Readable;
  let reading: Promise<unknown> = Promise.resolve();
  if (backup.location === 'server') {
    const pipe = new PassThrough();
    reading = edges.storeHost.run('cat', ['--', backup.path], { stdoutStream: pipe, signal: edges.signal }).then(
      (result) => {
        if (result.code !== 0)
          pipe.destroy(new ActionFailure(`Reading ${backup.path}: ${describeExit('cat', result)}`));
      },
      (error: Error) => pipe.destroy(error),
    );
    body = pipe;
  } else {
    body = createReadStream(backup.path);
  }
  edges.log(`Copying ${backup.path} to ${url}.`);
  const sent = await trackedUpload(edges, key, (started) => store.upload(key, body, metadata, edges.signal, started));
  await reading;
  if (sent.sha256 !== backup.sha256 || sent.bytes !== backup.sizeBytes) {
    await store.remove(key).catch(() => undefined);
    throw new ActionFailure(
      `The copy sent to ${url} (${sent.bytes} bytes, sha256 ${sent.sha256}) is not the verified backup (${backup.sizeBytes} bytes, sha256 ${backup.sha256}); it was deleted.`,
    );
  }
  await store.putText(`${key}${CHECKSUM_SUFFIX}`, `${sent.sha256}  ${backup.file}\n`);
  return { url, key, sizeBytes: sent.bytes, sha256: sent.sha256, verification: sent.verification, deleted: [] };
}

/**
 * Retention in the bucket, by the time in the names (as on disk), once the new backup is verified there: the
 * backup just made is never a candidate. Each deleted backup takes its checksum file with it.
 */
export async function applyBucketRetention(
  request: Pick<BackupRequest, 'keepDays' | 'keepCount' | 'prefix' | 'now'>,
  name: string,
  store: ObjectStore,
  log: (message: string) => void,
): Promise<string[]> {
  if (request.keepDays === 0 && request.keepCount === 0) return [];
  const names = namesIn(await store.list());
  const plan = planRetention(names, { ...request, protect: name });
  for (const file of plan.remove) {
    await store.remove(objectKey(store.settings, file));
    if (names.includes(`${file}${CHECKSUM_SUFFIX}`))
      await store.remove(objectKey(store.settings, `${file}${CHECKSUM_SUFFIX}`));
    log(`Retention: deleted ${objectUrl(store.settings, file)}`);
  }
  return plan.remove;
}
