// Names that come from users reach tools and SQL: a database name never becomes an option or a connection string
// and is always a quoted identifier in SQL; `latest` never picks a name dated in the future; and a Django restore is
// confirmed with the name of the database Django will flush.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupMain } from '../../../actions/db-backup/main.js';
import { restoreMain } from '../../../actions/db-restore/main.js';
import {
  databaseFromSettings,
  libpqDatabaseArgument,
  mysqlIdentifier,
  parseDatabaseUrl,
  postgresIdentifier,
} from '../../../actions/shared/database-url.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { makeFakeTools, recordedIO, type FakeTools } from '../db-backup/fake-tools.js';

let tools: FakeTools;
beforeEach(() => (tools = makeFakeTools([15])));
afterEach(() => tools.cleanup());
const calls = () => readFileSync(tools.log, 'utf8').split('\n');

describe('a database name is never an option', () => {
  const names = ['--all-databases', '-A', '--result-file=x', '-'];
  test.each(names)("'%s' is refused in a URL and in db-name, for both engines", (name) => {
    for (const scheme of ['mysql', 'mariadb', 'postgres']) {
      expect(() => parseDatabaseUrl(`${scheme}://app:pw@db/${encodeURIComponent(name)}`, 'database-url')).toThrow(
        new ConfigurationError(
          `Input 'database-url' names the database '${name}', which starts with '-'; the dump tools would read it as an option. Rename the database or use another.`,
        ),
      );
    }
    for (const engine of ['mysql', 'postgresql'] as const)
      expect(() => databaseFromSettings({ engine, name, user: 'a', password: 'b', host: 'h' })).toThrow(/'db-name'/);
  });

  test('mariadb-dump gets the name after --, as an operand', async () => {
    await backupMain(
      recordedIO({ 'database-url': 'mysql://app:pw@127.0.0.1/shop', directory: join(tools.dir, 'o') }, tools.runner),
    );
    expect(calls().find((l) => l.includes('mariadb-dump'))).toMatch(/ --skip-lock-tables -- shop$/);
  });
});

describe('database names in SQL and in --dbname', () => {
  test.each([
    ['shop', '"shop"', '`shop`', 'shop'],
    ['sh"op', '"sh""op"', '`sh"op`', 'sh"op'],
    ['sh`op', '"sh`op"', '`sh``op`', 'sh`op'],
    ['a=b', '"a=b"', '`a=b`', "dbname='a=b'"],
    ["it's=\\", `"it's=\\"`, "`it's=\\`", "dbname='it\\'s=\\\\'"],
    ['postgres://evil/x', '"postgres://evil/x"', '`postgres://evil/x`', "dbname='postgres://evil/x'"],
  ])('%s', (name, pg, my, dbname) => {
    expect(postgresIdentifier(name)).toBe(pg);
    expect(mysqlIdentifier(name)).toBe(my);
    expect(libpqDatabaseArgument(name)).toBe(dbname);
  });

  // Names a database can really have; each goes through verify: restore and a restore.
  const hostile = ['sh"op; DROP DATABASE x; --', 'a=b host=evil', 'sh`op', "x'y"];
  test.each(hostile)('PostgreSQL %s: quoted identifiers, never a name in -d', async (name) => {
    const url = `postgres://app:pw@db/${encodeURIComponent(name)}`;
    const dir = join(tools.dir, 'o');
    await backupMain(
      recordedIO(
        { 'database-url': url, directory: dir, verify: 'restore', 'postgres-client-root': tools.clientRoot },
        tools.runner,
      ),
    );
    const sql = calls().filter((l) => / -c (CREATE|DROP) DATABASE/.test(l));
    expect(sql).toHaveLength(2);
    for (const line of sql) {
      const identifier = /(?:CREATE DATABASE|DROP DATABASE IF EXISTS) ("(?:[^"]|"")*")$/.exec(line)?.[1];
      expect(identifier).toBeDefined();
      expect(identifier!.slice(1, -1).replace(/""/g, '"')).toMatch(
        new RegExp(`^${name.slice(0, 40).replace(/[^\w]/g, '\\$&')}_verify_[a-z0-9]+$`),
      );
    }
    const restoreLine = calls().find((l) => /pg_restore --no-owner/.test(l))!;
    expect(restoreLine).toContain(`--dbname=${libpqDatabaseArgument(/"(.*)"$/.exec(sql[0])![1].replace(/""/g, '"'))}`);
    expect(calls().filter((l) => / -d /.test(l))).toEqual([]);

    await restoreMain(
      recordedIO(
        {
          backup: 'latest',
          directory: dir,
          'database-url': url,
          confirm: name,
          'skip-safety-backup': 'true',
          'postgres-client-root': tools.clientRoot,
        },
        tools.runner,
      ),
    );
    expect(calls().find((l) => /pg_restore --clean/.test(l))).toMatch(
      new RegExp(` --dbname=${libpqDatabaseArgument(name).replace(/[^\w]/g, '\\$&')}$`),
    );
  });

  test.each(hostile)('MariaDB %s: quoted identifiers', async (name) => {
    const url = `mysql://app:pw@127.0.0.1/${encodeURIComponent(name)}`;
    await backupMain(
      recordedIO({ 'database-url': url, directory: join(tools.dir, 'o'), verify: 'restore' }, tools.runner),
    );
    const sql = calls().filter((l) => / -e (CREATE|DROP) DATABASE/.test(l));
    expect(sql).toHaveLength(2);
    for (const line of sql) {
      const identifier = /(?:CREATE DATABASE|DROP DATABASE IF EXISTS) (`(?:[^`]|``)*`)$/.exec(line)?.[1];
      expect(identifier).toBeDefined();
      expect(
        identifier!
          .slice(1, -1)
          .replace(/``/g, '`')
          .startsWith(`${name.slice(0, 40)}_verify_`),
      ).toBe(true);
    }
  });
});

