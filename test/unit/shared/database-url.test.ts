import {
  databaseFromSettings,
  describeDatabase,
  mysqlConnection,
  parseDatabaseUrl,
  postgresEnvironment,
} from '../../../actions/shared/database-url.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';

describe('parseDatabaseUrl', () => {
  test('postgres and postgresql URLs with options; the password is masked before anything else', () => {
    const secrets: string[] = [];
    const t = parseDatabaseUrl(
      'postgresql://app:p%40ss%2Fw@db.example.com:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5&application_name=ci',
      'database-url',
      (s) => secrets.push(s),
    );
    expect(secrets).toEqual(['p%40ss%2Fw', 'p@ss/w']);
    expect(t).toEqual({
      engine: 'postgresql',
      host: 'db.example.com',
      port: 6543,
      user: 'app',
      password: 'p@ss/w',
      database: 'shop',
      options: { sslmode: 'verify-full', sslrootcert: '/ca.pem', connect_timeout: '5', application_name: 'ci' },
    });
    expect(parseDatabaseUrl('postgres://u@localhost/db', 'x').port).toBe(5432);
    expect(describeDatabase(t)).toBe(
      'postgresql://app:***@db.example.com:6543/shop?sslmode=verify-full&sslrootcert=/ca.pem&connect_timeout=5&application_name=ci',
    );
  });

  test('a Unix socket directory from ?host=, and IPv6 hosts', () => {
    const socket = parseDatabaseUrl('postgres://app@localhost/shop?host=/var/run/postgresql', 'database-url');
    expect(parseDatabaseUrl('postgres:///shop?host=/tmp', 'database-url')).toMatchObject({ host: '/tmp', user: '' });
    expect(socket.host).toBe('/var/run/postgresql');
    expect(describeDatabase(socket)).toBe('postgresql://app@[socket /var/run/postgresql]/shop');
    expect(parseDatabaseUrl('postgres://app@[::1]:5000/shop', 'u').host).toBe('::1');
    expect(parseDatabaseUrl('mysql://app@h/shop?socket=/run/mysqld/mysqld.sock', 'u').host).toBe(
      '/run/mysqld/mysqld.sock',
    );
  });

  test('mysql and mariadb URLs fold MySQL ssl-mode names onto one spelling', () => {
    const t = parseDatabaseUrl(
      'mariadb://root:pw@127.0.0.1/app?ssl-mode=REQUIRED&ssl-ca=/ca.pem&charset=utf8mb4',
      'database-url',
    );
    expect(t.engine).toBe('mysql');
    expect(t.port).toBe(3306);
    expect(t.options).toEqual({ sslmode: 'require', 'ssl-ca': '/ca.pem', charset: 'utf8mb4' });
    expect(parseDatabaseUrl('mysql://u@h/d?ssl_mode=VERIFY_IDENTITY', 'u').options.sslmode).toBe('verify-full');
  });

  test('one clear error per mistake, never echoing the password', () => {
    const cases: [string, RegExp][] = [
      ['not a url', /Input 'database-url' must be a database URL such as postgres:\/\/user:password@host:5432\/name/],
      [
        'redis://u:hunter2@h/0',
        /unknown scheme 'redis'; it accepts postgres:\/\/, postgresql:\/\/, mysql:\/\/ or mariadb:\/\//,
      ],
      ['postgres://u:hunter2@h/db?schema=public', /unknown query option 'schema'; for postgresql it accepts sslmode/],
      [
        'postgres://u:hunter2@h/db?sslmode=sometimes',
        /sslmode 'sometimes'; it accepts disable, allow, prefer, require, verify-ca, verify-full/,
      ],
      ['postgres://u:hunter2@h/', /must name the database in its path/],
      ['postgres://u:hunter2@h/db?port=99999', /port '99999'; it accepts 1 to 65535/],
      [
        'postgres://u:hunter2@h:5432/a/b',
        /must name the database in its path \(…\/name\); got 'postgres:\/\/u:\*\*\*@h:5432\/a\/b'/,
      ],
    ];
    for (const [url, message] of cases) {
      let error: unknown;
      try {
        parseDatabaseUrl(url, 'database-url');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});

describe('tool environments', () => {
  test('libpq variables carry everything, including the password, so argv carries nothing', () => {
    const t = parseDatabaseUrl(
      'postgres://app:pw@h:5433/shop?sslmode=require&options=-c%20statement_timeout%3D0&target_session_attrs=read-write',
      'u',
    );
    expect(postgresEnvironment(t)).toEqual({
      PGHOST: 'h',
      PGPORT: '5433',
      PGDATABASE: 'shop',
      PGUSER: 'app',
      PGPASSWORD: 'pw',
      PGSSLMODE: 'require',
      PGOPTIONS: '-c statement_timeout=0',
      PGTARGETSESSIONATTRS: 'read-write',
      PGCONNECT_TIMEOUT: '15',
    });
    expect(postgresEnvironment(t, 'other').PGDATABASE).toBe('other');
  });

  test('MariaDB arguments name no secret; the password goes in MYSQL_PWD', () => {
    const t = parseDatabaseUrl(
      'mysql://app:pw@localhost/shop?sslmode=verify-ca&ssl-ca=/ca&ssl-cert=/c&ssl-key=/k',
      'u',
    );
    const c = mysqlConnection(t);
    expect(c.env).toEqual({ MYSQL_PWD: 'pw' });
    expect(c.args).toEqual([
      '--host=127.0.0.1',
      '--port=3306',
      '--user=app',
      '--ssl',
      '--ssl-verify-server-cert',
      '--ssl-ca=/ca',
      '--ssl-cert=/c',
      '--ssl-key=/k',
      '--connect-timeout=15',
      '--default-character-set=utf8mb4',
    ]);
    expect(mysqlConnection(t, 'dump').args).not.toContain('--connect-timeout=15');
    expect(mysqlConnection(parseDatabaseUrl('mysql://u@h/d?sslmode=disable', 'u')).args).toContain('--skip-ssl');
    expect(mysqlConnection(parseDatabaseUrl('mysql://u@h/d?ssl=true', 'u')).args).toContain('--ssl');
    expect(mysqlConnection(parseDatabaseUrl('mysql://u@h/d?socket=/s.sock', 'u')).args[0]).toBe('--socket=/s.sock');
    expect(mysqlConnection(parseDatabaseUrl('mysql://u@h/d', 'u')).env).toEqual({});
  });

  test('discrete settings, as the seeds keep them', () => {
    const secrets: string[] = [];
    const t = databaseFromSettings({ engine: 'mysql', name: 'ocp', user: 'u', password: 'pw', host: '' }, (s) =>
      secrets.push(s),
    );
    expect(secrets).toEqual(['pw']);
    expect(t).toMatchObject({ host: 'localhost', port: 3306, database: 'ocp' });
    expect(() => databaseFromSettings({ engine: 'postgresql', name: '', user: '', password: '', host: '' })).toThrow(
      /Input 'db-name' is required/,
    );
  });
});
