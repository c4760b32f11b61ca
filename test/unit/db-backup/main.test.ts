import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupMain, run } from '../../../actions/db-backup/main.js';
import { capturingStdout, makeFakeTools, recordedIO, type FakeTools } from './fake-tools.js';
import { decryptAsDocumented } from '../../support/openssl.js';
import { startS3Service, type S3Service } from '../../stand-ins/s3-service.js';

let tools: FakeTools;
beforeEach(() => {
  tools = makeFakeTools([13, 15]);
});
afterEach(() => tools.cleanup());

const url = 'postgres://app:s3cr%3At@db.internal:5433/shop?sslmode=require';
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const calls = () => readFileSync(tools.log, 'utf8');

describe('db-backup run (fake tools, real processes)', () => {
  test('a PostgreSQL custom backup: newest client, verified, named, outputs and summary, password only in env', async () => {
    const dir = join(tools.dir, 'out');
    const io = recordedIO(
      { 'database-url': url, directory: dir, sha: 'abcdef1234567890', 'postgres-client-root': tools.clientRoot },
      tools.runner,
      {
        GITHUB_ACTION_REPOSITORY: 'acme/runbook',
        GITHUB_ACTION_REF: 'v1.2.0',
      },
    );
    await backupMain(io);
    expect(io.secrets).toContain('s3cr%3At');
    expect(io.secrets).toContain('s3cr:t');
    expect(files(dir)).toEqual(['shop_202611271405_abcdef1.dump']);
    const path = join(dir, 'shop_202611271405_abcdef1.dump');
    expect(io.outputs.path).toBe(path);
    expect(io.outputs['size-bytes']).toBe(String(readFileSync(path).length));
    expect(io.outputs.sha256).toBe(execFileSync('sha256sum', [path]).toString().split(' ')[0]);
    expect(io.outputs.format).toBe('custom');
    expect(io.outputs['server-version']).toBe('15.4 (Debian 15.4-1)');
    expect(io.outputs['restore-command']).toContain('uses: acme/runbook/actions/db-restore@v1.2.0');
    expect(io.outputs['restore-command']).toContain('confirm: shop');
    expect(io.summaries[0]).toContain('pg_restore --list read 2 entries');
    expect(io.summaries[0]).toContain(`pg_dump 15 (${tools.clientRoot}/15/bin)`);
    const log = calls();
    expect(log).toContain(
      `${tools.clientRoot}/15/bin/pg_dump --no-password --format=custom --file=${dir}/shop_202611271405_abcdef1.dump.partial`,
    );
    expect(log).toContain('PGPASSWORD=s3cr:t');
    expect(log).toContain('PGSSLMODE=require');
    expect(log).toContain('PGPORT=5433');
    expect(log.split('\n').filter((l) => l.startsWith('/') && l.includes('s3cr'))).toEqual([]);
  });

  test('plain SQL, encrypted with openssl, decryptable with the documented command; retention keeps the new file', async () => {
    const dir = join(tools.dir, 'enc');
    mkdirSync(dir);
    for (const old of [
      'shop_202610010000_1111111.sql.enc',
      'shop_202611260000_2222222.sql.enc',
      'notes.txt',
      'other_202601010000_3333333.sql',
    ]) {
      writeFileSync(join(dir, old), 'x');
    }
    const passphrase = 'a long enough passphrase';
    const io = recordedIO(
      {
        'database-url': url,
        directory: dir,
        format: 'plain',
        'encryption-passphrase': passphrase,
        'postgres-client-root': tools.clientRoot,
        'keep-days': '14',
      },
      tools.runner,
    );
    await backupMain(io);
    expect(io.secrets).toContain(passphrase);
    expect(files(dir)).toEqual([
      'notes.txt',
      'other_202601010000_3333333.sql',
      'shop_202611260000_2222222.sql.enc',
      'shop_202611271405_nosha.sql.enc',
    ]);
    const plain = decryptAsDocumented({ file: io.outputs.path }, passphrase).toString();
    expect(plain).toContain('-- PostgreSQL database dump complete');
    expect(io.summaries[0]).toContain('deleted `shop_202610010000_1111111.sql.enc`');
    expect(io.outputs['restore-command']).toContain('encryption-passphrase');
  });

  test('the same minute twice gets a second name, never overwriting the first', async () => {
    const dir = join(tools.dir, 'twice');
    const inputs = { 'database-url': url, directory: dir, sha: 'abc1234', 'postgres-client-root': tools.clientRoot };
    await backupMain(recordedIO(inputs, tools.runner));
    await backupMain(recordedIO(inputs, tools.runner));
    expect(files(dir)).toEqual(['shop_202611271405_abc1234-2.dump', 'shop_202611271405_abc1234.dump']);
  });

  test('verify: restore creates, fills and drops a scratch database', async () => {
    const dir = join(tools.dir, 'verify');
    const io = recordedIO(
      { 'database-url': url, directory: dir, verify: 'restore', 'postgres-client-root': tools.clientRoot },
      tools.runner,
    );
    await backupMain(io);
    const log = calls();
    expect(log).toMatch(/psql -X -v ON_ERROR_STOP=1 -c CREATE DATABASE "shop_verify_\w+"/);
    expect(log).toMatch(/pg_restore --no-owner --no-acl --exit-on-error --single-transaction --dbname=shop_verify_\w+/);
    expect(log).toMatch(/DROP DATABASE IF EXISTS "shop_verify_\w+"/);
    expect(io.summaries[0]).toContain('test restore into a scratch database succeeded (2 tables)');
  });

  test('a failed test restore keeps no backup and still drops the scratch database', async () => {
    const failing = makeFakeTools([15], { FAKE_RESTORE_FAIL: '1' });
    try {
      const dir = join(failing.dir, 'out');
      const io = recordedIO(
        {
          'database-url': url,
          directory: dir,
          verify: 'restore',
          format: 'plain',
          'postgres-client-root': failing.clientRoot,
        },
        failing.runner,
      );
      await expect(backupMain(io)).rejects.toThrow(
        /failed its test restore into scratch database 'shop_verify_\w+': psql exited with code 3/,
      );
      expect(files(dir)).toEqual([]);
      expect(readFileSync(failing.log, 'utf8')).toMatch(/DROP DATABASE IF EXISTS/);
    } finally {
      failing.cleanup();
    }
  });

  test('a client older than the server stops before dumping, saying what to install', async () => {
    const old = makeFakeTools([13], { FAKE_SERVER_VERSION: '16.2' });
    try {
      const dir = join(old.dir, 'out');
      const io = recordedIO(
        { 'database-url': url, directory: dir, 'postgres-client-root': old.clientRoot },
        old.runner,
      );
      await expect(backupMain(io)).rejects.toThrow(
        /server is version 16 but the newest client on the runner is 13 .*apt-get install -y postgresql-client-16/,
      );
      expect(files(dir)).toEqual([]);
      expect(readFileSync(old.log, 'utf8')).not.toContain('pg_dump --no-password');
    } finally {
      old.cleanup();
    }
  });

  test('a truncated plain dump or a failing dump leaves nothing behind', async () => {
    for (const env of [{ FAKE_TRUNCATE: '1' }, { FAKE_DUMP_FAIL: '1' }] as Record<string, string>[]) {
      const bad = makeFakeTools([15], env);
      try {
        const dir = join(bad.dir, 'out');
        const io = recordedIO(
          { 'database-url': url, directory: dir, format: 'plain', 'postgres-client-root': bad.clientRoot },
          bad.runner,
        );
        await expect(backupMain(io)).rejects.toThrow(
          env.FAKE_TRUNCATE
            ? /does not end with '-- PostgreSQL database dump complete'/
            : /The dump failed: pg_dump exited with code 1: pg_dump: error: query failed/,
        );
        expect(files(dir)).toEqual([]);
      } finally {
        bad.cleanup();
      }
    }
  });

  test('a wrong password is one clear connection error', async () => {
    const dir = join(tools.dir, 'denied');
    const io = recordedIO(
      {
        'database-url': 'postgresql://app:wrong@db.internal/shop',
        directory: dir,
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await expect(backupMain(io)).rejects.toThrow(
      'Cannot connect to postgresql://app:***@db.internal:5432/shop: connection to server at "127.0.0.1", port 5432 failed: FATAL:  password authentication failed for user "app"',
    );
  });

  test('MariaDB: mariadb-dump with a single transaction, password in MYSQL_PWD, completion marker checked', async () => {
    const dir = join(tools.dir, 'maria');
    const io = recordedIO(
      { 'database-url': 'mariadb://app:pw-123@127.0.0.1/shop', directory: dir, verify: 'restore' },
      tools.runner,
    );
    await backupMain(io);
    expect(io.outputs.format).toBe('mysql');
    expect(io.outputs.path).toMatch(/shop_202611271405_nosha\.sql$/);
    const log = calls();
    expect(log).toMatch(
      /mariadb-dump --host=127\.0\.0\.1 --port=3306 --user=app --default-character-set=utf8mb4 --single-transaction --routines --triggers --events --hex-blob --no-tablespaces --skip-lock-tables -- shop/,
    );
    expect(log).toContain('MYSQL_PWD=pw-123');
    expect(log).toMatch(/CREATE DATABASE `shop_verify_\w+`/);
    expect(log).toMatch(/DROP DATABASE IF EXISTS `shop_verify_\w+`/);

    const truncated = makeFakeTools([], { FAKE_TRUNCATE: '1' });
    try {
      const io2 = recordedIO(
        { 'database-url': 'mysql://app:pw-123@127.0.0.1/shop', directory: join(truncated.dir, 'o') },
        truncated.runner,
      );
      await expect(backupMain(io2)).rejects.toThrow(/does not end with '-- Dump completed'/);
      expect(files(join(truncated.dir, 'o'))).toEqual([]);
    } finally {
      truncated.cleanup();
    }
  });

  test('Django dumpdata through the given manage command; a cut-off JSON is refused', async () => {
    const dir = join(tools.dir, 'django');
    const io = recordedIO(
      {
        engine: 'django',
        'django-manage-command': `sh ${tools.dir}/bin/manage`,
        directory: dir,
        'working-directory': tools.dir,
        'database-url': url,
      },
      tools.runner,
    );
    await backupMain(io);
    expect(io.outputs.format).toBe('json');
    expect(JSON.parse(readFileSync(io.outputs.path, 'utf8'))[0].fields.name).toBe('Reine "4" [x]');
    expect(calls()).toContain('dumpdata --natural-foreign --natural-primary --exclude=contenttypes');
    expect(calls()).toContain('DATABASE_URL=postgres://app:s3cr%3At@db.internal:5433/shop?sslmode=require');

    const cut = makeFakeTools([], { FAKE_TRUNCATE: '1' });
    try {
      const io2 = recordedIO(
        { engine: 'django', 'django-manage-command': `sh ${cut.dir}/bin/manage`, directory: join(cut.dir, 'o') },
        cut.runner,
      );
      await expect(backupMain(io2)).rejects.toThrow(/ends before its top-level array closes/);
      expect(files(join(cut.dir, 'o'))).toEqual([]);
    } finally {
      cut.cleanup();
    }
  });

  test('over SSH: streamed back to the runner, or kept and verified on the server; key removed afterwards', async () => {
    const key =
      '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----';
    const ssh = {
      'ssh-host': 'db.example.com',
      'ssh-user': 'deploy',
      'ssh-private-key': key,
      'ssh-known-hosts': 'db.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA',
    };
    const back = join(tools.dir, 'back');
    const io = recordedIO(
      { 'database-url': url, directory: back, 'postgres-client-root': tools.clientRoot, ...ssh },
      tools.runner,
    );
    await backupMain(io);
    expect(files(back)).toEqual(['shop_202611271405_nosha.dump']);
    expect(io.messages.join('\n')).toContain('on deploy@db.example.com');
    expect(io.summaries[0]).toContain('verified against ssh-known-hosts');
    const log = calls();
    expect(log).toMatch(/ssh .*-o ControlMaster=yes -o ControlPersist=120 -f -N deploy@db\.example\.com/);
    expect(log).toMatch(/-o BatchMode=yes/);
    expect(log).toMatch(/StrictHostKeyChecking=yes/);
    expect(log).toMatch(/ssh .* -O exit deploy@db\.example\.com/);
    // The secret went over stdin: the remote side read it into PGPASSWORD, never into a command line.
    expect(log).toContain('PGPASSWORD=s3cr:t');
    expect(log.split('\n').filter((l) => l.startsWith('ssh') && l.includes('s3cr'))).toEqual([]);
    const keyDir = /-i (\S+)\/key/.exec(log)![1];
    expect(existsSync(keyDir)).toBe(false);

    const server = join(tools.dir, 'server');
    const kept = recordedIO(
      {
        'database-url': url,
        directory: server,
        storage: 'server',
        format: 'plain',
        'postgres-client-root': tools.clientRoot,
        ...ssh,
      },
      tools.runner,
    );
    await backupMain(kept);
    expect(files(server)).toEqual(['shop_202611271405_nosha.sql']);
    expect(kept.outputs.sha256).toBe(execFileSync('sha256sum', [kept.outputs.path]).toString().split(' ')[0]);
    expect(kept.summaries[0]).toContain('(on deploy@db.example.com)');
    // The restore step names the server the file is on, in db-restore's own input names.
    expect(kept.outputs['restore-command']).toContain('    storage: server\n    ssh-host: db.example.com\n');
    expect(kept.outputs['restore-command']).toContain('    ssh-user: deploy\n');
  });

  test('run() turns a bad input into one failure and never throws', async () => {
    const io = recordedIO({ 'database-url': 'ftp://x/y' }, tools.runner);
    const failed = await capturingStdout(() => run(io));
    expect(failed).toEqual([
      `::error::Input 'database-url' has an unknown scheme 'ftp'; it accepts postgres://, postgresql://, mysql:// or mariadb://.`,
    ]);
  });
});

describe('db-backup run into a bucket (fake tools, the S3 stand-in, in process)', () => {
  let s3: S3Service;
  beforeAll(async () => {
    s3 = await startS3Service();
    s3.createBucket('backups');
  });
  afterAll(() => s3.stop());

  const bucketInputs = (storage: string, dir: string) => ({
    'database-url': url,
    directory: dir,
    sha: 'abcdef1234567890',
    'postgres-client-root': tools.clientRoot,
    storage,
    bucket: 's3://backups/nightly',
    's3-endpoint': s3.endpoint,
    's3-region': s3.region,
    's3-force-path-style': 'true',
    's3-access-key-id': s3.accessKeyId,
    's3-secret-access-key': s3.secretAccessKey,
  });

  test('storage bucket streams the dump, verifies it and marks it good with a .sha256 object', async () => {
    const io = recordedIO(bucketInputs('bucket', join(tools.dir, 'unused')), tools.runner);
    await backupMain(io);
    expect(io.secrets).toContain(s3.secretAccessKey);
    expect(io.outputs['bucket-url']).toMatch(/^s3:\/\/backups\/nightly\/shop_\d{12}_abcdef1\.dump$/);
    const key = io.outputs['bucket-url'].replace('s3://backups/', '');
    expect(createHash('sha256').update(s3.read('backups', key)).digest('hex')).toBe(io.outputs.sha256);
    expect(s3.read('backups', `${key}.sha256`).toString()).toContain(io.outputs.sha256);
    expect(files(join(tools.dir, 'unused'))).toEqual([]);
  });

  test('runner, bucket keeps the file and a verified copy; a refused secret never reaches the log', async () => {
    const dir = join(tools.dir, 'both');
    const io = recordedIO(bucketInputs('runner, bucket', dir), tools.runner);
    await backupMain(io);
    expect(files(dir)).toHaveLength(1);
    const key = io.outputs['bucket-url'].replace('s3://backups/', '');
    expect(s3.read('backups', key).equals(readFileSync(join(dir, files(dir)[0])))).toBe(true);

    const denied = recordedIO(
      { ...bucketInputs('bucket', join(tools.dir, 'x')), 's3-secret-access-key': 'not-the-secret' },
      tools.runner,
    );
    const failed = await capturingStdout(() => run(denied));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatch(/s3-secret-access-key|credentials|signature/i);
    expect([...failed, ...denied.messages, ...denied.summaries].join('\n')).not.toContain('not-the-secret');
  });
});
