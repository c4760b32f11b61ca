import { ActionFailure } from '../shared/errors.js';

/** A PostgreSQL client set, `/usr/lib/postgresql/<major>/bin` on Debian/Ubuntu, or the tools on PATH. */
export interface PostgresClient {
  major: number;
  /** Directory holding pg_dump, pg_restore and psql; '' means "found on PATH". */
  binDir: string;
}

/** '150004' (server_version_num) or '15.4 (Debian 15.4-1)' → 15; 9.6 → 9 (a major was two numbers before 10). */
export function postgresMajor(version: string): number | undefined {
  const text = version.trim();
  if (/^\d{5,6}$/.test(text)) {
    const n = Number(text);
    return n >= 100000 ? Math.floor(n / 10000) : Math.floor(n / 10000);
  }
  const m = /(\d+)(?:\.(\d+))?/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The client for a server: the newest installed, which must be at least the server's major (pg_dump refuses to
 * dump a newer server, and a dump made by an older client could miss newer objects). Otherwise stop with how
 * to install the right one.
 */
export function choosePostgresClient(
  serverVersion: string,
  installed: PostgresClient[],
  where = 'the runner',
): PostgresClient {
  const server = postgresMajor(serverVersion);
  if (server === undefined)
    throw new ActionFailure(`Could not read the PostgreSQL server version from '${serverVersion}'.`);
  const sorted = [...installed].sort((a, b) => b.major - a.major);
  const best = sorted[0];
  if (best && best.major >= server) return best;
  const found = sorted.length
    ? `the newest client on ${where} is ${best.major} (${best.binDir ? `${best.binDir}/pg_dump` : 'pg_dump on PATH'})`
    : `no pg_dump was found on ${where}`;
  throw new ActionFailure(
    `The PostgreSQL server is version ${server} but ${found}; pg_dump must be at least as new as the server. ` +
      `Install postgresql-client-${server} on ${where}: add the PostgreSQL (PGDG) apt repository ` +
      `(https://wiki.postgresql.org/wiki/Apt, e.g. 'sudo apt-get install -y postgresql-common && sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y') ` +
      `then 'sudo apt-get install -y postgresql-client-${server}'.`,
  );
}

/** Majors from a listing of `<root>/<N>/bin/pg_dump` paths (one per line), as `ls -d` or a directory scan gives. */
export function postgresClientsFromPaths(paths: string[]): PostgresClient[] {
  const clients: PostgresClient[] = [];
  for (const path of paths) {
    const m = /^(.*\/(\d+)\/bin)\/pg_dump$/.exec(path.trim());
    if (m) clients.push({ major: Number(m[2]), binDir: m[1] });
  }
  return clients;
}

/** `pg_dump (PostgreSQL) 15.4 (Debian 15.4-1)` → 15. */
export function postgresClientFromVersionText(text: string): PostgresClient | undefined {
  const m = /pg_dump \(PostgreSQL\) (\d+)/.exec(text);
  return m ? { major: Number(m[1]), binDir: '' } : undefined;
}

export interface MysqlServer {
  flavour: 'mariadb' | 'mysql';
  version: string;
  major: number;
  minor: number;
}

/** `SELECT VERSION()`: '10.11.6-MariaDB-0+deb12u1' or '8.0.36'. */
export function parseMysqlVersion(version: string): MysqlServer {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new ActionFailure(`Could not read the MySQL/MariaDB server version from '${version}'.`);
  return {
    flavour: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    version: version.trim(),
    major: Number(m[1]),
    minor: Number(m[2]),
  };
}

/**
 * mariadb-dump for MariaDB, mysqldump for MySQL when it is the Oracle one. MariaDB's mysqldump is a link to
 * mariadb-dump, which dumps MySQL 5.7 fine but not every MySQL 8 object, so say so instead of guessing.
 */
export function chooseMysqlDump(
  server: MysqlServer,
  available: { mariadbDump: boolean; mysqldump: boolean; mysqldumpIsMariadb: boolean },
  where = 'the runner',
): { dump: string; client: string; warning?: string } {
  if (server.flavour === 'mariadb') {
    if (available.mariadbDump) return { dump: 'mariadb-dump', client: 'mariadb' };
    if (available.mysqldump) return { dump: 'mysqldump', client: 'mysql' };
  } else {
    if (available.mysqldump && !available.mysqldumpIsMariadb) return { dump: 'mysqldump', client: 'mysql' };
    if (available.mariadbDump || available.mysqldump) {
      return {
        dump: available.mariadbDump ? 'mariadb-dump' : 'mysqldump',
        client: available.mariadbDump ? 'mariadb' : 'mysql',
        warning:
          server.major >= 8
            ? `The server is MySQL ${server.version}; only MariaDB's dump client is on ${where}. Install mysql-client (Oracle's) for a dump that covers every MySQL 8 feature.`
            : undefined,
      };
    }
  }
  throw new ActionFailure(
    `No MySQL/MariaDB dump client (mariadb-dump or mysqldump) was found on ${where}. ` +
      `Install it: 'sudo apt-get install -y ${server.flavour === 'mariadb' ? 'mariadb-client' : 'default-mysql-client'}'.`,
  );
}
