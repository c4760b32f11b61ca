import {
  databaseFromSettings,
  describeDatabase,
  mysqlConnection,
  parseDatabaseUrl,
  passwordForms,
  postgresEnvironment,
  redactDatabaseUrl,
} from '../../../actions/shared/database-url.js';
import { seededRandom } from '../../support/random.js';
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

  test('Heroku Postgres and RDS hosts get sslmode=require unless the URL says otherwise', () => {
    // The DATABASE_URL `heroku config:get DATABASE_URL -a <app>` prints: an AWS host and no sslmode.
    const heroku = parseDatabaseUrl(
      'postgres://u1abc:p2secret@ec2-3-210-12-34.compute-1.amazonaws.com:5432/d8f2k3l4',
      'database-url',
    );
    expect(postgresEnvironment(heroku).PGSSLMODE).toBe('require');
    const rds = parseDatabaseUrl('postgres://app:pw@shop.cluster-c1x2.eu-west-3.rds.amazonaws.com/shop', 'u');
    expect(postgresEnvironment(rds).PGSSLMODE).toBe('require');
    const pinned = parseDatabaseUrl(
      'postgres://u:p@ec2-3-210-12-34.compute-1.amazonaws.com/d?sslmode=verify-full&sslrootcert=/ca.pem',
      'u',
    );
    expect(postgresEnvironment(pinned).PGSSLMODE).toBe('verify-full');
    expect(postgresEnvironment(parseDatabaseUrl('postgres://u:p@127.0.0.1/d', 'u')).PGSSLMODE).toBeUndefined();
    expect(
      postgresEnvironment(parseDatabaseUrl('postgres://u:p@notamazonaws.com.example/d', 'u')).PGSSLMODE,
    ).toBeUndefined();
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

describe('passwords with any character', () => {
  // [what, URL as a user would paste it, the parts it must give]
  const CASES: [string, string, { user: string; password: string; host: string; port?: number; database: string }][] = [
    [
      'raw @ and !',
      'postgres://app:p@ssw0rd!@db.example.com/shop',
      { user: 'app', password: 'p@ssw0rd!', host: 'db.example.com', database: 'shop' },
    ],
    ['raw /', 'postgres://app:pa/ss/wd@db/shop', { user: 'app', password: 'pa/ss/wd', host: 'db', database: 'shop' }],
    [
      'raw :',
      'mysql://app:pa:ss:wd@db:3307/shop',
      { user: 'app', password: 'pa:ss:wd', host: 'db', port: 3307, database: 'shop' },
    ],
    [
      'raw @ / : ? together',
      'postgres://app:a@b/c:d?e@db:5433/shop?sslmode=require',
      { user: 'app', password: 'a@b/c:d?e', host: 'db', port: 5433, database: 'shop' },
    ],
    ['raw ? and #', 'postgres://app:x?y#z1@db/shop', { user: 'app', password: 'x?y#z1', host: 'db', database: 'shop' }],
    [
      'percent-encoded',
      'postgres://app:p%40ss%2Fw%3A@db/shop',
      { user: 'app', password: 'p@ss/w:', host: 'db', database: 'shop' },
    ],
    [
      'raw and encoded mixed',
      'postgres://app:p@ss%2Fw0@db/shop',
      { user: 'app', password: 'p@ss/w0', host: 'db', database: 'shop' },
    ],
    [
      'IPv6 host',
      'postgres://app:a@b@c@[::1]:5433/shop',
      { user: 'app', password: 'a@b@c', host: '::1', port: 5433, database: 'shop' },
    ],
    [
      'socket, empty host',
      'postgres://app:a/b/c@/shop?host=/var/run/postgresql',
      { user: 'app', password: 'a/b/c', host: '/var/run/postgresql', database: 'shop' },
    ],
    [
      '@ in the user',
      'mariadb://me@corp:pw123@db/shop',
      { user: 'me@corp', password: 'pw123', host: 'db', database: 'shop' },
    ],
    [
      'no password, @ in the query',
      'postgres://app@db/shop?application_name=ci@runner',
      { user: 'app', password: '', host: 'db', database: 'shop' },
    ],
  ];

  test.each(CASES)('%s', (_what, url, expected) => {
    const secrets: string[] = [];
    const target = parseDatabaseUrl(url, 'database-url', (s) => secrets.push(s));
    expect(target).toMatchObject({ ...expected, port: expected.port ?? (url.startsWith('postgres') ? 5432 : 3306) });
    if (expected.password === '') return expect(secrets).toEqual([]);
    // Only whole forms of the password are masked (a fragment such as 'p' would hide nothing and mask every p).
    expect(secrets).toContain(expected.password);
    expect(secrets.every((s) => passwordForms(s).includes(s) && safeDecodeEquals(s, expected.password))).toBe(true);
    // Errors name the URL with the password hidden, whatever it holds.
    const broken = url.replace(/\/shop/, '/');
    expect(() => parseDatabaseUrl(broken, 'database-url')).toThrow(ConfigurationError);
    const message = (() => {
      try {
        parseDatabaseUrl(broken, 'database-url');
      } catch (error) {
        return (error as Error).message;
      }
    })()!;
    expect(message).toContain(':***@');
    for (const form of passwordForms(expected.password)) expect(message).not.toContain(form);
    expect(redactDatabaseUrl(url)).not.toContain(expected.password);
  });

  test('200 generated passwords over every URL-special character: parsed whole, masked whole, never in an error', () => {
    const random = seededRandom(14);
    const alphabet = 'abcXYZ019@/:?#!$&*()+=,;~[]% ';
    for (let n = 0; n < 200; n++) {
      const length = 6 + Math.floor(random() * 14);
      let password = '';
      for (let i = 0; i < length; i++) password += alphabet[Math.floor(random() * alphabet.length)];
      // '%' and ' ' are the two a user must encode (a raw '%41' means 'A' to every URL parser).
      const written = password.replace(/%/g, '%25').replace(/ /g, '%20');
      const secrets: string[] = [];
      const target = parseDatabaseUrl(`postgres://app:${written}@db.example.com:5432/shop`, 'u', (s) =>
        secrets.push(s),
      );
      expect({ password: target.password, host: target.host, database: target.database }).toEqual({
        password,
        host: 'db.example.com',
        database: 'shop',
      });
      expect(secrets).toContain(password);
      expect(secrets).toContain(encodeURIComponent(password));
      let message = '';
      try {
        parseDatabaseUrl(`postgres://app:${written}@db.example.com:99999/shop`, 'u');
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("got 'postgres://app:***@db.example.com:99999/shop'");
      for (const form of passwordForms(written)) expect(message).not.toContain(form);
    }
  });
});

function safeDecodeEquals(form: string, password: string): boolean {
  try {
    return [form, decodeURIComponent(form), decodeURIComponent(form.replace(/\+/g, ' '))].includes(password);
  } catch {
    return form === password;
  }
}
