import {
  chooseMysqlDump,
  choosePostgresClient,
  parseMysqlVersion,
  postgresClientFromVersionText,
  postgresClientsFromPaths,
  postgresMajor,
} from '../../../actions/db-backup/client-plan.js';
import {
  checkArchiveListing,
  checkSize,
  checkSqlMarker,
  isCustomArchive,
  JsonStructureCheck,
} from '../../../actions/db-backup/verify.js';
import { formatOf, restoreCommand } from '../../../actions/db-backup/backup.js';
import { backupSummary } from '../../../actions/db-backup/main.js';

describe('client selection', () => {
  const installed = postgresClientsFromPaths([
    '/usr/lib/postgresql/13/bin/pg_dump',
    '/usr/lib/postgresql/16/bin/pg_dump',
    '/usr/lib/postgresql/15/bin/pg_dump',
    '/opt/junk',
    '',
  ]);

  test('server versions in every spelling', () => {
    expect(postgresMajor('150004')).toBe(15);
    expect(postgresMajor('90624')).toBe(9);
    expect(postgresMajor('16.2 (Ubuntu 16.2-1.pgdg22.04+1)')).toBe(16);
    expect(postgresMajor('nonsense')).toBeUndefined();
    expect(postgresClientFromVersionText('pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)')).toEqual({
      major: 15,
      binDir: '',
    });
    expect(postgresClientFromVersionText('bash: pg_dump: not found')).toBeUndefined();
  });

  test('the newest installed client at least as new as the server', () => {
    expect(installed.map((c) => c.major)).toEqual([13, 16, 15]);
    expect(choosePostgresClient('15.4', installed)).toEqual({ major: 16, binDir: '/usr/lib/postgresql/16/bin' });
    expect(choosePostgresClient('16.0', installed).major).toBe(16);
    expect(choosePostgresClient('9.6.24', [{ major: 15, binDir: '' }])).toEqual({ major: 15, binDir: '' });
  });

  test('a server newer than every client: stop, saying which client to install and how', () => {
    expect(() => choosePostgresClient('17.1', installed, 'deploy@db')).toThrow(
      'The PostgreSQL server is version 17 but the newest client on deploy@db is 16 (/usr/lib/postgresql/16/bin/pg_dump); pg_dump must be at least as new as the server. Install postgresql-client-17 on deploy@db: add the PostgreSQL (PGDG) apt repository',
    );
    expect(() => choosePostgresClient('15', [])).toThrow(
      /no pg_dump was found on the runner.*apt-get install -y postgresql-client-15/,
    );
    expect(() => choosePostgresClient('15', [{ major: 14, binDir: '' }])).toThrow(/is 14 \(pg_dump on PATH\)/);
    expect(() => choosePostgresClient('???', installed)).toThrow(/Could not read the PostgreSQL server version/);
  });

  test('MySQL and MariaDB dump clients', () => {
    const maria = parseMysqlVersion('10.11.6-MariaDB-0+deb12u1');
    const mysql8 = parseMysqlVersion('8.0.36');
    expect(maria).toEqual({ flavour: 'mariadb', version: '10.11.6-MariaDB-0+deb12u1', major: 10, minor: 11 });
    expect(() => parseMysqlVersion('')).toThrow(/Could not read the MySQL\/MariaDB server version/);
    const all = { mariadbDump: true, mysqldump: true, mysqldumpIsMariadb: true };
    expect(chooseMysqlDump(maria, all)).toEqual({ dump: 'mariadb-dump', client: 'mariadb' });
    expect(chooseMysqlDump(maria, { mariadbDump: false, mysqldump: true, mysqldumpIsMariadb: false })).toEqual({
      dump: 'mysqldump',
      client: 'mysql',
    });
    expect(chooseMysqlDump(mysql8, { mariadbDump: false, mysqldump: true, mysqldumpIsMariadb: false })).toEqual({
      dump: 'mysqldump',
      client: 'mysql',
    });
    expect(chooseMysqlDump(mysql8, all).warning).toMatch(/Install mysql-client/);
    expect(chooseMysqlDump(parseMysqlVersion('5.7.44'), all).warning).toBeUndefined();
    expect(() => chooseMysqlDump(maria, { mariadbDump: false, mysqldump: false, mysqldumpIsMariadb: false })).toThrow(
      /apt-get install -y mariadb-client/,
    );
    expect(() => chooseMysqlDump(mysql8, { mariadbDump: false, mysqldump: false, mysqldumpIsMariadb: false })).toThrow(
      /default-mysql-client/,
    );
  });
});

