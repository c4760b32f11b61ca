// db-backup and db-restore end to end, through the runner harness, on a private PostgreSQL (and sshd) from the
// test bed: a dump restored into a new database must be identical table by table.
import { spawnSync } from 'node:child_process';
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
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { copyFixture, djangoManage, PYTHON, randomSecretKey } from '../testbed/django-app.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { POSTGRES_DATASET, postgresFingerprint, watchCommandLines } from './db-backup-dataset.js';
import { decryptAsDocumented } from '../support/openssl.js';

jest.setTimeout(240_000);

const SHA = '0123456789abcdef0123456789abcdef01234567';
let pg: PostgresServer;
let sshd: SshServer;
let work: string;
let source: Record<string, string>;

beforeAll(async () => {
  [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
  work = mkdtempSync(join(tmpdir(), 'rb-db-e2e-'));
  await pg.createDatabase('shop');
  await pg.sql(POSTGRES_DATASET, 'shop');
  source = await postgresFingerprint(pg, 'shop');
});

afterAll(async () => {
  await Promise.all([pg?.stop(), sshd?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

const backupsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('db-backup + db-restore on PostgreSQL', () => {
  test('a custom-format backup restores into a new database with every table identical', async () => {
    const dir = join(work, 'custom');
    const { result, seen, polls } = await watchCommandLines(
      runAction({
        action: 'db-backup',
        inputs: { 'database-url': pg.url('shop'), directory: dir },
        secrets: [pg.password],
        github: { sha: SHA },
      }),
      /pg_dump|psql|pg_restore/,
    );
    // The harness's secrets guard fails the run on a leak; the log apart from the mask commands is checked too.
    expect(result.log.replace(/^::add-mask::.*$/gm, '')).not.toContain(pg.password);
    expect(result.exitCode).toBe(0);
    // The dump was seen running, and no process ever had the password in its argv.
    expect(polls).toBeGreaterThan(0);
    expect(seen.some((line) => line.includes('pg_dump'))).toBe(true);
    expect(seen.filter((line) => line.includes(pg.password))).toEqual([]);

    const path = result.outputs.path;
    expect(path).toMatch(new RegExp(`^${dir}/shop_\\d{12}_0123456\\.dump$`));
    expect(backupsIn(dir)).toEqual([path.split('/').pop()]);
    expect(result.outputs['size-bytes']).toBe(String(readFileSync(path).length));
    expect(result.outputs.sha256).toBe(sha256(path));
    expect(result.outputs.format).toBe('custom');
    expect(result.outputs['server-version']).toMatch(new RegExp(`^${pg.majorVersion}\\.`));
    expect(Number(result.outputs['duration-ms'])).toBeGreaterThan(0);
    expect(result.outputs['restore-command']).toContain(`backup: ${path}`);
    expect(result.summary).toContain(result.outputs.sha256);
    expect(result.summary).toContain('0123456789ab');

    await pg.createDatabase('shop_copy');
    const restored = await runAction({
      action: 'db-restore',
      inputs: { backup: path, 'database-url': pg.url('shop_copy'), confirm: 'shop_copy', directory: dir },
      secrets: [pg.password],
      github: { sha: SHA },
    });
    expect(restored.exitCode).toBe(0);
    expect(await postgresFingerprint(pg, 'shop_copy')).toEqual(source);
    const safety = restored.outputs['safety-backup-path'];
    expect(safety).toMatch(/shop_copy-before-restore_\d{12}_0123456\.dump$/);
    expect(existsSync(safety)).toBe(true);
    expect(restored.summary).toContain(path);
    expect(restored.summary).toContain(safety);

    // Restoring again over the now-populated database replaces it (--clean --if-exists), still identical.
    await pg.sql("UPDATE public.customers SET name = 'changed' WHERE id = 1", 'shop_copy');
    const again = await runAction({
      action: 'db-restore',
      inputs: {
        backup: 'latest',
        prefix: 'shop',
        'database-url': pg.url('shop_copy'),
        confirm: 'shop_copy',
        directory: dir,
        'skip-safety-backup': 'true',
      },
      secrets: [pg.password],
    });
    expect(again.exitCode).toBe(0);
    expect(again.outputs['restored-from']).toBe(path);
    expect(again.outputs['safety-backup-path']).toBe('');
    expect(await postgresFingerprint(pg, 'shop_copy')).toEqual(source);
  });

  test('a plain SQL backup, encrypted, verified by a test restore, decrypts with openssl and restores', async () => {
    const dir = join(work, 'plain');
    const passphrase = 'correct horse battery staple 42';
    const result = await runAction({
      action: 'db-backup',
      inputs: {
        'database-url': pg.url('shop'),
        directory: dir,
        format: 'plain',
        verify: 'restore',
        'encryption-passphrase': passphrase,
      },
      secrets: [pg.password, passphrase],
      github: { sha: SHA },
    });
    expect(result.exitCode).toBe(0);
    const path = result.outputs.path;
    expect(path).toMatch(/shop_\d{12}_0123456\.sql\.enc$/);
    expect(result.summary).toMatch(/test restore into a scratch database succeeded/);
    // The scratch database is gone.
    expect(await pg.sql("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop_verify_%'")).toBe('0');
    // The documented decrypt command works with the standard tool.
    const plain = decryptAsDocumented({ file: path }, passphrase).toString('utf8');
    expect(plain).toContain('-- PostgreSQL database dump complete');

    await pg.createDatabase('shop_plain');
    const restored = await runAction({
      action: 'db-restore',
      inputs: {
        backup: path,
        'database-url': pg.url('shop_plain'),
        confirm: 'shop_plain',
        'encryption-passphrase': passphrase,
        directory: dir,
      },
      secrets: [pg.password, passphrase],
    });
    expect(restored.exitCode).toBe(0);
    expect(await postgresFingerprint(pg, 'shop_plain')).toEqual(source);
    expect(backupsIn(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  test('over SSH the dump runs on the server and streams back to the runner, or stays on the server', async () => {
    const dir = join(work, 'ssh-back');
    const ssh = {
      'ssh-host': sshd.host,
      'ssh-port': String(sshd.port),
      'ssh-user': sshd.user,
      'ssh-private-key': sshd.privateKey,
      'ssh-known-hosts': sshd.knownHosts,
    };
    const result = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': pg.url('shop'), directory: dir, ...ssh },
      secrets: [pg.password, sshd.privateKey],
      github: { sha: SHA },
    });
    expect(result.exitCode).toBe(0);
    expect(result.log).toContain(`on ${sshd.user}@${sshd.host}`);
    expect(result.outputs.sha256).toBe(sha256(result.outputs.path));
    expect(result.summary).toContain('verified against ssh-known-hosts');

    const serverDir = join(work, 'on-server');
    const kept = await runAction({
      action: 'db-backup',
      inputs: {
        'database-url': pg.url('shop'),
        directory: serverDir,
        storage: 'server',
        format: 'plain',
        ...ssh,
        'ssh-known-hosts': '',
        'ssh-host-fingerprint': sshd.hostKeyFingerprint,
      },
      secrets: [pg.password, sshd.privateKey],
      github: { sha: SHA },
    });
    expect(kept.exitCode).toBe(0);
    expect(kept.outputs.sha256).toBe(sha256(kept.outputs.path));
    expect(kept.summary).toContain('pinned fingerprint');
    // Made on the server by the dump tool itself (plain format): private to the SSH user whatever its umask.
    expect(statSync(kept.outputs.path).mode & 0o077).toBe(0);

    await pg.createDatabase('shop_ssh');
    const restored = await runAction({
      action: 'db-restore',
      inputs: {
        backup: result.outputs.path,
        'database-url': pg.url('shop_ssh'),
        confirm: 'shop_ssh',
        directory: dir,
        ...ssh,
      },
      secrets: [pg.password, sshd.privateKey],
    });
    expect(restored.exitCode).toBe(0);
    expect(await postgresFingerprint(pg, 'shop_ssh')).toEqual(source);

    // A wrong pinned fingerprint is refused before anything runs.
    const refused = await runAction({
      action: 'db-backup',
      inputs: {
        'database-url': pg.url('shop'),
        directory: join(work, 'refused'),
        ...ssh,
        'ssh-known-hosts': '',
        'ssh-host-fingerprint': 'SHA256:' + 'A'.repeat(43),
      },
      secrets: [pg.password, sshd.privateKey],
    });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.log).toMatch(/does not match the pinned fingerprint/);
    expect(existsSync(join(work, 'refused'))).toBe(false);
  });

  test('Django dumpdata through manage.py, restored with flush + loaddata into a migrated copy', async () => {
    const project = await copyFixture(join(work, 'django'));
    const secretKey = randomSecretKey();
    const djangoEnv = (database: string) => ({
      DATABASE_URL: pg.url(database),
      SECRET_KEY: secretKey,
      DEBUG: '0',
      ALLOWED_HOSTS: 'localhost',
    });
    for (const database of ['pizza', 'pizza_copy']) {
      await pg.createDatabase(database);
      const migrated = await djangoManage(['migrate', '--no-input'], { projectDir: project, env: djangoEnv(database) });
      expect(migrated.code).toBe(0);
    }
    await pg.sql(
      "INSERT INTO stores_store (name, address, phone, opened_at) VALUES ('Lyon – Part-Dieu', E'1 rue « Zoë »\\n69003', '', '2020-01-01');" +
        "INSERT INTO pizzas_pizza (store_id, name, description, price, available) SELECT s.id, 'Reine ' || g, 'jambon, champignons 🍄', 9.5 + g, g % 2 = 0 FROM stores_store s, generate_series(1, 20) g;",
      'pizza',
    );
    const fingerprint = (database: string) =>
      Promise.all(
        ['stores_store', 'pizzas_pizza'].map((t) =>
          pg.sql(`SELECT count(*) || ' ' || md5(string_agg(t::text, '|' ORDER BY t::text)) FROM ${t} t`, database),
        ),
      );
    const dir = join(work, 'django-backups');
    const common = {
      engine: 'django',
      'django-manage-command': `${PYTHON} manage.py`,
      'working-directory': project,
      directory: dir,
    };
    const backup = await runAction({
      action: 'db-backup',
      inputs: { ...common, 'database-url': pg.url('pizza') },
      env: { SECRET_KEY: secretKey, DEBUG: '0', ALLOWED_HOSTS: 'localhost', PYTHONDONTWRITEBYTECODE: '1' },
      secrets: [pg.password, secretKey],
      github: { sha: SHA },
    });
    expect(backup.exitCode).toBe(0);
    expect(backup.outputs.format).toBe('json');
    const fixture = JSON.parse(readFileSync(backup.outputs.path, 'utf8')) as { model: string }[];
    // The migrations seed a few rows of their own; every row of the table is in the fixture.
    expect(fixture.filter((o) => o.model === 'pizzas.pizza')).toHaveLength(
      Number(await pg.sql('SELECT count(*) FROM pizzas_pizza', 'pizza')),
    );

    const restored = await runAction({
      action: 'db-restore',
      inputs: { ...common, backup: backup.outputs.path, 'database-url': pg.url('pizza_copy'), confirm: 'pizza_copy' },
      env: { SECRET_KEY: secretKey, DEBUG: '0', ALLOWED_HOSTS: 'localhost', PYTHONDONTWRITEBYTECODE: '1' },
      secrets: [pg.password, secretKey],
    });
    expect(restored.exitCode).toBe(0);
    expect(await fingerprint('pizza_copy')).toEqual(await fingerprint('pizza'));
    expect(restored.outputs['safety-backup-path']).toMatch(/pizza_copy-before-restore_\d{12}_\w+\.json$/);

    // Encrypted: the decrypted copy goes to loaddata on stdin (its file name carries no format), after the flush.
    const passphrase = 'correct horse battery staple';
    const encrypted = await runAction({
      action: 'db-backup',
      inputs: { ...common, 'database-url': pg.url('pizza'), 'encryption-passphrase': passphrase },
      env: { SECRET_KEY: secretKey, DEBUG: '0', ALLOWED_HOSTS: 'localhost', PYTHONDONTWRITEBYTECODE: '1' },
      secrets: [pg.password, secretKey, passphrase],
      github: { sha: SHA },
    });
    expect(encrypted.exitCode).toBe(0);
    expect(encrypted.outputs.path).toMatch(/\.json\.enc$/);
    const restoredEncrypted = await runAction({
      action: 'db-restore',
      inputs: {
        ...common,
        backup: encrypted.outputs.path,
        'database-url': pg.url('pizza_copy'),
        confirm: 'pizza_copy',
        'encryption-passphrase': passphrase,
        'skip-safety-backup': 'true',
      },
      env: { SECRET_KEY: secretKey, DEBUG: '0', ALLOWED_HOSTS: 'localhost', PYTHONDONTWRITEBYTECODE: '1' },
      secrets: [pg.password, secretKey, passphrase],
    });
    expect(errorMessages(restoredEncrypted)).toEqual([]);
    expect(await fingerprint('pizza_copy')).toEqual(await fingerprint('pizza'));
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });

  test('simulated: with only an older pg_dump (14) installed, the backup stops with how to install client 15', async () => {
    // Only PostgreSQL 15 exists on this machine, so an older client is simulated by a client root holding 14 alone.
    const root = join(work, 'fake-clients');
    mkdirSync(join(root, '14', 'bin'), { recursive: true });
    for (const tool of ['pg_dump', 'psql', 'pg_restore']) {
      writeFileSync(join(root, '14', 'bin', tool), `#!/bin/sh\nexec ${pg.binDir}/${tool} "$@"\n`, { mode: 0o755 });
    }
    const dir = join(work, 'old-client');
    const result = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': pg.url('shop'), directory: dir, 'postgres-client-root': root },
      secrets: [pg.password],
    });
    expect(result.exitCode).not.toBe(0);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(
      new RegExp(`server is version ${pg.majorVersion} but the newest client on the runner is 14`),
    );
    expect(errors[0].message).toContain(`apt-get install -y postgresql-client-${pg.majorVersion}`);
    expect(backupsIn(dir)).toEqual([]);
  });

  test('a dump killed midway, or a cancelled job, leaves no file that looks like a backup', async () => {
    await pg.createDatabase('big');
    // Random bytes do not compress: a dump of ~80 MB takes long enough to be killed midway.
    await pg.sql(
      "CREATE TABLE blobs AS SELECT g AS id, decode(string_agg(md5(random()::text), ''), 'hex') AS data FROM generate_series(1, 800) g, generate_series(1, 6000) h GROUP BY g",
      'big',
    );
    const dir = join(work, 'killed');
    let killed = false;
    const run = runAction({
      action: 'db-backup',
      inputs: { 'database-url': pg.url('big'), directory: dir },
      secrets: [pg.password],
    });
    for (let i = 0; i < 1000 && !killed; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const partial = backupsIn(dir).find((f) => f.endsWith('.partial'));
      if (!partial) continue;
      const pids = spawnSync('pgrep', ['-f', `pg_dump.*--file=${dir}`])
        .stdout.toString()
        .trim()
        .split('\n')
        .filter(Boolean);
      for (const pid of pids) {
        process.kill(Number(pid), 'SIGKILL');
        killed = true;
      }
    }
    const result = await run;
    expect(killed).toBe(true);
    expect(result.exitCode).not.toBe(0);
    expect(result.log).toMatch(/The dump failed: pg_dump was killed by SIGKILL/);
    expect(backupsIn(dir)).toEqual([]);

    // The job is cancelled once the dump is being written (its .partial file exists), not after a time: on a fast
    // machine a timed cancel could come after the dump, on a slow one before it began.
    const cancelledDir = join(work, 'cancelled');
    let dumping = false;
    const dumpStarted = (async () => {
      for (let i = 0; i < 6000 && !dumping; i++) {
        await new Promise((r) => setTimeout(r, 20));
        dumping = backupsIn(cancelledDir).some((f) => f.endsWith('.partial'));
      }
    })();
    const cancelled = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': pg.url('big'), directory: cancelledDir },
      secrets: [pg.password],
      cancelWhen: dumpStarted,
    });
    expect(dumping).toBe(true);
    expect(cancelled.cancelled).toBe(true);
    expect(cancelled.exitCode).not.toBe(0);
    expect(backupsIn(cancelledDir)).toEqual([]);
  });

  test('a wrong password and an unreachable host give one clear error and leave no file', async () => {
    const dir = join(work, 'bad-login');
    const wrong = pg.url('shop').replace(`:${pg.password}@`, ':not-the-password@');
    const denied = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': wrong, directory: dir },
      secrets: [pg.password, 'not-the-password'],
    });
    expect(denied.exitCode).not.toBe(0);
    const deniedErrors = denied.annotations.filter((a) => a.level === 'error');
    expect(deniedErrors).toHaveLength(1);
    expect(deniedErrors[0].message).toMatch(
      /Cannot connect to postgresql:\/\/runbook:\*\*\*@127\.0\.0\.1:\d+\/shop: .*password authentication failed/,
    );
    expect(backupsIn(dir)).toEqual([]);

    const closedPort = pg.port === 1 ? 2 : 1;
    const unreachable = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': `postgres://runbook:x@127.0.0.1:${closedPort}/shop`, directory: dir },
      secrets: [pg.password],
    });
    expect(unreachable.exitCode).not.toBe(0);
    const errors = unreachable.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/Cannot connect to .*127\.0\.0\.1:1\/shop: .*Connection refused/i);
    expect(backupsIn(dir)).toEqual([]);
  });

  test('bad input: unparsable URL, unknown scheme, unwritable directory, wrong confirmation', async () => {
    const error = async (action: string, inputs: Record<string, string>) => {
      const r = await runAction({ action, inputs, secrets: [pg.password] });
      expect(r.exitCode).not.toBe(0);
      const errors = r.annotations.filter((a) => a.level === 'error');
      expect(errors).toHaveLength(1);
      expect(r.log).not.toMatch(/\n\s+at .*\.js:\d+/);
      return errors[0].message;
    };
    expect(await error('db-backup', { 'database-url': 'not a url' })).toMatch(
      /Input 'database-url' must be a database URL/,
    );
    expect(await error('db-backup', { 'database-url': `redis://u:${pg.password}@127.0.0.1/0` })).toMatch(
      /unknown scheme 'redis'/,
    );
    // Root writes anywhere, so "no write permission" is a read-only place: /proc is one for everybody.
    expect(await error('db-backup', { 'database-url': pg.url('shop'), directory: '/proc/runbook-backups' })).toMatch(
      /Input 'directory': cannot write backups to '\/proc\/runbook-backups'/,
    );
    const before = await postgresFingerprint(pg, 'shop');
    const dir = join(work, 'custom');
    expect(
      await error('db-restore', {
        backup: 'latest',
        directory: dir,
        'database-url': pg.url('shop'),
        confirm: 'shop_copy',
      }),
    ).toMatch(
      /Input 'confirm' must be exactly the name of the database being overwritten, 'shop'; got 'shop_copy'. Nothing was restored./,
    );
    expect(await postgresFingerprint(pg, 'shop')).toEqual(before);
  });
});
