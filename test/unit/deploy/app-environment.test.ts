import { checkAppDatabase, describeAppDatabase, parseProbe } from '../../../actions/deploy/server/app-database.js';
import { maskEnvFile, parseEnvFile } from '../../../actions/deploy/server/env-file.js';
import { readHealthGate } from '../../../actions/deploy/inputs.js';
import { versionHint } from '../../../actions/deploy/release-checks.js';
import { parseDatabaseUrl } from '../../../actions/shared/database-url.js';
import { InputReader } from '../../../actions/shared/inputs.js';

describe('the environment file', () => {
  test('reads NAME=value lines the way dotenv and set -a; . agree on', () => {
    const text = [
      '# production',
      'export DATABASE_URL=postgres://app:p%40ss@db:5432/shop',
      "SECRET_KEY='a#b $c'",
      'GREETING="two\\nlines \\"quoted\\""',
      'DEBUG=0   # off',
      '',
      'EMPTY=',
    ].join('\n');
    expect(parseEnvFile(text, '/srv/app/shared/.env')).toEqual({
      DATABASE_URL: 'postgres://app:p%40ss@db:5432/shop',
      SECRET_KEY: 'a#b $c',
      GREETING: 'two\nlines "quoted"',
      DEBUG: '0',
      EMPTY: '',
    });
  });

  test('a line that does not parse is one error naming the file and the line, never its value', () => {
    const parse = (text: string) => () => parseEnvFile(text, '/srv/app/shared/.env');
    expect(parse('A=1\nthis is not an assignment s3cret\n')).toThrow(
      "The environment file /srv/app/shared/.env does not parse: line 2 is not NAME=value (expected NAME=value lines; input 'env-file').",
    );
    expect(parse("A=1\nB='s3cret\n")).toThrow(/line 2 has an unclosed ' quote/);
    expect(parse('1A=s3cret')).toThrow(/line 1 does not start with a variable name/);
    expect(parse('B="s3cret" tail')).toThrow(/line 1 has text after the closing quote/);
    expect(parse('A=1\nthis is not an assignment s3cret\n')).not.toThrow(/s3cret/);
  });

  test('secret-looking values and URL passwords are masked', () => {
    const masked: string[] = [];
    maskEnvFile(
      { SECRET_KEY: 'k', DATABASE_URL: 'postgres://app:p%40ss@db/shop', DEBUG: '0', CACHE: 'redis://:pw@r:6379/0' },
      (s) => masked.push(s),
    );
    expect([...new Set(masked)].sort()).toEqual(['k', 'p%40ss', 'p@ss', 'postgres://app:p%40ss@db/shop', 'pw'].sort());
  });
});

describe("Django's default database against the backup's", () => {
  const release = '/srv/app/releases/20261127T101500Z-1a2b3c4';
  const pg = (url: string) => ({
    target: parseDatabaseUrl(url, 'database-url', () => undefined),
    from: "input 'database-url'",
  });
  const app = { engine: 'django.db.backends.postgresql', host: '127.0.0.1', port: '5432', name: 'shop' };

  test('the probe line is found among whatever the settings print', () => {
    expect(parseProbe(`loading settings\nrunbook-database ${JSON.stringify(app)}\n`)).toEqual(app);
    expect(parseProbe('nothing\n')).toBeUndefined();
  });

  test('the same database passes: localhost and 127.0.0.1, a default port', () => {
    expect(() => checkAppDatabase(app, pg('postgres://u:p@localhost/shop'), release)).not.toThrow();
    expect(() =>
      checkAppDatabase({ ...app, port: '' }, pg('postgres://u:p@127.0.0.1:5432/shop'), release),
    ).not.toThrow();
    expect(() => checkAppDatabase(app, undefined, release)).not.toThrow();
  });

  test('another name, port, host or engine is refused, naming both and never a password', () => {
    const refuse =
      (url: string, db = app) =>
      () =>
        checkAppDatabase(db, pg(url), release);
    expect(refuse('postgres://u:s3cret@127.0.0.1:5432/other')).toThrow(
      "Refusing to migrate: Django's default database is the PostgreSQL database 'shop' on 127.0.0.1:5432, but the pre-migration backup protects the PostgreSQL database 'other' on 127.0.0.1:5432 (input 'database-url'). Make input 'database-url' and the app's settings name the same database.",
    );
    expect(refuse('postgres://u:s3cret@127.0.0.1:5433/shop')).toThrow(/5433/);
    expect(refuse('postgres://u:s3cret@db.internal:5432/shop')).toThrow(/db.internal/);
    expect(refuse('mysql://u:s3cret@127.0.0.1:5432/shop')).toThrow(/MySQL/);
    expect(refuse('postgres://u:s3cret@127.0.0.1/shop')).not.toThrow(/s3cret/);
  });

  test('an SQLite file inside the release is refused, even with nothing to compare', () => {
    const sqlite = { engine: 'django.db.backends.sqlite3', host: '', port: '', name: `${release}/db.sqlite3` };
    expect(() => checkAppDatabase(sqlite, undefined, release)).toThrow(
      /SQLite file .*db\.sqlite3 inside the release, which is thrown away with it\. The settings did not get DATABASE_URL/,
    );
    expect(() => checkAppDatabase({ ...sqlite, name: 'db.sqlite3' }, undefined, release)).toThrow(/inside the release/);
    expect(() => checkAppDatabase({ ...sqlite, name: '/var/lib/app/db.sqlite3' }, undefined, release)).not.toThrow();
    expect(describeAppDatabase(app)).toBe("PostgreSQL database 'shop' on 127.0.0.1:5432");
  });
});

describe('the health gate in smoke-check’s words', () => {
  const gate = (values: Record<string, string>) => readHealthGate(new InputReader((name) => values[name] ?? ''));

  test('version-from and expected-status are read by smoke-check’s parsers, none means the status alone', () => {
    expect(gate({ 'expected-status': '200', 'version-from': 'none' })).toMatchObject({ versionFrom: 'none' });
    expect(gate({ 'expected-status': '2xx', 'version-from': 'header:X-Commit' }).versionFrom).toEqual({
      kind: 'header',
      name: 'x-commit',
    });
    expect(() => gate({ 'expected-status': '2xx', 'version-from': 'xml:/commit' })).toThrow(
      /Input 'version-from' must be body, header:<Header-Name> or json:<path>/,
    );
    expect(() => gate({ 'expected-status': 'ok', 'version-from': 'none' })).toThrow(/expected-status/);
  });

  test('an HTML answer where JSON was expected says so, and what to configure', () => {
    const json = gate({ 'expected-status': '2xx', 'version-from': 'json:$.commit' });
    expect(versionHint(json, '<!DOCTYPE html>\n<html><title>Bakery</title>', undefined)).toBe(
      ' (the body was an HTML page; version-from reads the JSON $.commit). Serve the release commit there (the /health view in actions/deploy/README.md), or set version-from to header:<Name>, body, or none (the status alone).',
    );
    expect(versionHint(json, '{"status":"ok"}', undefined)).toContain('JSON without that field');
    expect(versionHint(json, '{"commit":"abc"}', 'abc')).toBe('');
  });
});