describe('verification rules', () => {
  test('size, markers, archive listing, magic', () => {
    expect(checkSize(0)).toMatch(/empty/);
    expect(checkSize(1)).toBeUndefined();
    expect(checkSqlMarker('plain', 'x\n-- PostgreSQL database dump complete\n\n')).toBeUndefined();
    expect(checkSqlMarker('plain', 'INSERT INTO t VALU')).toMatch(/cut short/);
    expect(checkSqlMarker('mysql', '-- Dump completed on 2026-01-01 10:00:00\n')).toBeUndefined();
    expect(checkSqlMarker('mysql', '-- PostgreSQL database dump complete')).toMatch(/-- Dump completed/);
    expect(checkArchiveListing(0, ';\n; Archive created at 2026\n', '')).toBeUndefined();
    expect(checkArchiveListing(0, '', '')).toMatch(/no archive header/);
    expect(checkArchiveListing(1, '', 'pg_restore: error: could not read input file: end of file\n')).toMatch(
      /end of file/,
    );
    expect(isCustomArchive(Buffer.from('PGDMP\x01'))).toBe(true);
    expect(isCustomArchive(Buffer.from('--'))).toBe(false);
  });

  test('the streaming JSON check accepts dumpdata output split anywhere and refuses truncation', () => {
    const text =
      '[{"model": "a.b", "pk": 1, "fields": {"t": "quote \\" and ] bracket", "n": null}}, {"model": "a.b", "pk": 2, "fields": {}}]\n';
    for (let cut = 1; cut < text.length; cut += 7) {
      const ok = new JsonStructureCheck();
      ok.feed(text.slice(0, cut));
      ok.feed(text.slice(cut));
      expect(ok.end()).toBeUndefined();
      const truncated = new JsonStructureCheck();
      truncated.feed(text.slice(0, cut));
      if (cut < text.length - 2) expect(truncated.end()).toMatch(/cut short/);
    }
    const check = (s: string) => {
      const c = new JsonStructureCheck();
      c.feed(s);
      return c.end();
    };
    expect(check('')).toMatch(/empty/);
    expect(check('{"a": 1}')).toMatch(/must start with '\['/);
    expect(check('[]]')).toMatch(/after the end/);
    expect(check('[}')).toBeUndefined(); // balance only; JSON.parse catches the rest on small files
    expect(check('[]   ')).toBeUndefined();
    const bad = new JsonStructureCheck();
    bad.feed('x');
    bad.feed('[]');
    expect(bad.end()).toMatch(/character 1/);
  });
});

describe('outputs', () => {
  test('format names and the restore step', () => {
    expect(formatOf({ engine: 'postgresql', postgresFormat: 'plain' })).toBe('plain');
    expect(formatOf({ engine: 'mysql', postgresFormat: 'custom' })).toBe('mysql');
    expect(formatOf({ engine: 'django', postgresFormat: 'custom' })).toBe('json');
    expect(
      restoreCommand(
        { path: '/b/x.dump', database: '', encrypted: false, location: 'runner', format: 'custom' },
        'o/r/actions/db-restore@v1',
      ),
    ).toBe(
      '- uses: o/r/actions/db-restore@v1\n  with:\n    backup: /b/x.dump\n    database-url: ${{ secrets.DATABASE_URL }}\n    confirm: <database name>',
    );
  });

  test('the summary escapes pipes and names the host key policy', () => {
    const md = backupSummary(
      {
        path: '/b/a|b.dump',
        file: 'a|b.dump',
        location: 'server',
        where: 'deploy@h',
        sizeBytes: 10,
        sha256: 'ff',
        format: 'custom',
        encrypted: true,
        serverVersion: '',
        client: 'pg_dump 15',
        durationMs: 5,
        verification: 'ok',
        deleted: [],
        database: 'shop',
      },
      '',
      'cmd',
      'pinned fingerprint SHA256:x',
    );
    expect(md).toContain('`/b/a\\|b.dump`');
    expect(md).toContain('| SSH host key | pinned fingerprint SHA256:x |');
    expect(md).toContain('| Protects commit | (none given) |');
    expect(md).toContain('encrypted (AES-256-CBC, PBKDF2)');
  });
});
