import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import {
  Cleanup,
  makeTempDir,
  runChecked,
  runCommand,
  spawnDaemon,
  systemUser,
  waitForDaemon,
  withPortRetry,
} from './process.js';

export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  majorVersion: number;
  binDir: string;
  /** Where the cluster lives (data directory, socket, log); removed by stop(). */
  dir: string;
  url(database?: string): string;
  sql(sql: string, database?: string): Promise<string>;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  password?: string;
}

/** The newest PostgreSQL under /usr/lib/postgresql/<N>/bin (Debian keeps several majors side by side). */
export function postgresBinDir(): { binDir: string; majorVersion: number } {
  const root = '/usr/lib/postgresql';
  const majors = (fs.existsSync(root) ? fs.readdirSync(root) : [])
    .filter((name) => /^\d+$/.test(name) && fs.existsSync(path.join(root, name, 'bin', 'postgres')))
    .map(Number)
    .sort((a, b) => b - a);
  if (majors.length === 0) throw new Error(`no PostgreSQL server under ${root} (run npm run provision)`);
  return { binDir: path.join(root, String(majors[0]), 'bin'), majorVersion: majors[0] };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const { binDir, majorVersion } = postgresBinDir();
  const owner = systemUser('postgres');
  const user = 'runbook';
  const password = options.password ?? randomBytes(18).toString('hex');
  const host = '127.0.0.1';

  const dir = makeTempDir('postgres');
  const cleanup = new Cleanup(`postgres in ${dir}`).removePath(dir);
  const dataDir = path.join(dir, 'data');
  // initdb refuses to run as root, so the cluster belongs to the postgres system user.
  fs.chownSync(dir, owner.uid, owner.gid);
  const asOwner = {
    uid: owner.uid,
    gid: owner.gid,
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' },
  };

  try {
    const pwFile = path.join(dir, 'initdb.pw');
    fs.writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    fs.chownSync(pwFile, owner.uid, owner.gid);
    await runChecked(
      path.join(binDir, 'initdb'),
      [
        '--pgdata',
        dataDir,
        '--username',
        user,
        `--pwfile=${pwFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ],
      asOwner,
    );
    fs.rmSync(pwFile);
    // Only TCP from loopback with a password, and the owner's socket: nothing else can log in.
    fs.writeFileSync(
      path.join(dataDir, 'pg_hba.conf'),
      'local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n',
    );

    const port = await withPortRetry(async () => {
      const candidate = await freePort(host);
      const daemon = spawnDaemon(
        path.join(binDir, 'postgres'),
        [
          '-D',
          dataDir,
          '-c',
          `listen_addresses=${host}`,
          '-c',
          `port=${candidate}`,
          '-c',
          `unix_socket_directories=${dir}`,
          // Throw-away clusters: durability buys nothing and costs start-up and test time.
          '-c',
          'fsync=off',
          '-c',
          'synchronous_commit=off',
          '-c',
          'full_page_writes=off',
          '-c',
          'max_connections=40',
          '-c',
          'shared_buffers=16MB',
        ],
        { ...asOwner, logPath: path.join(dir, 'postgres.log') },
      );
      cleanup.killProcessGroup(daemon.pid);
      try {
        await waitForDaemon(daemon, 'postgres', async () => {
          if (!/ready to accept connections/.test(daemon.log())) return false;
          await waitForPort(host, candidate, 5000);
          return true;
        });
      } catch (error) {
        await daemon.stop('SIGKILL');
        throw error;
      }
      return candidate;
    });

    const connectionEnv = (): NodeJS.ProcessEnv => ({
      PATH: process.env.PATH,
      HOME: dir,
      PGPASSWORD: password,
      PGCONNECT_TIMEOUT: '10',
      PSQLRC: '/dev/null',
    });

    const server: PostgresServer = {
      host,
      port,
      user,
      password,
      majorVersion,
      binDir,
      dir,
      url: (database = 'postgres') =>
        `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
      // The SQL goes through stdin, the password through PGPASSWORD: neither appears in `ps`.
      sql: (sql, database = 'postgres') =>
        runChecked(
          path.join(binDir, 'psql'),
          ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-h', host, '-p', String(port), '-U', user, '-d', database, '-f', '-'],
          { input: sql, env: connectionEnv() },
        ).then((out) => out.replace(/\n$/, '')),
      async createDatabase(name) {
        await server.sql(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      },
      async stop() {
        await runCommand(path.join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], {
          ...asOwner,
          timeoutMs: 15000,
        }).catch(() => undefined);
        cleanup.runNow();
      },
    };
    return server;
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}
