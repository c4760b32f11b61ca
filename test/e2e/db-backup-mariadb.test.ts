// db-backup and db-restore end to end on a private MariaDB from the test bed: mariadb-dump with a single
// transaction, routines, triggers and events; restore into a new database; identical tables.
import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAction } from '../harness/index.js';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { MARIADB_DATASET, mariadbFingerprint, watchCommandLines } from './db-backup-dataset.js';

jest.setTimeout(240_000);

let db: MariaDBServer;
let work: string;
let source: Record<string, string>;

beforeAll(async () => {
  db = await startMariaDB();
  work = mkdtempSync(join(tmpdir(), 'rb-db-e2e-maria-'));
  await db.createDatabase('shop');
  await db.sql(MARIADB_DATASET, 'shop');
  await db.sql(
    'CREATE TRIGGER customers_city BEFORE INSERT ON customers FOR EACH ROW SET NEW.city = IFNULL(NEW.city, "?")',
    'shop',
  );
  await db.sql('CREATE PROCEDURE count_customers() SELECT COUNT(*) FROM customers', 'shop');
  source = await mariadbFingerprint(db, 'shop');
});

afterAll(async () => {
  await db?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const backupsIn = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('db-backup + db-restore on MariaDB', () => {
  test('a dump restores into a new database with every table identical, and no password in any argv', async () => {
    const dir = join(work, 'dumps');
    const { result, seen } = await watchCommandLines(
      runAction({
        action: 'db-backup',
        inputs: { 'database-url': db.url('shop').replace(/^mysql:/, 'mariadb:'), directory: dir, verify: 'restore' },
        secrets: [db.password],
        github: { sha: 'feedfacecafe0000' },
      }),
      /mariadb-dump|mysqldump|mariadb /,
    );
    expect(result.exitCode).toBe(0);
    expect(seen.some((line) => line.includes('mariadb-dump'))).toBe(true);
    expect(seen.filter((line) => line.includes(db.password))).toEqual([]);
    const path = result.outputs.path;
    expect(path).toMatch(/shop_\d{12}_feedfac\.sql$/);
    expect(result.outputs.format).toBe('mysql');
    expect(result.outputs['server-version']).toMatch(/MariaDB/);
    expect(result.outputs.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('-- Dump completed');
    expect(text).toMatch(/TRIGGER `?customers_city/);
    expect(text).toMatch(/PROCEDURE `?count_customers/);
    expect(result.summary).toMatch(/test restore into a scratch database succeeded/);
    expect(
      await db.sql("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE 'shop_verify_%'"),
    ).toBe('0');

    await db.createDatabase('shop_copy');
    const restored = await runAction({
      action: 'db-restore',
      inputs: { backup: 'latest', directory: dir, 'database-url': db.url('shop_copy'), confirm: 'shop_copy' },
      secrets: [db.password],
    });
    expect(restored.exitCode).toBe(0);
    expect(restored.outputs['restored-from']).toBe(path);
    expect(await mariadbFingerprint(db, 'shop_copy')).toEqual(source);
    expect(restored.outputs['safety-backup-path']).toMatch(
      /shop_copy-before-restore_\d{12}_nosha\.sql$|shop_copy-before-restore_\d{12}_[0-9a-f]{7}\.sql$/,
    );
    expect(source.customers).toMatch(/^2001 /);
  });

  test('a restore stops at the first failing statement', async () => {
    const dir = join(work, 'broken');
    const ok = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': db.url('shop'), directory: dir },
      secrets: [db.password],
    });
    expect(ok.exitCode).toBe(0);
    // A copy whose middle statement fails: the rows after it must not be loaded.
    const text = readFileSync(ok.outputs.path, 'utf8').replace(
      /INSERT INTO `invoices`/,
      'INSERT INTO no_such_table VALUES (1);\nINSERT INTO `invoices`',
    );
    const brokenPath = join(dir, 'broken_202001010000_0000000.sql');
    writeFileSync(brokenPath, text);
    await db.createDatabase('shop_broken');
    const restored = await runAction({
      action: 'db-restore',
      inputs: {
        backup: brokenPath,
        'database-url': db.url('shop_broken'),
        confirm: 'shop_broken',
        'skip-safety-backup': 'true',
      },
      secrets: [db.password],
    });
    expect(restored.exitCode).not.toBe(0);
    expect(restored.log).toMatch(/The restore failed and was stopped: mariadb exited with code 1: .*no_such_table/);
    expect(await db.sql('SELECT COUNT(*) FROM invoices', 'shop_broken').catch(() => 'missing')).toMatch(
      /^(0|missing)$/,
    );
  });

  test('a wrong password gives one clear error and leaves no file', async () => {
    const dir = join(work, 'denied');
    const wrong = db.url('shop').replace(`:${db.password}@`, ':wrong-password@');
    const result = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': wrong, directory: dir },
      secrets: [db.password, 'wrong-password'],
    });
    expect(result.exitCode).not.toBe(0);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(
      /Cannot connect to mysql:\/\/runbook:\*\*\*@127\.0\.0\.1:\d+\/shop: .*Access denied/,
    );
    expect(backupsIn(dir)).toEqual([]);
  });
});
