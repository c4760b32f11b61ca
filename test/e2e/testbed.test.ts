import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { createHosts, netnsAvailable, type NetnsHosts } from '../testbed/netns.js';
import { startNginx, type NginxServer } from '../testbed/nginx.js';
import { freePort, portIsFree } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import {
  AddressInUseError,
  makeTempDir,
  runChecked,
  runCommand,
  spawnDaemon,
  waitForDaemon,
  withPortRetry,
} from '../testbed/process.js';
import { inOwnHome, startSshd, type SshServer } from '../testbed/sshd.js';
import { startSupervisord, type SupervisordServer } from '../testbed/supervisord.js';

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
    // Quotes, a backslash and URL delimiters: the password must survive SQL, MYSQL_PWD and url() intact.
    db = await startMariaDB({ password: `it's a \\ p@ss:w/rd%?${process.pid}` });
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
    const url = new URL(db.url('pizzeria'));
    expect([url.protocol, url.username, decodeURIComponent(url.password), url.host, url.pathname]).toEqual([
      'mysql:',
      'runbook',
      db.password,
      `127.0.0.1:${db.port}`,
      '/pizzeria',
    ]);
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

  test("commands run in the test bed's home with a fresh server's rc files, which bash sources as on a server", async () => {
    const skeleton = ['.bash_logout', '.bashrc', '.profile'].filter((name) => fs.existsSync(`/etc/skel/${name}`));
    const rc = path.join(ssh.home, '.bashrc');
    fs.writeFileSync(rc, `export RUNBOOK_SERVER_RC=sourced\n${fs.readFileSync(rc, 'utf8')}`);
    const result = await ssh.exec('ls -A ~; echo "rc: $RUNBOOK_SERVER_RC"');
    expect(result).toEqual({ stdout: [...skeleton, 'rc: sourced', ''].join('\n'), stderr: '', code: 0 });
  });

  test('stop() frees the port and removes the keys', async () => {
    const { port, dir } = ssh;
    await ssh.stop();
    expect(await portIsFree(port)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('nginx', () => {
  let app: http.Server;
  let appPort: number;
  let nginx: NginxServer;
  let flag: string;
  beforeAll(async () => {
    app = http.createServer((request, response) => {
      response.setHeader('Content-Type', 'text/plain');
      response.end(`app saw ${request.url} via ${request.headers['x-forwarded-proto']}`);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appPort = (app.address() as { port: number }).port;
    flag = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runbook-flag-')), 'maintenance.on');
    nginx = await startNginx({ upstream: `127.0.0.1:${appPort}`, maintenanceFlagPath: flag });
  }, 60000);
  afterAll(async () => {
    await nginx?.stop();
    await new Promise((resolve) => app?.close(resolve));
    fs.rmSync(path.dirname(flag), { recursive: true, force: true });
  });

  test('proxies to the upstream app', async () => {
    const response = await fetch(`${nginx.url}/pizzas?size=large`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('app saw /pizzas?size=large via http');
  });

  test('answers 503 with the maintenance page while the flag file exists, and proxies again once it is gone', async () => {
    fs.writeFileSync(flag, '');
    const during = await fetch(`${nginx.url}/pizzas`);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('60');
    expect(await during.text()).toMatch(/Down for maintenance/);
    fs.rmSync(flag);
    const after = await fetch(`${nginx.url}/pizzas`);
    expect(after.status).toBe(200);
    expect(await after.text()).toBe('app saw /pizzas via http');
  });

  test('reload() applies a changed config and refuses a broken one', async () => {
    await nginx.reload({ serverBlock: 'location /static/ { return 200 "static $uri\\n"; }' });
    const response = await fetch(`${nginx.url}/static/app.css`);
    expect(await response.text()).toBe('static /static/app.css\n');
    await expect(nginx.reload({ serverBlock: 'location /broken { no_such_directive on; }' })).rejects.toThrow(
      /unknown directive "no_such_directive"/,
    );
    expect((await fetch(`${nginx.url}/pizzas`)).status).toBe(200);
  });

  test('serves HTTPS with the given certificate', async () => {
    const certDir = makeTempDir('tls');
    try {
      const [cert, key] = [path.join(certDir, 'cert.pem'), path.join(certDir, 'key.pem')];
      await runChecked('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ]);
      const secure = await startNginx({
        upstream: `127.0.0.1:${appPort}`,
        tls: { cert, key: fs.readFileSync(key, 'utf8') },
      });
      try {
        expect(secure.url).toBe(`https://127.0.0.1:${secure.port}`);
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get(`${secure.url}/menu`, { ca: fs.readFileSync(cert) }, (response) => {
              let text = '';
              response.on('data', (chunk: Buffer) => (text += chunk.toString()));
              response.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
        expect(body).toBe('app saw /menu via https');
        // Plain HTTP to the TLS port is not served as a page.
        expect((await fetch(`http://127.0.0.1:${secure.port}/menu`)).status).toBe(400);
      } finally {
        await secure.stop();
      }
    } finally {
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  });

  test('stop() frees the port and removes the config directory', async () => {
    const { port, dir } = nginx;
    await nginx.stop();
    expect(await portIsFree(port)).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('supervisord', () => {
  let supervisor: SupervisordServer;
  beforeAll(async () => {
    supervisor = await startSupervisord({
      programs: {
        // A "worker" that prints its greeting (from the environment, with a % that supervisor must not interpolate).
        worker: {
          command: `${process.execPath} -e "console.log(process.env.GREETING); setInterval(() => {}, 1000)"`,
          environment: { GREETING: 'ciao 100% "pizza" fresca' },
          autorestart: true,
          startsecs: 0,
        },
        idle: { command: 'sleep 600', autostart: false },
      },
    });
  }, 60000);
  afterAll(() => supervisor?.stop());

  const pidOf = async (program: string): Promise<number> =>
    Number((await supervisor.ctl('pid', program)).stdout.trim());

  test('runs a program with its environment and restarts it when it dies', async () => {
    await supervisor.waitForState('worker', 'RUNNING');
    expect(await supervisor.state('idle')).toBe('STOPPED');
    expect(
      await waitUntil(() => fs.readFileSync(supervisor.programLogPath('worker'), 'utf8').includes('\n'), 5000),
    ).toBe(true);
    expect(fs.readFileSync(supervisor.programLogPath('worker'), 'utf8')).toBe('ciao 100% "pizza" fresca\n');

    const first = await pidOf('worker');
    process.kill(first, 'SIGKILL');
    expect(
      await waitUntil(
        async () => (await supervisor.state('worker')) === 'RUNNING' && (await pidOf('worker')) !== first,
        10000,
      ),
    ).toBe(true);
  });

  test('ctl() restarts a program with a new pid', async () => {
    const before = await pidOf('worker');
    const result = await supervisor.ctl('restart', 'worker');
    expect(result).toEqual({ stdout: 'worker: stopped\nworker: started\n', code: 0 });
    const after = await pidOf('worker');
    expect(after).not.toBe(before);
    expect(() => process.kill(before, 0)).toThrow();
  });

  test('stop() ends supervisord and its programs', async () => {
    const worker = await pidOf('worker');
    const { dir } = supervisor;
    await supervisor.stop();
    expect(() => process.kill(worker, 0)).toThrow();
    expect(fs.existsSync(dir)).toBe(false);
  });
});

const netns = netnsAvailable();
const describeNetns = netns.ok ? describe : describe.skip;
if (!netns.ok) console.warn(`skipping the netns tests: ${netns.reason}`);

describeNetns('netns hosts', () => {
  let net: NetnsHosts;
  beforeAll(async () => {
    net = await createHosts(2, { prefix: 'rbtest' });
  }, 60000);
  afterAll(() => net?.destroy());

  test('one host serves HTTP to the other by address and by name', async () => {
    const [web, client] = net.hosts;
    expect(web.ip).not.toBe(client.ip);
    const server = web.spawn(process.execPath, [
      '-e',
      `require('http').createServer((q, s) => s.end('served by ' + require('os').hostname() + ' on ' + q.socket.localAddress)).listen(8080, '${web.ip}')`,
    ]);
    const get = (target: string) => client.exec(['curl', '-sS', '--max-time', '5', `http://${target}:8080/`]);
    expect(await waitUntil(async () => (await get(web.ip)).code === 0, 10000)).toBe(true);
    expect((await get(web.ip)).stdout).toMatch(new RegExp(`on ${web.ip.replace(/\./g, '\\.')}$`));
    expect((await get(web.name)).stdout).toMatch(new RegExp(`on ${web.ip.replace(/\./g, '\\.')}$`));
    // The namespace is isolated: the server is not on this machine's loopback.
    expect((await client.exec(['curl', '-sS', '--max-time', '2', 'http://127.0.0.1:8080/'])).code).not.toBe(0);
    await server.stop();
  });

  test('an sshd inside a host is reachable from this machine with strict host key checking', async () => {
    const [, target] = net.hosts;
    const ssh = await startSshd({ netns: target.name, listen: target.ip });
    try {
      expect(ssh.knownHosts).toMatch(new RegExp(`^${target.ip.replace(/\./g, '\\.')} ssh-ed25519 `));
      const result = await ssh.exec('ip -o -4 addr show dev eth0');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`inet ${target.ip}/24`);
    } finally {
      await ssh.stop();
    }
  });

  test('destroy() removes the namespaces and the bridge', async () => {
    const names = net.hosts.map((host) => host.name);
    await net.destroy();
    const left = (await runChecked('ip', ['netns', 'list'])).split('\n').map((line) => line.split(' ')[0]);
    expect(left.filter((name) => names.includes(name))).toEqual([]);
    expect((await runCommand('ip', ['link', 'show', net.bridge])).code).not.toBe(0);
  });
});

describe("the invoking user's rc files", () => {
  // The machine's root runs `pyenv init` from ~/.bashrc: with it a killed `pyenv rehash` hung every SSH test. Here the
  // invoking user's home (in a mount namespace of this test's own) holds rc files that print, as a broken one would.
  test('never run for a command over the test bed sshd', async () => {
    const dir = makeTempDir('invoker-home');
    const script = path.join(dir, 'probe.mts');
    try {
      fs.mkdirSync(path.join(dir, 'home'));
      for (const name of ['.bashrc', '.profile', '.bash_profile'])
        fs.writeFileSync(path.join(dir, 'home', name), `echo "the invoking user's ${name} ran"\n`);
      fs.writeFileSync(
        script,
        [
          `import { startSshd } from ${JSON.stringify(path.join(repoRoot, 'test/testbed/sshd.ts'))};`,
          'const s = await startSshd();',
          "const result = await s.exec('echo ok');",
          'await s.stop();',
          'console.log(JSON.stringify(result));',
        ].join('\n'),
      );
      const [command, ...args] = inOwnHome(path.join(dir, 'home'));
      const stdout = await runChecked(command, [...args, path.join(repoRoot, 'node_modules/.bin/tsx'), script]);
      expect(JSON.parse(stdout.trim().split('\n').pop() ?? '')).toEqual({ stdout: 'ok\n', stderr: '', code: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60000);
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
      // Kill the node processes (tsx and the node it runs the script in) the way jest kills a stuck worker; sshd
      // itself is left for the test bed's reaper.
      const nodes = [child.pid ?? 0, ...descendants(child.pid ?? 0)].filter((pid) => commandLine(pid).includes(script));
      expect(nodes.length).toBeGreaterThan(0);
      for (const pid of nodes) process.kill(pid, 'SIGKILL');
      expect(await waitUntil(async () => !fs.existsSync(dir) && (await portIsFree(port)), 15000)).toBe(true);
    } finally {
      child.kill('SIGKILL');
      fs.rmSync(script, { force: true });
    }
  }, 60000);
});

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

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

describe('ports', () => {
  test('freePort hands out a bindable loopback port', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1024);
    expect(await portIsFree(port)).toBe(true);
  });

  test('a daemon that lost its port to another process is retried on a new one', async () => {
    const dir = makeTempDir('port-race');
    try {
      const attempts: number[] = [];
      const port = await withPortRetry(async () => {
        const candidate = await freePort();
        attempts.push(candidate);
        // The first two "daemons" die the way nginx or postgres do when a parallel worker took their port.
        const script =
          attempts.length < 3
            ? `echo "bind() to 127.0.0.1:${candidate} failed (98: Address already in use)"; exit 1`
            : 'sleep 30';
        const daemon = spawnDaemon('sh', ['-c', script], { logPath: path.join(dir, `attempt-${attempts.length}.log`) });
        try {
          await waitForDaemon(daemon, 'fake daemon', async () => attempts.length >= 3, 5000);
        } finally {
          await daemon.stop('SIGKILL');
        }
        return candidate;
      });
      expect(attempts).toHaveLength(3);
      expect(port).toBe(attempts[2]);
      await expect(withPortRetry(() => Promise.reject(new AddressInUseError('always taken')), 2)).rejects.toThrow(
        'always taken',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
