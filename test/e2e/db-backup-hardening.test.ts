// The built db-backup bundle against a private MariaDB, where the runner's disk, file modes and database names are
// hostile: a full disk is one error line and no partial, every file is private, a name is never an option.
import { jest } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessages, runAction } from '../harness/index.js';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { canMountSmallDisk, mountSmallDisk } from '../support/small-disk.js';
import { MARIADB_DATASET } from './db-backup-dataset.js';

jest.setTimeout(240_000);

let db: MariaDBServer;
let work: string;

beforeAll(async () => {
  db = await startMariaDB();
  work = mkdtempSync(join(tmpdir(), 'rb-db-e2e-hard-'));
  await db.createDatabase('shop');
  await db.sql(MARIADB_DATASET, 'shop');
});

afterAll(async () => {
  await db?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const stackLines = (log: string) => log.split('\n').filter((l) => /^\s+at .+\(.*:\d+:\d+\)$|node:internal/.test(l));

(canMountSmallDisk ? test : test.skip)(
  'a full disk: one error line naming the file, no stack trace, nothing left on the disk',
  async () => {
    const disk = mountSmallDisk(256);
    try {
      const result = await runAction({
        action: 'db-backup',
        inputs: { 'database-url': db.url('shop'), directory: join(disk.dir, 'backups') },
        secrets: [db.password],
        github: { sha: 'feedfacecafe0000' },
      });
      expect(result.exitCode).toBe(1);
      const errors = errorMessages(result);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(
        /^Writing \/\S+\/backups\/shop_\d{12}_feedfac\.sql\.partial on the runner failed: no space left on the device \(ENOSPC\)\.$/,
      );
      expect(stackLines(result.log)).toEqual([]);
      expect(readdirSync(join(disk.dir, 'backups'))).toEqual([]);
    } finally {
      disk.remove();
    }
  },
);

test('an encrypted backup on the runner: 0600 files in a 0700 folder under the usual umask', async () => {
  const dir = join(work, 'private', 'backups');
  const result = await runAction({
    action: 'db-backup',
    inputs: { 'database-url': db.url('shop'), directory: dir, 'encryption-passphrase': 'a long pass phrase here' },
    secrets: [db.password, 'a long pass phrase here'],
  });
  expect(result.exitCode).toBe(0);
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
  expect(mode(dir)).toBe('700');
  expect(mode(join(work, 'private'))).toBe('700');
  expect(readdirSync(dir).map((f) => `${mode(join(dir, f))} ${f}`)).toEqual([
    `600 ${result.outputs.path.split('/').pop()}`,
  ]);
});

test('a database named like an option is refused, and nothing is dumped', async () => {
  const dir = join(work, 'option');
  const result = await runAction({
    action: 'db-backup',
    inputs: { 'database-url': db.url('shop').replace(/\/shop$/, '/--all-databases'), directory: dir },
    secrets: [db.password],
  });
  expect(result.exitCode).toBe(1);
  expect(errorMessages(result)).toEqual([
    "Input 'database-url' names the database '--all-databases', which starts with '-'; the dump tools would read it as an option. Rename the database or use another.",
  ]);
  expect(result.outputs.path).toBeUndefined();
  expect(() => readdirSync(dir)).toThrow(/ENOENT/);
});
