// db-backup into an S3-compatible bucket (and db-restore from it) end to end: real PostgreSQL and MariaDB from the
// test bed, the S3 stand-in (test/stand-ins/s3-service.ts: SigV4, checksums, multipart) on a loopback port.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { errorMessages, runAction } from '../harness/index.js';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { startSshd } from '../testbed/sshd.js';
import { startS3Service, type S3Service } from '../stand-ins/s3-service.js';
import { MARIADB_DATASET, mariadbFingerprint, POSTGRES_DATASET, postgresFingerprint } from './db-backup-dataset.js';

jest.setTimeout(240_000);

const SHA = '0123456789abcdef0123456789abcdef01234567';
const BUCKET = 'ocpizza-backups';
let pg: PostgresServer;
let db: MariaDBServer;
let s3: S3Service;
let work: string;
let source: Record<string, string>;
let events: string;

const NOW = new Date();
/** A backup name dated `days` ago, as db-backup names them. */
function dated(prefix: string, days: number, ext = 'dump'): string {
  const t = new Date(NOW.getTime() - days * 86_400_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${prefix}_${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}_abcdef0.${ext}`;
}

beforeAll(async () => {
  [pg, db, s3] = await Promise.all([startPostgres(), startMariaDB(), startS3Service()]);
  work = mkdtempSync(join(tmpdir(), 'rb-db-e2e-s3-'));
  await pg.createDatabase('shop');
  await pg.sql(POSTGRES_DATASET, 'shop');
  // Incompressible enough that the custom archive needs several 5 MiB parts.
  await pg.sql(
    'CREATE TABLE public.events AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, 300000) g',
    'shop',
  );
  source = await postgresFingerprint(pg, 'shop');
  events = await pg.sql("SELECT count(*) || ' ' || md5(string_agg(payload, '' ORDER BY id)) FROM events", 'shop');
  await db.createDatabase('shop');
  await db.sql(MARIADB_DATASET, 'shop');
});

afterAll(async () => {
  await Promise.all([pg?.stop(), db?.stop(), s3?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The s3-* inputs db-backup and db-restore share (and the bucket location for db-backup). */
function s3Inputs(bucket: string | undefined, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...(bucket === undefined ? {} : { bucket }),
    's3-endpoint': s3.endpoint,
    's3-region': s3.region,
    's3-force-path-style': 'true',
    's3-access-key-id': s3.accessKeyId,
    's3-secret-access-key': s3.secretAccessKey,
    ...overrides,
  };
}

/**
 * db-backup of the PostgreSQL `shop` database into `bucket` and the other place `storage` may name, at commit SHA.
 * `inputs` adds to (or overrides) the database and storage inputs, `s3` the s3-* ones.
 */
function backupShop(
  storage: string,
  bucket: string,
  options: {
    inputs?: Record<string, string>;
    s3?: Record<string, string>;
    secrets?: string[];
    workspace?: string;
  } = {},
) {
  return runAction({
    action: 'db-backup',
    inputs: { 'database-url': pg.url('shop'), storage, ...options.inputs, ...s3Inputs(bucket, options.s3) },
    secrets: [pg.password, s3.secretAccessKey, ...(options.secrets ?? [])],
    github: { sha: SHA, ...(options.workspace === undefined ? {} : { workspace: options.workspace }) },
  });
}

/** db-restore of an s3:// backup into the database `shop_copy` that `databaseUrl` names, confirmed by that name. */
function restoreShopCopy(backup: string, databaseUrl: string, password: string, workspace?: string) {
  return runAction({
    action: 'db-restore',
    inputs: { backup, 'database-url': databaseUrl, confirm: 'shop_copy', ...s3Inputs(undefined) },
    secrets: [password, s3.secretAccessKey],
    ...(workspace === undefined ? {} : { github: { workspace } }),
  });
}

/** Runs with the stand-in answering the chosen UploadParts with a 500 on every attempt. */
async function withFailingParts<T>(fail: (part: number) => boolean, run: () => Promise<T>): Promise<T> {
  s3.failPart = fail;
  try {
    return await run();
  } finally {
    s3.failPart = undefined;
  }
}

const keysIn = (bucket: string) => [...s3.objects(bucket).keys()].sort();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('db-backup to an S3-compatible bucket', () => {
  test('PostgreSQL: streamed into a multipart upload, checksummed, described by metadata, restored from latest', async () => {
    s3.createBucket(BUCKET);
    const workspace = join(work, 'pg-stream');
    mkdirSync(workspace);
    const result = await backupShop('bucket', `s3://${BUCKET}/ocpizza/nightly/`, {
      s3: { 's3-part-size-mb': '5', 's3-storage-class': 'STANDARD_IA' },
      workspace,
    });
    expect(errorMessages(result)).toEqual([]);
    expect(result.exitCode).toBe(0);
    const url = result.outputs.path;
    expect(url).toMatch(new RegExp(`^s3://${BUCKET}/ocpizza/nightly/shop_\\d{12}_0123456\\.dump$`));
    expect(result.outputs['bucket-url']).toBe(url);
    const key = url.slice(`s3://${BUCKET}/`.length);
    expect(keysIn(BUCKET)).toEqual([key, `${key}.sha256`]);
    const stored = s3.read(BUCKET, key);
    expect(stored.subarray(0, 5).toString()).toBe('PGDMP');
    expect(result.outputs.sha256).toBe(sha256(stored));
    expect(result.outputs['size-bytes']).toBe(String(stored.length));
    expect(s3.read(BUCKET, `${key}.sha256`).toString()).toBe(`${sha256(stored)}  ${key.split('/').pop()}\n`);
    const object = s3.objects(BUCKET).get(key)!;
    expect(object.metadata).toMatchObject({
      engine: 'postgresql',
      format: 'custom',
      commit: SHA,
      database: 'shop',
      'part-size': String(5 * 1024 * 1024),
    });
    expect(object.metadata['server-version']).toMatch(new RegExp(`^${pg.majorVersion}\\.`));
    expect(object.storageClass).toBe('STANDARD_IA');
    expect(object.checksum).toMatchObject({ algorithm: 'sha256', type: 'COMPOSITE' });
    // Streamed in parts (several, given the size) that each carried their SHA-256, and none left pending.
    const parts = s3.calls.filter((c) => c === 'UploadPart').length;
    expect(parts).toBeGreaterThanOrEqual(2);
    expect(object.checksum!.value).toMatch(new RegExp(`-${parts}$`));
    expect(s3.pendingUploads()).toEqual([]);
    expect(result.summary).toContain('composite');
    expect(result.summary).toMatch(/pg_restore --list read \d+ entries/);
    // No file of the dump was kept on the runner.
    expect(existsSync(join(workspace, 'backups'))).toBe(false);

    await pg.createDatabase('shop_copy');
    const restored = await restoreShopCopy(
      `s3://${BUCKET}/ocpizza/nightly/latest`,
      pg.url('shop_copy'),
      pg.password,
      workspace,
    );
    expect(errorMessages(restored)).toEqual([]);
    expect(restored.outputs['restored-from']).toBe(url);
    expect(await postgresFingerprint(pg, 'shop_copy')).toEqual(source);
    expect(
      await pg.sql("SELECT count(*) || ' ' || md5(string_agg(payload, '' ORDER BY id)) FROM events", 'shop_copy'),
    ).toBe(events);
    expect(restored.log).toMatch(/SHA-256 .* matches/);
  });

  test('MariaDB: streamed into the bucket, test-restored from the object, restored from latest', async () => {
    s3.createBucket('maria-backups');
    const result = await runAction({
      action: 'db-backup',
      inputs: {
        'database-url': db.url('shop'),
        storage: 'bucket',
        verify: 'restore',
        ...s3Inputs('s3://maria-backups'),
      },
      secrets: [db.password, s3.secretAccessKey],
      github: { sha: SHA },
    });
    expect(errorMessages(result)).toEqual([]);
    const key = result.outputs.path.slice('s3://maria-backups/'.length);
    expect(key).toMatch(/^shop_\d{12}_0123456\.sql$/);
    expect(s3.read('maria-backups', key).toString()).toContain('-- Dump completed');
    expect(s3.objects('maria-backups').get(key)!.metadata).toMatchObject({ engine: 'mysql', format: 'mysql' });
    expect(result.summary).toMatch(/test restore into a scratch database succeeded/);
    expect(
      await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'shop_verify_%'"),
    ).toBe('0');

    await db.createDatabase('shop_copy');
    const restored = await restoreShopCopy('s3://maria-backups/latest', db.url('shop_copy'), db.password);
    expect(errorMessages(restored)).toEqual([]);
    expect(restored.outputs['restored-from']).toBe(result.outputs.path);
    expect(await mariadbFingerprint(db, 'shop_copy')).toEqual(await mariadbFingerprint(db, 'shop'));
  });

  test('two places: runner and bucket each hold the verified backup; retention by age runs in both, after both', async () => {
    s3.createBucket('two-places');
    const dir = join(work, 'two-places');
    mkdirSync(dir);
    const oldName = dated('shop', 20);
    const recent = dated('shop', 10);
    for (const name of [oldName, recent]) writeFileSync(join(dir, name), 'old backup');
    for (const name of [oldName, recent, dated('other', 30)]) {
      s3.put('two-places', `nightly/${name}`, Buffer.from('old backup'));
      s3.put('two-places', `nightly/${name}.sha256`, Buffer.from(`${sha256(Buffer.from('old backup'))}  ${name}\n`));
    }
    s3.put('two-places', 'nightly/README.txt', Buffer.from('not a backup'));
    const result = await backupShop('runner, bucket', 's3://two-places/nightly', {
      inputs: { directory: dir, 'keep-days': '14' },
    });
    expect(errorMessages(result)).toEqual([]);
    const file = result.outputs.path.split('/').pop()!;
    expect(result.outputs['bucket-url']).toBe(`s3://two-places/nightly/${file}`);
    expect(readdirSync(dir).sort()).toEqual([file, recent].sort());
    expect(keysIn('two-places')).toEqual(
      [
        'nightly/README.txt',
        `nightly/${dated('other', 30)}`,
        `nightly/${dated('other', 30)}.sha256`,
        `nightly/${recent}`,
        `nightly/${recent}.sha256`,
        `nightly/${file}`,
        `nightly/${file}.sha256`,
      ].sort(),
    );
    expect(s3.objects('two-places').get(`nightly/${file}`)!.metadata.sha256).toBe(result.outputs.sha256);
    expect(sha256(s3.read('two-places', `nightly/${file}`))).toBe(result.outputs.sha256);
    expect(result.summary).toContain('Bucket copy');
    expect(result.summary).toContain(`deleted \`${oldName}\``);
    expect(result.summary.match(new RegExp(oldName, 'g'))).toHaveLength(2);
  });

  test('two places: the SSH server and the bucket each hold the verified backup; the summary names both', async () => {
    // Only this case needs a server: its sshd shares this machine's disk, so the server's copy is read directly.
    const sshd = await startSshd();
    try {
      s3.createBucket('server-and-bucket');
      const serverDir = join(work, 'server-and-bucket');
      mkdirSync(serverDir);
      const oldName = dated('shop', 20);
      writeFileSync(join(serverDir, oldName), 'old backup');
      s3.put('server-and-bucket', `nightly/${oldName}`, Buffer.from('old backup'));
      const result = await backupShop('server, bucket', 's3://server-and-bucket/nightly/', {
        inputs: {
          directory: serverDir,
          'keep-days': '14',
          'ssh-host': sshd.host,
          'ssh-port': String(sshd.port),
          'ssh-user': sshd.user,
          'ssh-private-key': sshd.privateKey,
          'ssh-known-hosts': sshd.knownHosts,
        },
        s3: { 's3-part-size-mb': '5' },
        secrets: [sshd.privateKey],
      });
      expect(errorMessages(result)).toEqual([]);
      expect(result.exitCode).toBe(0);
      const file = result.outputs.path.split('/').pop()!;
      expect(result.outputs.path).toBe(join(serverDir, file));

      // The server's copy: the dump, private to the SSH user, with the SHA-256 the step reported.
      const onServer = readFileSync(result.outputs.path);
      expect(onServer.subarray(0, 5).toString()).toBe('PGDMP');
      expect(sha256(onServer)).toBe(result.outputs.sha256);
      expect(statSync(result.outputs.path).mode & 0o077).toBe(0);
      expect(readdirSync(serverDir)).toEqual([file]);

      // The bucket's copy: the same bytes, described by metadata, with a sha256sum-format sidecar.
      expect(result.outputs['bucket-url']).toBe(`s3://server-and-bucket/nightly/${file}`);
      expect(keysIn('server-and-bucket')).toEqual([`nightly/${file}`, `nightly/${file}.sha256`]);
      const object = s3.objects('server-and-bucket').get(`nightly/${file}`)!;
      expect(s3.read('server-and-bucket', `nightly/${file}`).equals(onServer)).toBe(true);
      expect(object.metadata.sha256).toBe(result.outputs.sha256);
      // Read back from the server and sent in several parts: S3's composite of the parts' checksums.
      expect(object.checksum).toMatchObject({ algorithm: 'sha256', type: 'COMPOSITE' });
      expect(Number(object.checksum!.value.split('-')[1])).toBeGreaterThan(1);
      expect(s3.read('server-and-bucket', `nightly/${file}.sha256`).toString()).toBe(
        `${result.outputs.sha256}  ${file}\n`,
      );

      expect(result.summary).toContain(`| File | \`${result.outputs.path}\` (on ${sshd.user}@${sshd.host}`);
      expect(result.summary).toContain(`| Bucket copy | \`s3://server-and-bucket/nightly/${file}\``);
      expect(result.summary).toContain(`| Retention | deleted \`${oldName}\` |`);
      expect(result.summary).toContain(`| Retention (bucket) | deleted \`${oldName}\` |`);
    } finally {
      await sshd.stop();
    }
  });

  test('two places, the bucket failing: the step fails, says the runner copy exists, nothing is deleted', async () => {
    s3.createBucket('failing');
    const dir = join(work, 'failing');
    mkdirSync(dir);
    const oldName = dated('shop', 20);
    writeFileSync(join(dir, oldName), 'old backup');
    const result = await withFailingParts(
      () => true,
      () =>
        backupShop('runner, bucket', 's3://failing/x', { inputs: { directory: dir }, s3: { 's3-part-size-mb': '5' } }),
    );
    expect(result.exitCode).not.toBe(0);
    const errors = errorMessages(result);
    expect(errors).toHaveLength(1);
    const kept = readdirSync(dir).filter((f) => f !== oldName);
    expect(kept).toHaveLength(1);
    expect(errors[0]).toContain(
      `The backup ${join(dir, kept[0])} on the runner is verified and kept, but the copy to s3://failing/x failed`,
    );
    expect(errors[0]).toMatch(/InternalError/);
    expect(errors[0]).toContain('Nothing was deleted by retention.');
    expect(readdirSync(dir)).toContain(oldName);
    expect(keysIn('failing')).toEqual([]);
    expect(s3.pendingUploads()).toEqual([]);
  });

  test('an interrupted upload is aborted: no object, no pending multipart upload, no checksum file', async () => {
    s3.createBucket('interrupted');
    const before = s3.calls.length;
    const result = await withFailingParts(
      (n) => n === 2,
      () => backupShop('bucket', 's3://interrupted/nightly', { s3: { 's3-part-size-mb': '5' } }),
    );
    expect(result.exitCode).not.toBe(0);
    expect(errorMessages(result)).toHaveLength(1);
    expect(errorMessages(result)[0]).toMatch(/S3 upload s3:\/\/interrupted\/nightly failed: InternalError/);
    const calls = s3.calls.slice(before);
    expect(calls).toContain('CreateMultipartUpload');
    expect(calls).toContain('AbortMultipartUpload');
    expect(calls).not.toContain('CompleteMultipartUpload');
    expect(keysIn('interrupted')).toEqual([]);
    expect(s3.pendingUploads()).toEqual([]);
  });

  test.each([
    ['wrong secret key', { 's3-secret-access-key': 'wrong-secret-key-123' }, /^Input 's3-secret-access-key'/],
    ['unknown access key', { 's3-access-key-id': 'AKIAUNKNOWN000000000' }, /^Input 's3-access-key-id'/],
    [
      'missing bucket',
      { bucket: 's3://no-such-bucket/nightly' },
      /^Input 'bucket': the bucket 'no-such-bucket' does not exist/,
    ],
    [
      'bad endpoint',
      { 's3-endpoint': 'http://127.0.0.1:9' },
      /^Input 's3-endpoint': cannot reach http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)/,
    ],
    ['wrong region', { 's3-region': 'us-west-2' }, /^Input 's3-region'/],
  ])('%s: one clear error naming the input, nothing dumped, nothing deleted', async (_name, overrides, message) => {
    s3.createBucket('guarded');
    const old = dated('shop', 30);
    s3.put('guarded', `nightly/${old}`, Buffer.from('old backup'));
    const dir = join(work, `guarded-${_name.replace(/ /g, '-')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, old), 'old backup');
    const result = await backupShop('runner, bucket', 's3://guarded/nightly', {
      inputs: { directory: dir },
      s3: overrides as Record<string, string>,
      secrets: ['wrong-secret-key-123'],
    });
    expect(result.exitCode).not.toBe(0);
    const errors = errorMessages(result);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
    expect(result.log).not.toMatch(/\n\s+at .*\.js:\d+/);
    expect(readdirSync(dir)).toEqual([old]);
    expect(keysIn('guarded')).toEqual([`nightly/${old}`]);
  });
});
