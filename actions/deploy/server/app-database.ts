import { posix } from 'node:path';
import type { DatabaseTarget } from '../../shared/database-url.js';
import { ActionFailure } from '../../shared/errors.js';

/** Django's `default` database as the release's own settings see it (never the password). */
export interface AppDatabase {
  engine: string;
  host: string;
  port: string;
  name: string;
}

/** The line the probe prints, so whatever else the settings print on import is ignored. */
export const PROBE_MARKER = 'runbook-database ';

/**
 * Run through `manage.py shell -c`: the release's interpreter, settings module and environment, exactly what
 * `migrate` will use. Reads settings only; no connection is opened.
 */
export const PROBE_CODE = [
  'import json',
  'from django.db import connections',
  "s = connections['default'].settings_dict",
  "print('" +
    PROBE_MARKER +
    "' + json.dumps({k.lower(): str(s.get(k) or '') for k in ('ENGINE', 'HOST', 'PORT', 'NAME')}))",
].join('\n');

export function parseProbe(stdout: string): AppDatabase | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(PROBE_MARKER));
  if (!line) return undefined;
  const value = JSON.parse(line.slice(PROBE_MARKER.length)) as Partial<AppDatabase>;
  return { engine: value.engine ?? '', host: value.host ?? '', port: value.port ?? '', name: value.name ?? '' };
}

type Family = 'postgresql' | 'mysql' | 'sqlite' | 'other';

function familyOf(engine: string): Family {
  if (/postg|psycopg|cockroach/i.test(engine)) return 'postgresql';
  if (/mysql|mariadb/i.test(engine)) return 'mysql';
  if (/sqlite/i.test(engine)) return 'sqlite';
  return 'other';
}

const DEFAULT_PORTS: Partial<Record<Family, string>> = { postgresql: '5432', mysql: '3306' };

/** '' (a Unix socket), localhost and the loopback addresses all mean the database on the host that migrates. */
function sameHost(a: string, b: string): boolean {
  const local = (h: string) => h === '' || h.startsWith('/') || /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/i.test(h);
  return a.toLowerCase() === b.toLowerCase() || (local(a) && local(b));
}

export function describeAppDatabase(db: AppDatabase): string {
  const family = familyOf(db.engine);
  if (family === 'sqlite') return `SQLite file ${db.name}`;
  const port = db.port || DEFAULT_PORTS[family] || '';
  const where = `${db.host || 'localhost (socket)'}${port ? `:${port}` : ''}`;
  return `${family === 'other' ? db.engine : family === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} database '${db.name}' on ${where}`;
}

function describeTarget(target: DatabaseTarget): string {
  return `${target.engine === 'postgresql' ? 'PostgreSQL' : 'MySQL/MariaDB'} database '${target.database}' on ${target.host}:${target.port}`;
}

/**
 * Refuses a migrate that would not touch the database the backup protects: another engine, host, port or name, or
 * an SQLite file inside the release directory (settings that fell back to their default because DATABASE_URL did
 * not reach manage.py; it would be thrown away with the release).
 */
export function checkAppDatabase(
  app: AppDatabase,
  backup: { target: DatabaseTarget; from: string } | undefined,
  releaseDirectory: string,
): void {
  const family = familyOf(app.engine);
  if (family === 'sqlite') {
    const file = posix.resolve(releaseDirectory, app.name);
    if (app.name === '' || app.name === ':memory:' || file.startsWith(`${releaseDirectory}/`)) {
      throw new ActionFailure(
        `Refusing to migrate: Django's default database is the SQLite file ${app.name || '(none)'} inside the release, ` +
          `which is thrown away with it. The settings did not get DATABASE_URL: put it in the environment file (input 'env-file', default shared/.env).`,
      );
    }
  }
  if (!backup) return;
  const { target, from } = backup;
  const port = app.port || DEFAULT_PORTS[family] || '';
  const same =
    family === target.engine &&
    sameHost(app.host, target.host) &&
    port === String(target.port) &&
    app.name === target.database;
  if (!same) {
    throw new ActionFailure(
      `Refusing to migrate: Django's default database is the ${describeAppDatabase(app)}, but the pre-migration ` +
        `backup protects the ${describeTarget(target)} (${from}). Make ${from} and the app's settings name the same database.`,
    );
  }
}
