// db-restore from a bucket, in process: actions/db-restore/bucket-source.ts and restoreMain's bucket branch run
// against the S3 stand-in and the fake database tools, so runbook's own coverage counts them.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fetchFromBucket, readBucketBackup } from '../../../actions/db-restore/bucket-source.js';
import { restoreMain, run } from '../../../actions/db-restore/main.js';
import { InputReader } from '../../../actions/shared/inputs.js';
import { makeFakeTools, recordedIO, type FakeTools } from '../db-backup/fake-tools.js';
import { startS3Service, type S3Service } from '../../stand-ins/s3-service.js';

const url = 'postgres://app:pw@db/shop';
const sha = (body: string) => createHash('sha256').update(body).digest('hex');

let s3: S3Service;
let tools: FakeTools;
let temp: string;

/** A backup as db-backup leaves it: the object, and once verified its `<name>.sha256` ("<hex>  <name>"). */
function putBackup(key: string, body: string, options: { verified?: boolean; recorded?: string } = {}) {
  s3.put('backups', key, Buffer.from(body));
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (options.verified !== false) {
    s3.put('backups', `${key}.sha256`, Buffer.from(`${options.recorded ?? sha(body)}  ${name}\n`));
  }
}

beforeAll(async () => {
  s3 = await startS3Service();
  s3.createBucket('backups');
  putBackup('nightly/shop_202611250300_aaaaaaa.dump', 'PGDMP oldest');
  putBackup('nightly/shop_202611260300_bbbbbbb.dump', 'PGDMP newest verified');
  // Newer, but its verification never finished: no .sha256, so `latest` must pass it by.
  putBackup('nightly/shop_202611270300_ccccccc.dump', 'PGDMP newer, never verified', { verified: false });
  // Newer still and verified, but under another prefix.
  putBackup('weekly/shop_202611270400_ddddddd.dump', 'PGDMP weekly');
  // Recorded SHA-256 of other bytes: damaged in the bucket.
  putBackup('nightly/shop_202611240300_eeeeeee.dump', 'PGDMP bytes as stored now', {
    recorded: sha('PGDMP bytes as verified'),
  });
  // Unverified, but carrying the sha256 metadata db-backup writes when it knows the file's checksum up front.
  s3.put('backups', 'nightly/shop_202611230300_fffffff.dump', Buffer.from('PGDMP metadata only'), {
    sha256: sha('PGDMP metadata only'),
  });
});
afterAll(() => s3.stop());

beforeEach(() => {
  tools = makeFakeTools([15]);
  temp = join(tools.dir, 'runner-temp');
  mkdirSync(temp);
});
afterEach(() => tools.cleanup());

const inputs = (backup: string, more: Record<string, string> = {}) => ({
  backup,
  'database-url': url,
  confirm: 'shop',
  directory: join(tools.dir, 'safety'),
  'postgres-client-root': tools.clientRoot,
  's3-endpoint': s3.endpoint,
  's3-region': s3.region,
  's3-force-path-style': 'true',
  's3-access-key-id': s3.accessKeyId,
  's3-secret-access-key': s3.secretAccessKey,
  ...more,
});
const restoreIO = (backup: string, more: Record<string, string> = {}) =>
  recordedIO(inputs(backup, more), tools.runner, { RUNNER_TEMP: temp });
/** Everything run() printed (the runner reads its workflow commands from stdout); its exit code is put back. */
async function printedBy(action: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split(/\r?\n/).filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  const exitCode = process.exitCode;
  try {
    await action();
    expect(process.exitCode).toBe(1);
  } finally {
    process.stdout.write = write;
    process.exitCode = exitCode;
  }
  return lines;
}
const errorsOf = (lines: string[]) => lines.filter((l) => l.startsWith('::error'));
const calls = () => readFileSync(tools.log, 'utf8');
const restoredAnything = () => /pg_restore --clean|pg_dump/.test(calls());

