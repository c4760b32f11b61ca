// db-restore keeps its safety backup off the runner before it restores: copied into a bucket (safety-bucket, checked
// against the file's SHA-256) and/or uploaded as a workflow artifact (safety-upload-artifact). If either cannot be
// stored, nothing is restored and the error says where the safety backup is. In process, against the S3 stand-in
// and the fake database tools.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreMain, run } from '../../../actions/db-restore/main.js';
import { capturingStdout, makeFakeTools, recordedIO, type FakeTools } from '../db-backup/fake-tools.js';
import { startS3Service, type S3Service } from '../../stand-ins/s3-service.js';

const url = 'postgres://app:pw@db/shop';
const backupName = 'shop_202611260300_bbbbbbb.dump';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let s3: S3Service;
let tools: FakeTools;
let dir: string;
let event: string;

beforeAll(async () => {
  s3 = await startS3Service();
  s3.createBucket('safety');
});
afterAll(() => s3.stop());

beforeEach(() => {
  tools = makeFakeTools([15]);
  dir = join(tools.dir, 'backups');
  mkdirSync(dir);
  writeFileSync(join(dir, backupName), 'PGDMP the backup to restore');
  event = join(tools.dir, 'event.json');
  writeFileSync(event, JSON.stringify({ repository: { private: true, visibility: 'private' } }));
});
afterEach(() => tools.cleanup());

function restoreIO(more: Record<string, string>, env: Record<string, string> = {}, runner = tools.runner) {
  return recordedIO(
    {
      backup: join(dir, backupName),
      'database-url': url,
      confirm: 'shop',
      directory: dir,
      'postgres-client-root': tools.clientRoot,
      sha: 'abcdef1234567890',
      's3-force-path-style': 'true',
      's3-endpoint': s3.endpoint,
      's3-region': s3.region,
      's3-access-key-id': s3.accessKeyId,
      's3-secret-access-key': s3.secretAccessKey,
      ...more,
    },
    runner,
    {
      GITHUB_EVENT_PATH: event,
      ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/results',
      ACTIONS_RUNTIME_TOKEN: 'runtime-token-for-the-test-0123456789',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/shop',
      GITHUB_RUN_ID: '77',
      ...env,
    },
  );
}
const calls = () => (existsSync(tools.log) ? readFileSync(tools.log, 'utf8') : '');
const restored = () => calls().includes('pg_restore --clean');
const safetyName = 'shop-before-restore_202611271405_abcdef1.dump';

describe('safety-bucket', () => {
  test('the safety backup is copied into the bucket with its .sha256, equal to the file, before the restore', async () => {
    const io = restoreIO({ 'safety-bucket': 's3://safety/shop/before-restore' });
    await restoreMain(io);
    const file = readFileSync(join(dir, safetyName));
    const key = `shop/before-restore/${safetyName}`;
    expect(io.outputs['safety-backup-path']).toBe(join(dir, safetyName));
    expect(io.outputs['safety-backup-url']).toBe(`s3://safety/${key}`);
    expect(s3.read('safety', key).equals(file)).toBe(true);
    expect(s3.read('safety', `${key}.sha256`).toString()).toBe(`${sha256(file)}  ${safetyName}\n`);
    expect(s3.objects('safety').get(key)!.metadata).toMatchObject({ sha256: sha256(file), engine: 'postgresql' });
    expect(restored()).toBe(true);
    expect(io.summaries[0]).toMatch(
      new RegExp(`\\| Safety backup in the bucket \\| \`s3://safety/${key}\` \\(${file.length} bytes, same SHA-256\\)`),
    );
    expect(io.secrets).toContain(s3.secretAccessKey);
  });

  test('a second restore in the same minute does not overwrite the first safety backup in the bucket', async () => {
    s3.put('safety', `again/${safetyName}`, Buffer.from('PGDMP an earlier safety backup'));
    const io = restoreIO({ 'safety-bucket': 's3://safety/again' });
    await restoreMain(io);
    expect(io.outputs['safety-backup-url']).toBe('s3://safety/again/shop-before-restore_202611271405_abcdef1-2.dump');
    expect(s3.read('safety', `again/${safetyName}`).toString()).toBe('PGDMP an earlier safety backup');
  });

  test('when the copy cannot be stored, nothing is restored and the error says where the safety backup is', async () => {
    // A safety backup of two 5 MiB parts whose every UploadPart the service refuses.
    const big = makeFakeTools([15], { FAKE_BIG: String(6 * 1024 * 1024) });
    s3.failPart = () => true;
    try {
      const io = restoreIO(
        { 'safety-bucket': 's3://safety/failing', 's3-part-size-mb': '5', 'postgres-client-root': big.clientRoot },
        {},
        big.runner,
      );
      const errors = await capturingStdout(() => run(io));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        new RegExp(
          `^::error::The safety backup ${join(dir, safetyName)} \\(on the runner\\) is verified, but keeping it in s3://safety/failing failed: .+ Nothing was restored\\.$`,
        ),
      );
      expect(readFileSync(big.log, 'utf8')).toContain('pg_dump');
      expect(readFileSync(big.log, 'utf8')).not.toContain('pg_restore --clean');
      expect(existsSync(join(dir, safetyName))).toBe(true);
      expect([...s3.objects('safety').keys()].filter((k) => k.startsWith('failing/'))).toEqual([]);
      expect(s3.pendingUploads()).toEqual([]);
    } finally {
      s3.failPart = undefined;
      big.cleanup();
    }
  });

  test('wrong credentials: one error naming the input before anything is dumped or restored, the secret masked', async () => {
    const io = restoreIO({ 'safety-bucket': 's3://safety/x', 's3-secret-access-key': 'wrong-secret-0123456789' });
    const errors = await capturingStdout(() => run(io));
    expect(errors).toEqual([expect.stringMatching(/^::error::Input 's3-secret-access-key'/)]);
    expect(errors.join('\n')).not.toContain('wrong-secret-0123456789');
    expect(io.secrets).toContain('wrong-secret-0123456789');
    expect(calls()).not.toMatch(/pg_dump|pg_restore/);
  });

  test('with skip-safety-backup there is nothing to keep: refused', async () => {
    const io = restoreIO({ 'safety-bucket': 's3://safety/x', 'skip-safety-backup': 'true' });
    expect(await capturingStdout(() => run(io))).toEqual([
      "::error::Input 'safety-bucket' is set but 'skip-safety-backup' is true: there would be no safety backup to keep there.",
    ]);
    expect(calls()).toBe('');
  });
});

