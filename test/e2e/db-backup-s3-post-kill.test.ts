// The bucket side of db-backup's and db-restore's post steps after a real kill: the built bundle runs against the
// test bed's PostgreSQL and the S3 stand-in, its main process is SIGKILLed while it is held mid-run (an UploadPart
// the stand-in never answers; a table lock the restore waits behind), and the harness then runs the post step as
// the runner does, with the state the main step saved. A killed step runs no finally and aborts nothing itself.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lockTable, mainProcess, someoneWaitsForALock, until } from '../support/kill-midway.js';
import { errorMessages, Job, runAction, type StepResult } from '../harness/index.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { startS3Service, type S3Service } from '../stand-ins/s3-service.js';

const BUCKET = 'ocpizza-backups';
let pg: PostgresServer;
let s3: S3Service;
let work: string;

beforeAll(async () => {
  [pg, s3] = await Promise.all([startPostgres(), startS3Service()]);
  work = makeTempDir('s3-post-kill');
  s3.createBucket(BUCKET);
  await pg.createDatabase('shop');
  // Incompressible enough that the custom archive needs several 5 MiB parts, hence a multipart upload.
  await pg.sql(
    "CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita'), ('regina');" +
      'CREATE TABLE events AS SELECT g AS id, md5(random()::text) || md5(random()::text) AS payload FROM generate_series(1, 300000) g',
    'shop',
  );
}, 180_000);
afterAll(async () => {
  s3.holdPart = undefined;
  await Promise.all([pg?.stop(), s3?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const s3Inputs = () => ({
  's3-endpoint': s3.endpoint,
  's3-region': s3.region,
  's3-force-path-style': 'true',
  's3-access-key-id': s3.accessKeyId,
  's3-secret-access-key': s3.secretAccessKey,
});

/** SIGKILLs the action's main process once `held` holds. */
async function killWhen(action: string, held: () => boolean | Promise<boolean>): Promise<void> {
  let pid: number | undefined;
  await until(`${action} is held mid-run`, async () => {
    pid ??= mainProcess(action);
    return pid !== undefined && (await held());
  });
  process.kill(pid!, 'SIGKILL');
}

const postLog = (result: StepResult) => result.post?.log ?? '';

describe('bucket post steps after the main step is SIGKILLed', () => {
  test('db-backup killed mid-upload: the post step aborts the multipart upload; no object, no upload in progress', async () => {
    const workspace = makeTempDir('s3-post-kill-backup');
    // Part 1 is stored, part 2 onwards never answered: the upload is in progress with parts when the kill comes.
    s3.holdPart = (part) => part >= 2;
    const calls = s3.calls.length;
    try {
      const run = runAction({
        action: 'db-backup',
        inputs: {
          'database-url': pg.url('shop'),
          storage: 'bucket',
          bucket: `s3://${BUCKET}/nightly`,
          ...s3Inputs(),
          's3-part-size-mb': '5',
        },
        secrets: [pg.password, s3.secretAccessKey],
        github: { workspace },
      });
      await killWhen(
        'db-backup',
        () => s3.calls.slice(calls).includes('held:UploadPart') && s3.pendingUploads().some((u) => u.parts >= 1),
      );
      const result = await run;
      expect(result.signal).toBe('SIGKILL');
      expect(result.post?.ran).toBe(true);
      expect(result.post?.exitCode).toBe(0);
      expect(s3.pendingUploads()).toEqual([]);
      expect([...s3.objects(BUCKET).keys()]).toEqual([]);
      expect(s3.calls.slice(calls)).toContain('AbortMultipartUpload');
      const saved = JSON.parse(result.state['db-cleanup']) as { upload?: { bucket: string; key: string } };
      expect(saved.upload).toMatchObject({
        bucket: BUCKET,
        key: expect.stringMatching(/^nightly\/shop_\d{12}_\w+\.dump$/),
      });
      expect(postLog(result)).toMatch(
        /Aborted the multipart upload to s3:\/\/ocpizza-backups\/nightly\/shop_\d{12}_\w+\.dump \(id [^)]+\) that the main step left unfinished/,
      );
      expect(result.outputs).toEqual({});
    } finally {
      s3.holdPart = undefined;
    }
  }, 180_000);

  test('db-restore killed after the download: the post step removes the downloaded copy and its folder', async () => {
    const workspace = makeTempDir('s3-post-kill-restore');
    const backup = await runAction({
      action: 'db-backup',
      inputs: {
        'database-url': pg.url('shop'),
        storage: 'bucket',
        bucket: `s3://${BUCKET}/restore`,
        ...s3Inputs(),
        's3-part-size-mb': '5',
      },
      secrets: [pg.password, s3.secretAccessKey],
      github: { workspace },
    });
    expect(errorMessages(backup)).toEqual([]);
    const job = new Job({ github: { workspace } });
    const lock = await lockTable(pg, 'shop', 'pizza');
    try {
      const restoring = job.step('restore', {
        action: 'db-restore',
        inputs: {
          'database-url': pg.url('shop'),
          backup: `s3://${BUCKET}/restore/latest`,
          confirm: 'shop',
          'skip-safety-backup': 'true',
          ...s3Inputs(),
        },
        secrets: [pg.password, s3.secretAccessKey],
      });
      // Downloaded and checked; the restore waits behind the lock.
      const downloads = () => readdirSync(job.runnerTemp).filter((f) => f.startsWith('rb-restore-'));
      await killWhen('db-restore', async () => downloads().length === 1 && (await someoneWaitsForALock(pg, 'shop')));
      const folder = join(job.runnerTemp, downloads()[0]);
      expect(readdirSync(folder)).toEqual([backup.outputs.path.split('/').pop()]);
      const result = await restoring;
      expect(result.signal).toBe('SIGKILL');
      await job.runPosts();
      expect(result.post?.ran).toBe(true);
      expect(result.post?.exitCode).toBe(0);
      expect(existsSync(folder)).toBe(false);
      expect(postLog(result)).toContain(`Removed ${folder}, a partial folder the main step left.`);
    } finally {
      await lock.release();
      job.dispose();
    }
    expect(await pg.sql('SELECT count(*) FROM pizza', 'shop')).toBe('2');
  }, 180_000);
});