describe('db-restore from a bucket (S3 stand-in, fake tools, in process)', () => {
  test('latest under a prefix: the newest backup with its .sha256, downloaded under RUNNER_TEMP and removed after', async () => {
    const io = restoreIO('s3://backups/nightly/latest');
    await restoreMain(io);
    expect(io.outputs['restored-from']).toBe('s3://backups/nightly/shop_202611260300_bbbbbbb.dump');
    expect(io.secrets).toContain(s3.secretAccessKey);
    expect(calls()).toContain('pg_restore --clean --if-exists --single-transaction');
    expect(io.messages).toContain(
      `Downloaded ${'PGDMP newest verified'.length} bytes; SHA-256 ${sha('PGDMP newest verified')} matches the recorded one.`,
    );
    expect(io.summaries[0]).toContain(`(SHA-256 ${sha('PGDMP newest verified')} checked)`);
    // The private folder was handed to the post step, lay under RUNNER_TEMP, and is gone once the step ends.
    const folder = io.savedStates.find((s) => s.includes('rb-restore-'));
    expect(folder).toContain(join(temp, 'rb-restore-'));
    expect(readdirSync(temp)).toEqual([]);
  });

  test('the download folder stays in the post state while the safety backup is taken and the restore runs', async () => {
    // A killed step's post step removes what the state names: the safety backup's own partial file coming and going
    // must not take the download folder out of it.
    const io = restoreIO('s3://backups/nightly/latest');
    await restoreMain(io);
    expect(calls()).toContain('pg_dump'); // the safety backup was taken
    const first = io.savedStates.findIndex((s) => s.includes('rb-restore-'));
    expect(first).toBeGreaterThanOrEqual(0);
    const later = io.savedStates.slice(first);
    expect(later.length).toBeGreaterThan(1);
    for (const state of later) expect(state).toContain(join(temp, 'rb-restore-'));
  });

  test('the download is private: a 0700 folder under RUNNER_TEMP, a 0600 file, the bytes of the chosen object', async () => {
    const read = new InputReader((name) => inputs('s3://backups/nightly/latest')[name as 'backup'] ?? '');
    const ref = readBucketBackup(read, 's3://backups/nightly/latest', () => undefined, {});
    const made: string[] = [];
    const fetched = await fetchFromBucket(ref, {
      prefix: 'shop',
      now: new Date(Date.UTC(2026, 10, 27, 14, 5)),
      tempRoot: temp,
      log: () => undefined,
      folderMade: (folder) => made.push(folder),
    });
    expect(made).toEqual([fetched.folder]);
    expect(fetched.folder.startsWith(join(temp, 'rb-restore-'))).toBe(true);
    expect(statSync(fetched.folder).mode & 0o777).toBe(0o700);
    expect(fetched.path).toBe(join(fetched.folder, 'shop_202611260300_bbbbbbb.dump'));
    expect(statSync(fetched.path).mode & 0o777).toBe(0o600);
    expect(readFileSync(fetched.path, 'utf8')).toBe('PGDMP newest verified');
    expect(fetched.sizeBytes).toBe('PGDMP newest verified'.length);

    // A prefix with no verified backup under it names the input and what was looked for.
    await expect(
      fetchFromBucket(ref, {
        prefix: 'blog',
        now: new Date(Date.UTC(2026, 10, 27, 14, 5)),
        tempRoot: temp,
        log: () => undefined,
      }),
    ).rejects.toThrow(
      "Input 'backup': no verified backup of 'blog' (with its .sha256 file) under s3://backups/nightly. Nothing was restored.",
    );
  });

  test('an explicit key restores that object, even when a newer one exists', async () => {
    const io = restoreIO('s3://backups/nightly/shop_202611250300_aaaaaaa.dump', { 'skip-safety-backup': 'true' });
    await restoreMain(io);
    expect(io.outputs['restored-from']).toBe('s3://backups/nightly/shop_202611250300_aaaaaaa.dump');
    expect(io.summaries[0]).toContain(`(SHA-256 ${sha('PGDMP oldest')} checked)`);
    expect(readdirSync(temp)).toEqual([]);
  });

  test('an explicit key without .sha256: refused unless the object carries its sha256 metadata (documented)', async () => {
    const errors = errorsOf(
      await printedBy(() => run(restoreIO('s3://backups/nightly/shop_202611270300_ccccccc.dump'))),
    );
    expect(errors).toEqual([
      '::error::s3://backups/nightly/shop_202611270300_ccccccc.dump has no recorded SHA-256 (no .sha256 file): it was never verified. Nothing was restored.',
    ]);
    expect(restoredAnything()).toBe(false);
    expect(readdirSync(temp)).toEqual([]);

    const missing = errorsOf(
      await printedBy(() => run(restoreIO('s3://backups/nightly/shop_202611270300_9999999.dump'))),
    );
    expect(missing).toEqual([
      "::error::Input 'backup': s3://backups/nightly/shop_202611270300_9999999.dump does not exist. Nothing was restored.",
    ]);

    const io = restoreIO('s3://backups/nightly/shop_202611230300_fffffff.dump', { 'skip-safety-backup': 'true' });
    await restoreMain(io);
    expect(io.summaries[0]).toContain(`(SHA-256 ${sha('PGDMP metadata only')} checked)`);
  });

  test('a SHA-256 mismatch: one clear error, the download deleted, no safety backup, nothing restored', async () => {
    const errors = errorsOf(
      await printedBy(() => run(restoreIO('s3://backups/nightly/shop_202611240300_eeeeeee.dump'))),
    );
    expect(errors).toEqual([
      `::error::s3://backups/nightly/shop_202611240300_eeeeeee.dump downloads with SHA-256 ${sha('PGDMP bytes as stored now')}, but ${sha('PGDMP bytes as verified')} was recorded when it was verified: it is damaged. Nothing was restored.`,
    ]);
    expect(restoredAnything()).toBe(false);
    expect(readdirSync(temp)).toEqual([]);
    expect(readdirSync(tools.dir)).not.toContain('safety');
  });

  test('wrong credentials or a missing bucket: one error naming the input, the secret never printed', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [
        { 's3-secret-access-key': 'wrong-secret-0123456789' },
        's3://backups/nightly/latest',
        /^::error::Input 's3-secret-access-key'/,
      ],
      [{ 's3-access-key-id': 'AKIANOBODY' }, 's3://backups/nightly/latest', /^::error::Input 's3-access-key-id'/],
      [
        {},
        's3://no-such-bucket/nightly/latest',
        /^::error::Input 'backup': the bucket 'no-such-bucket' does not exist/,
      ],
    ];
    for (const [more, backup, message] of cases) {
      const io = restoreIO(backup, more);
      const lines = await printedBy(() => run(io));
      const errors = errorsOf(lines);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      const printed = [...lines, ...io.messages, ...io.warnings, ...io.summaries, ...Object.values(io.outputs)];
      expect(printed.join('\n')).not.toContain(more['s3-secret-access-key'] ?? s3.secretAccessKey);
      expect(printed.join('\n')).not.toContain(s3.secretAccessKey);
      expect(io.secrets).toContain(more['s3-secret-access-key'] ?? s3.secretAccessKey);
    }
    expect(restoredAnything()).toBe(false);
    expect(readdirSync(temp)).toEqual([]);
  });
});