describe('backup: latest ignores names dated in the future', () => {
  test('a future-dated file is neither restored nor counted; the log says it was ignored', async () => {
    const dir = join(tools.dir, 'backups');
    mkdirSync(dir);
    writeFileSync(join(dir, 'shop_202611260300_aaaaaaa.dump'), 'PGDMP real');
    // "now" is 2026-11-27 14:05 in these tests; these were not made by any backup yet.
    writeFileSync(join(dir, 'shop_202611271406_bbbbbbb.dump'), 'PGDMP planted');
    writeFileSync(join(dir, 'shop_209912312359_ccccccc.dump'), 'PGDMP planted');
    const io = recordedIO(
      {
        backup: 'latest',
        directory: dir,
        'database-url': 'postgres://app:pw@db/shop',
        confirm: 'shop',
        'skip-safety-backup': 'true',
        'postgres-client-root': tools.clientRoot,
      },
      tools.runner,
    );
    await restoreMain(io);
    expect(io.outputs['restored-from']).toBe(join(dir, 'shop_202611260300_aaaaaaa.dump'));
    expect(io.warnings).toEqual([
      'Ignored 2 file(s) whose name is dated after now (2026-11-27T14:05:00.000Z): shop_202611271406_bbbbbbb.dump, shop_209912312359_ccccccc.dump.',
    ]);
  });
});

describe('confirm for the django engine names the database Django will flush', () => {
  const dj = (confirm: string, extra: Record<string, string> = {}) => {
    const dir = join(tools.dir, 'backups');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'shop_202611270000_fffffff.json'), '[]');
    return recordedIO(
      {
        backup: join(dir, 'shop_202611270000_fffffff.json'),
        engine: 'django',
        'django-manage-command': `sh ${tools.dir}/bin/manage`,
        'working-directory': tools.dir,
        directory: dir,
        'safety-directory': join(tools.dir, 'safety'),
        confirm,
        ...extra,
      },
      tools.runner,
    );
  };

  test.each(['django', 'default', 'Shop'])("'%s' is refused before anything is written or flushed", async (confirm) => {
    await expect(restoreMain(dj(confirm))).rejects.toThrow(
      new ConfigurationError(
        `Input 'confirm' must be exactly the name of the database being overwritten, 'shop'; got '${confirm}'. Nothing was restored.`,
      ),
    );
    expect(calls().filter((l) => /manage (dumpdata|flush|loaddata)/.test(l))).toEqual([]);
    expect(existsSync(join(tools.dir, 'safety'))).toBe(false);
  });

  test('the name Django reports is accepted; a SQLite database is named by its file', async () => {
    await restoreMain(dj('shop'));
    expect(calls().some((l) => l.includes('manage loaddata'))).toBe(true);
    const sqlite = makeFakeTools([15], { FAKE_DJANGO_DB: '/srv/app/db.sqlite3' });
    try {
      const prior = tools;
      tools = sqlite;
      await expect(restoreMain(dj('shop'))).rejects.toThrow(/'db\.sqlite3'; got 'shop'/);
      await restoreMain(dj('db.sqlite3'));
      tools = prior;
    } finally {
      sqlite.cleanup();
    }
  });
});
