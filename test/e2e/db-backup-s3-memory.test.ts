// db-backup streams a dump into a bucket in bounded memory: a backup larger than the memory the step is given must
// work (issue 16). The built bundle runs through the harness against the test bed's PostgreSQL and the S3 stand-in,
// once on a small database to learn how much writable memory (VmData: heap, Buffers, stacks) it needs there, then on
// a database whose archive is several times a fixed headroom, under a hard limit (prlimit --data) of that need plus
// the headroom: an upload that kept the archive, or a growing share of it, in memory fails with its allocations.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessages, runAction } from '../harness/index.js';
import { REPO_ROOT } from '../harness/step-process.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { startS3Service, type S3Service } from '../stand-ins/s3-service.js';

const BUCKET = 'ocpizza-backups';
const MIB = 2 ** 20;
/** What the large run may use beyond the small run's peak; its archive is more than three times this. */
const HEADROOM_MIB = 64;
let pg: PostgresServer;
let s3: S3Service;
let work: string;

/**
 * The step's entry: runs the real bundle as a child (under prlimit when MEMORY_LIMIT_BYTES is set), output and exit
 * code passed through, and writes the child's peak VmData and VmHWM, read from /proc every 10 ms, to MEMORY_REPORT.
 */
const CAPPED_ENTRY = `
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
const bundle = ${JSON.stringify(join(REPO_ROOT, 'dist', 'db-backup', 'index.js'))};
const limit = process.env.MEMORY_LIMIT_BYTES;
const child = limit
  ? spawn('prlimit', ['--data=' + limit, '--', process.execPath, bundle], { stdio: 'inherit' })
  : spawn(process.execPath, [bundle], { stdio: 'inherit' });
const peak = { vmDataKiB: 0, vmHwmKiB: 0 };
const timer = setInterval(() => {
  try {
    const status = readFileSync('/proc/' + child.pid + '/status', 'utf8');
    for (const [field, key] of [['VmData', 'vmDataKiB'], ['VmHWM', 'vmHwmKiB']]) {
      const m = new RegExp('^' + field + ':\\\\s+(\\\\d+) kB', 'm').exec(status);
      if (m) peak[key] = Math.max(peak[key], Number(m[1]));
    }
  } catch {}
}, 10);
child.on('exit', (code, signal) => {
  clearInterval(timer);
  writeFileSync(process.env.MEMORY_REPORT, JSON.stringify({ ...peak, code, signal }));
  process.exit(code ?? 1);
});
`;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Service()]);
  work = makeTempDir('s3-memory');
  s3.createBucket(BUCKET);
  writeFileSync(join(work, 'capped-entry.mjs'), CAPPED_ENTRY);
  // Random bytes: the custom archive is about as large as the table (zlib cannot shrink them).
  await pg.createDatabase('shop');
  await pg.sql('CREATE EXTENSION pgcrypto', 'shop');
  await pg.sql(
    'CREATE TABLE attachments AS SELECT g AS id, gen_random_bytes(1024) AS body FROM generate_series(1, 24000) g',
    'shop',
  );
  await pg.createDatabase('archive');
  await pg.sql('CREATE EXTENSION pgcrypto', 'archive');
  await pg.sql(
    'CREATE TABLE attachments AS SELECT g AS id, gen_random_bytes(1024) AS body FROM generate_series(1, 230000) g',
    'archive',
  );
}, 240_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), s3?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/** One db-backup run into the bucket through the harness, the bundle started by CAPPED_ENTRY. */
async function backup(database: string, limitBytes?: number) {
  const report = join(work, `memory-${database}.json`);
  const result = await runAction({
    action: 'db-backup',
    entry: { main: join(work, 'capped-entry.mjs') },
    inputs: {
      'database-url': pg.url(database),
      storage: 'bucket',
      bucket: `s3://${BUCKET}/${database}/`,
      's3-endpoint': s3.endpoint,
      's3-region': s3.region,
      's3-force-path-style': 'true',
      's3-access-key-id': s3.accessKeyId,
      's3-secret-access-key': s3.secretAccessKey,
      's3-part-size-mb': '5',
    },
    env: { MEMORY_REPORT: report, ...(limitBytes ? { MEMORY_LIMIT_BYTES: String(limitBytes) } : {}) },
    secrets: [pg.password, s3.secretAccessKey],
    github: { workspace: makeTempDir('s3-memory-workspace') },
    timeoutMs: 280_000,
  });
  const memory = JSON.parse(readFileSync(report, 'utf8')) as { vmDataKiB: number; vmHwmKiB: number };
  return { result, memory };
}

test('a dump several times the memory headroom it is given streams into the bucket and is verified', async () => {
  const small = await backup('shop');
  expect(errorMessages(small.result)).toEqual([]);
  expect(small.result.exitCode).toBe(0);
  const needed = small.memory.vmDataKiB * 1024;
  expect(needed).toBeGreaterThan(0);

  const limit = needed + HEADROOM_MIB * MIB;
  const large = await backup('archive', limit);
  expect(errorMessages(large.result)).toEqual([]);
  expect(large.result.exitCode).toBe(0);
  const key = large.result.outputs.path.slice(`s3://${BUCKET}/`.length);
  const stored = s3.read(BUCKET, key);
  // The archive is more than three times the headroom: keeping it in memory could not have fit under the limit.
  expect(stored.length).toBeGreaterThan(3 * HEADROOM_MIB * MIB);
  expect(large.result.outputs['size-bytes']).toBe(String(stored.length));
  expect(large.result.outputs.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
  expect(large.result.log).toMatch(/pg_restore --list read \d+ entries/);
}, 600_000);