describe('safety-upload-artifact', () => {
  function withUploader(io: ReturnType<typeof restoreIO>, fail?: Error) {
    const uploads: { name: string; sha256: string; days?: number; restoredYet: boolean }[] = [];
    io.artifacts = {
      upload: async (name, file, options) => {
        uploads.push({
          name,
          sha256: sha256(readFileSync(file)),
          days: options.retentionDays,
          restoredYet: restored(),
        });
        if (fail) throw fail;
        return 512;
      },
    };
    return uploads;
  }

  test('the verified safety backup is uploaded before the restore; artifact id output and summary row', async () => {
    const io = restoreIO({ 'safety-upload-artifact': 'true', 'safety-retention-days': '30' });
    const uploads = withUploader(io);
    await restoreMain(io);
    const file = readFileSync(join(dir, safetyName));
    expect(uploads).toEqual([{ name: safetyName, sha256: sha256(file), days: 30, restoredYet: false }]);
    expect(restored()).toBe(true);
    expect(io.outputs['safety-artifact-id']).toBe('512');
    expect(io.summaries[0]).toContain(
      `| Safety backup artifact | [\`${safetyName}\`](https://github.com/acme/shop/actions/runs/77/artifacts/512) (id 512, kept 30 days) |`,
    );
    expect(io.secrets).toContain('runtime-token-for-the-test-0123456789');
  });

  test('a failed upload restores nothing; the error names the safety backup file', async () => {
    const io = restoreIO({ 'safety-upload-artifact': 'true' });
    withUploader(io, new Error('Failed to FinalizeArtifact: 503 Service Unavailable'));
    expect(await capturingStdout(() => run(io))).toEqual([
      `::error::The safety backup ${join(dir, safetyName)} (on the runner) is verified, but keeping it in a workflow artifact failed: Failed to FinalizeArtifact: 503 Service Unavailable. Nothing was restored.`,
    ]);
    expect(restored()).toBe(false);
  });

  test('a public repository without encryption-passphrase is refused before anything is dumped', async () => {
    writeFileSync(event, JSON.stringify({ repository: { private: false, visibility: 'public' } }));
    const io = restoreIO({ 'safety-upload-artifact': 'true' });
    const uploads = withUploader(io);
    const errors = await capturingStdout(() => run(io));
    expect(errors).toEqual([
      expect.stringMatching(
        /^::error::Input 'safety-upload-artifact' is true but this repository is public.*'encryption-passphrase'/,
      ),
    ]);
    expect(uploads).toEqual([]);
    expect(calls()).toBe('');
  });

  test('storage server keeps the safety backup on the server: the artifact is refused, naming safety-bucket instead', async () => {
    const io = restoreIO({
      'safety-upload-artifact': 'true',
      storage: 'server',
      'ssh-host': 'db.example.com',
      'ssh-user': 'deploy',
    });
    expect(await capturingStdout(() => run(io))).toEqual([
      "::error::Input 'safety-upload-artifact' needs the safety backup on the runner, but 'storage' is server (it is kept on that server); use 'safety-bucket' to keep a copy off the server.",
    ]);
  });
});
