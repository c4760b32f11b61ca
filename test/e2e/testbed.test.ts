import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { freePort, portIsFree } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { runChecked } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every running process's argv on this machine, as `ps` would show it to any user. */
function allCommandLines(): string[] {
  const lines: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      lines.push(fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      // The process ended while we looked.
    }
  }
  return lines;
}

/** Samples argv of every process while `work` runs, so a client that holds a password on its command line is caught. */
async function commandLinesDuring(work: Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  let finished = false;
  const done = work.finally(() => {
    finished = true;
  });
  while (!finished) {
    seen.push(...allCommandLines());
    await new Promise((r) => setTimeout(r, 20));
  }
  await done;
  return seen;
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

describe('postgres', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60000);
  afterAll(() => pg?.stop());

  test('creates a database and answers queries over TCP with a password', async () => {
    await pg.createDatabase('pizzeria');
    await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('regina'), ('calzone');", 'pizzeria');
    expect(await pg.sql('SELECT name FROM pizza ORDER BY name', 'pizzeria')).toBe('calzone\nregina');
    expect(await pg.sql('SHOW server_version_num')).toMatch(new RegExp(`^${pg.majorVersion}\\d{4}$`));
    expect(pg.binDir).toBe(`/usr/lib/postgresql/${pg.majorVersion}/bin`);
    expect(pg.url('pizzeria')).toBe(`postgres://runbook:${pg.password}@127.0.0.1:${pg.port}/pizzeria`);
  });

  test('a failing statement throws with the server message', async () => {
    await expect(pg.sql('SELECT * FROM no_such_table')).rejects.toThrow(/relation "no_such_table" does not exist/);
  });

  test('a wrong password is refused', async () => {
    const psql = path.join(pg.binDir, 'psql');
    const args = ['-X', '-At', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', 'postgres', '-c', 'SELECT 1'];
    await expect(runChecked(psql, args, { env: { ...process.env, PGPASSWORD: 'wrong' } })).rejects.toThrow(
      /password authentication failed/,
    );
  });

  test('the password never appears in any process argv', async () => {
    const seen = await commandLinesDuring(pg.sql('SELECT pg_sleep(0.5)'));
    expect(seen.some((line) => line.includes('psql'))).toBe(true);
    expect(seen.filter((line) => line.includes(pg.password))).toEqual([]);
  });

  test('stop() frees the port and removes the cluster directory', async () => {
    const { port, dir } = pg;
    expect(fs.existsSync(path.join(dir, 'data', 'PG_VERSION'))).toBe(true);
    await pg.stop();
    expect(await portIsFree(port)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('mariadb', () => {
  let db: MariaDBServer;
  beforeAll(async () => {
    db = await startMariaDB();
  }, 60000);
  afterAll(() => db?.stop());

  test('creates a database and answers queries as runbook@127.0.0.1', async () => {
    await db.createDatabase('pizzeria');
    await db.sql(
      "CREATE TABLE pizza (name varchar(40), price int); INSERT INTO pizza VALUES ('regina', 11), ('calzone', 12);",
      'pizzeria',
    );
    expect(await db.sql('SELECT name, price FROM pizza ORDER BY name', 'pizzeria')).toBe('calzone\t12\nregina\t11');
    expect(await db.sql('SELECT CURRENT_USER()')).toBe('runbook@127.0.0.1');
    expect(db.version).toMatch(/^\d+\.\d+\.\d+-MariaDB/);
    expect(db.url('pizzeria')).toBe(`mysql://runbook:${db.password}@127.0.0.1:${db.port}/pizzeria`);
    expect(fs.statSync(db.socket).isSocket()).toBe(true);
  });

  test('a failing statement throws with the server message', async () => {
    await expect(db.sql('SELECT * FROM no_such_table', 'pizzeria')).rejects.toThrow(/doesn't exist/);
  });

  test('root cannot log in over TCP and a wrong password is refused', async () => {
    const client = (user: string, password: string) =>
      runChecked('mariadb', ['--no-defaults', '--protocol=TCP', '-h', db.host, '-P', String(db.port), '-u', user], {
        env: { ...process.env, MYSQL_PWD: password },
        input: 'SELECT 1;',
      });
    await expect(client('root', '')).rejects.toThrow(/Access denied/);
    await expect(client('runbook', 'wrong')).rejects.toThrow(/Access denied/);
  });

  test('the password never appears in any process argv', async () => {
    const seen = await commandLinesDuring(db.sql('SELECT SLEEP(0.5)'));
    expect(seen.some((line) => line.startsWith('mariadb '))).toBe(true);
    expect(seen.filter((line) => line.includes(db.password))).toEqual([]);
  });

  test('stop() frees the port and removes the data directory', async () => {
    const { port, dir } = db;
    await db.stop();
    expect(await portIsFree(port)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('sshd', () => {
  let ssh: SshServer;
  beforeAll(async () => {
    ssh = await startSshd();
  }, 60000);
  afterAll(() => ssh?.stop());

  test('runs a command for the authorized key with strict host key checking', async () => {
    const result = await ssh.exec('echo ok; id -un');
    expect(result).toEqual({ stdout: `ok\n${os.userInfo().username}\n`, stderr: '', code: 0 });
    expect(ssh.knownHosts).toMatch(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${ssh.port} ssh-ed25519 AAAA\\S+$`));
    expect(ssh.hostKeyFingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fs.statSync(ssh.privateKeyPath).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(ssh.privateKeyPath, 'utf8')).toBe(ssh.privateKey);
  });

  test('a known_hosts entry with another key is refused', async () => {
    const otherKey = path.join(ssh.dir, 'other_host_key');
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    const otherPublic = fs.readFileSync(`${otherKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' ');
    const result = await ssh.exec('echo ok', { knownHosts: `[127.0.0.1]:${ssh.port} ${otherPublic}` });
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  test('stop() frees the port and removes the keys', async () => {
    const { port, dir } = ssh;
    await ssh.stop();
    expect(await portIsFree(port)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('cleanup when the test process dies', () => {
  test('a SIGKILLed process leaves no daemon, port or directory behind', async () => {
    const script = path.join(os.tmpdir(), `runbook-orphan-${process.pid}.mts`);
    fs.writeFileSync(
      script,
      [
        `import { startSshd } from ${JSON.stringify(path.join(repoRoot, 'test/testbed/sshd.ts'))};`,
        'const s = await startSshd();',
        'console.log(JSON.stringify({ port: s.port, dir: s.dir }));',
        'setInterval(() => undefined, 1000);',
      ].join('\n'),
    );
    const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), [script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.once('exit', (code) => reject(new Error(`probe exited with ${code} before starting sshd`)));
      });
      const { port, dir } = JSON.parse(line) as { port: number; dir: string };
      expect(await portIsFree(port)).toBe(false);
      // tsx runs the script in a child node process: kill the whole tree the way a crashing runner would.
      for (const pid of [child.pid ?? 0, ...descendants(child.pid ?? 0)]) process.kill(pid, 'SIGKILL');
      expect(await waitUntil(async () => !fs.existsSync(dir) && (await portIsFree(port)), 15000)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(script, { force: true });
    }
  }, 60000);
});

/** Processes whose parent chain leads to `root` (read from /proc, no `ps` needed). */
function descendants(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Gone already.
    }
  }
  const found: number[] = [];
  const walk = (pid: number): void => {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

test('freePort hands out a bindable loopback port', async () => {
  const port = await freePort();
  expect(port).toBeGreaterThan(1024);
  expect(await portIsFree(port)).toBe(true);
});
