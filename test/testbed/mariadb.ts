import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { Cleanup, makeTempDir, runChecked, spawnDaemon, systemUser, waitForDaemon, withPortRetry } from './process.js';

export interface MariaDBServer {
  host: string;
  port: number;
  socket: string;
  user: string;
  password: string;
  version: string;
  /** Where the server lives (datadir, socket, logs); removed by stop(). */
  dir: string;
  url(database?: string): string;
  sql(sql: string, database?: string): Promise<string>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface MariaDBOptions {
  password?: string;
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export async function startMariaDB(options: MariaDBOptions = {}): Promise<MariaDBServer> {
  const owner = systemUser('mysql');
  const user = 'runbook';
  const password = options.password ?? randomBytes(18).toString('hex');
  const host = '127.0.0.1';

  const dir = makeTempDir('mariadb');
  const cleanup = new Cleanup(`mariadb in ${dir}`).removePath(dir);
  const dataDir = path.join(dir, 'data');
  const socket = path.join(dir, 'mariadb.sock');
  // mariadbd drops to the mysql user, which must own everything it writes (socket, pid file, logs).
  fs.chownSync(dir, owner.uid, owner.gid);
  const baseEnv = { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' };

  try {
    // --no-defaults everywhere: /etc/mysql/my.cnf belongs to the machine's own server, not to ours.
    await runChecked(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--user=mysql',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
      ],
      { cwd: dir, env: baseEnv, timeoutMs: 120000 },
    );

    const { port, daemon } = await withPortRetry(async () => {
      const candidate = await freePort(host);
      const daemon = spawnDaemon(
        'mariadbd',
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--socket=${socket}`,
          `--port=${candidate}`,
          `--bind-address=${host}`,
          `--pid-file=${path.join(dir, 'mariadb.pid')}`,
          `--log-error=${path.join(dir, 'mariadb.err')}`,
          `--tmpdir=${dir}`,
          '--user=mysql',
          '--skip-name-resolve',
          '--character-set-server=utf8mb4',
          '--collation-server=utf8mb4_unicode_ci',
          // Small and unsafe on purpose: a test server starts fast and never needs crash safety.
          '--innodb-buffer-pool-size=16M',
          '--innodb-log-file-size=8M',
          '--innodb-flush-log-at-trx-commit=0',
          '--innodb-doublewrite=0',
          '--sync-binlog=0',
          '--performance-schema=OFF',
          '--max-connections=40',
        ],
        { cwd: dir, env: baseEnv, logPath: path.join(dir, 'mariadbd.out') },
      );
      cleanup.killProcessGroup(daemon.pid);
      const errorLog = path.join(dir, 'mariadb.err');
      const readErrorLog = (): string => (fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '');
      try {
        await waitForDaemon(
          {
            ...daemon,
            // mariadbd writes its diagnostics to --log-error, so that is what the start-up check reads.
            log: () => daemon.log() + readErrorLog(),
          },
          'mariadbd',
          async () => {
            if (!/ready for connections/.test(readErrorLog())) return false;
            await waitForPort(host, candidate, 5000);
            return true;
          },
          60000,
        );
      } catch (error) {
        await daemon.stop('SIGKILL');
        throw error;
      }
      return { port: candidate, daemon };
    });

    // install-db leaves a password-less root on every address; keep only root@localhost, which is reachable through
    // our private 0700 socket alone, so nobody else on the machine can use this server.
    await runChecked('mariadb', ['--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch'], {
      env: baseEnv,
      input: [
        "DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost';",
        "DELETE FROM mysql.global_priv WHERE User = '';",
        `CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ${quoteString(password)};`,
        `CREATE USER '${user}'@'%' IDENTIFIED BY ${quoteString(password)};`,
        `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'127.0.0.1' WITH GRANT OPTION;`,
        `GRANT ALL PRIVILEGES ON *.* TO '${user}'@'%' WITH GRANT OPTION;`,
        'FLUSH PRIVILEGES;',
      ].join('\n'),
    });

    const sql = (statements: string, database?: string): Promise<string> =>
      runChecked(
        'mariadb',
        [
          '--no-defaults',
          '--protocol=TCP',
          '-h',
          host,
          '-P',
          String(port),
          '-u',
          user,
          '--batch',
          '--skip-column-names',
          '--connect-timeout=10',
          ...(database ? ['-D', database] : []),
        ],
        // MYSQL_PWD keeps the password out of argv; the statements go through stdin.
        { env: { ...baseEnv, MYSQL_PWD: password }, input: statements },
      ).then((out) => out.replace(/\n$/, ''));

    const version = await sql('SELECT VERSION();');
    return {
      host,
      port,
      socket,
      user,
      password,
      version,
      dir,
      url: (database) =>
        `mysql://${user}:${encodeURIComponent(password)}@${host}:${port}` +
        (database ? `/${encodeURIComponent(database)}` : ''),
      sql,
      async createDatabase(name) {
        await sql(`CREATE DATABASE ${quoteIdentifier(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`);
      },
      async stop() {
        // No clean shutdown needed: the datadir is thrown away with everything else.
        await daemon.stop('SIGKILL');
        cleanup.runNow();
      },
    };
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}
