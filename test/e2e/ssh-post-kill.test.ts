// The SSH post steps of db-backup, db-restore and deploy after a real kill: the built bundle runs against the test
// bed's sshd, the main process is SIGKILLed while it is held mid-run on the server (a table lock the dump waits
// for, the deploy lock), and the harness then runs the post step as the runner does, with the state the main step
// saved. A killed step runs no finally: only the post step can close the master connection and remove the key.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { lockTable, mainProcess, someoneWaitsForALock, until } from '../support/kill-midway.js';
import { runAction, type StepResult } from '../harness/index.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { childPids, makeTempDir } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';

let pg: PostgresServer;
let sshd: SshServer;
let work: string;
beforeAll(async () => {
  [pg, sshd] = await Promise.all([startPostgres(), startSshd()]);
  work = makeTempDir('ssh-post-kill');
  await pg.createDatabase('shop');
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita'), ('regina')", 'shop');
}, 120_000);
afterAll(async () => {
  await Promise.all([pg?.stop(), sshd?.stop()]);
});

/** True while a pg_dump session of `database` is open. */
async function someoneDumps(pg: PostgresServer, database: string): Promise<boolean> {
  const count = await pg.sql(
    `SELECT count(*) FROM pg_stat_activity WHERE datname = '${database}' AND application_name = 'pg_dump'`,
  );
  return Number(count) > 0;
}

const sshInputs = () => ({
  'ssh-host': sshd.host,
  'ssh-port': String(sshd.port),
  'ssh-user': sshd.user,
  'ssh-private-key': sshd.privateKey,
  'ssh-known-hosts': sshd.knownHosts,
});

/** `ssh -O check` on a control socket: exit 0 while a master answers on it. */
function masterAnswers(directory: string): boolean {
  const check = spawnSync('ssh', [
    '-F',
    '/dev/null',
    '-o',
    `ControlPath=${join(directory, 'ctl')}`,
    '-p',
    String(sshd.port),
    '-O',
    'check',
    `${sshd.user}@${sshd.host}`,
  ]);
  return check.status === 0;
}

/**
 * Runs the action, SIGKILLs its main process once `held` says it is held mid-run on the server (checking the master
 * answers at that moment), then lets the harness run the post step with the saved state.
 */
async function killedMidRun(
  action: string,
  inputs: Record<string, string>,
  held: () => Promise<boolean>,
  workspace: string,
): Promise<{ result: StepResult; directory: string }> {
  const run = runAction({ action, inputs, secrets: [pg.password, sshd.privateKey], github: { workspace } });
  let pid: number | undefined;
  let directory: string | undefined;
  await until(`${action} is held on the server, its master answering`, async () => {
    pid ??= mainProcess(action);
    if (pid === undefined || !(await held())) return false;
    directory = sshDirectoryOf(pid);
    return directory !== undefined && masterAnswers(directory) && existsSync(join(directory, 'key'));
  });
  process.kill(pid!, 'SIGKILL');
  return { result: await run, directory: directory! };
}

function expectCleanedUp({ result, directory }: { result: StepResult; directory: string }): void {
  expect(result.signal).toBe('SIGKILL');
  expect(result.post?.ran).toBe(true);
  expect(result.post?.exitCode).toBe(0);
  expect(directory).toMatch(/\/rb-ssh-\w+$/);
  expect(existsSync(join(directory, 'key'))).toBe(false);
  expect(existsSync(join(directory, 'ctl'))).toBe(false);
  expect(existsSync(directory)).toBe(false);
  expect(masterAnswers(directory)).toBe(false);
  // Nothing of the run reached an output (the harness's guard has already searched every surface for the secrets).
  expect(result.outputs).toEqual({});
}

describe('SSH post steps after the main step is SIGKILLed', () => {
  test('db-backup: the post step closes the master and removes the key', async () => {
    const lock = await lockTable(pg, 'shop', 'pizza');
    try {
      const workspace = makeTempDir('ssh-post-kill-backup');
      const killed = await killedMidRun(
        'db-backup',
        { 'database-url': pg.url('shop'), directory: join(workspace, 'backups'), ...sshInputs() },
        () => someoneWaitsForALock(pg, 'shop'),
        workspace,
      );
      expect(JSON.parse(killed.result.state['db-cleanup']).ssh.directory).toBe(killed.directory);
      expectCleanedUp(killed);
    } finally {
      await lock.release();
    }
  }, 120_000);

  test('db-backup kept on the server: the post step also removes the partial file on the server', async () => {
    // The test bed's sshd shares this machine's disk: the server's directory is read directly.
    const serverDir = join(work, 'server-backups');
    mkdirSync(serverDir, { recursive: true });
    const partials = () => readdirSync(serverDir).filter((f) => f.endsWith('.partial'));
    const lock = await lockTable(pg, 'shop', 'pizza');
    try {
      const workspace = makeTempDir('ssh-post-kill-server');
      const killed = await killedMidRun(
        'db-backup',
        { 'database-url': pg.url('shop'), storage: 'server', directory: serverDir, ...sshInputs() },
        async () => (await someoneWaitsForALock(pg, 'shop')) && partials().length === 1,
        workspace,
      );
      expectCleanedUp(killed);
      expect(readdirSync(serverDir)).toEqual([]);
      const state = JSON.parse(killed.result.state['db-cleanup']) as { serverPartials: string[] };
      const [partial] = state.serverPartials;
      expect(partial).toMatch(new RegExp(`^${serverDir}/shop_\\d{12}_\\w+\\.dump\\.partial$`));
      expect(killed.result.post?.log).toContain(
        `Removed ${partial} on ${sshd.user}@${sshd.host}, a partial file the main step left.`,
      );
    } finally {
      await lock.release();
    }
    // The orphaned dump on the server, let go by the lock, finds its file gone: no unverified backup appears.
    await until('the orphaned dump has ended', async () => !(await someoneDumps(pg, 'shop')));
    expect(readdirSync(serverDir)).toEqual([]);
  }, 120_000);

  test('db-restore: the post step closes the master and removes the key', async () => {
    const workspace = makeTempDir('ssh-post-kill-restore');
    const backup = await runAction({
      action: 'db-backup',
      inputs: { 'database-url': pg.url('shop'), directory: join(workspace, 'backups'), ...sshInputs() },
      secrets: [pg.password, sshd.privateKey],
      github: { workspace },
    });
    expect(backup.exitCode).toBe(0);
    const lock = await lockTable(pg, 'shop', 'pizza');
    try {
      const killed = await killedMidRun(
        'db-restore',
        {
          'database-url': pg.url('shop'),
          backup: backup.outputs.path,
          confirm: 'shop',
          ...sshInputs(),
        },
        () => someoneWaitsForALock(pg, 'shop'),
        workspace,
      );
      expect(JSON.parse(killed.result.state['db-cleanup']).ssh.directory).toBe(killed.directory);
      expectCleanedUp(killed);
    } finally {
      await lock.release();
    }
    expect(await pg.sql('SELECT count(*) FROM pizza', 'shop')).toBe('2');
  }, 120_000);

  test('deploy: the post step closes the master and removes the key', async () => {
    const workspace = makeTempDir('ssh-post-kill-deploy');
    writeFileSync(join(workspace, 'manage.py'), '# the app\n');
    for (const args of [
      ['init', '-q', '-b', 'main'],
      ['add', '-A'],
      ['commit', '-q', '-m', 'v1'],
    ])
      spawnSync('git', ['-C', workspace, '-c', 'user.name=t', '-c', 'user.email=t@e', ...args]);
    const deployTo = join(work, 'srv', 'app');
    mkdirSync(deployTo, { recursive: true });
    // Another deploy holds the lock (flock on the file the action uses) for as long as our stdin stays open.
    const lockFile = join(deployTo, '.deploy.lock');
    const holder = spawn('flock', [lockFile, 'cat']);
    await until('the other deploy holds the lock', () => spawnSync('flock', ['-n', lockFile, 'true']).status === 1);
    try {
      const killed = await killedMidRun(
        'deploy',
        {
          target: 'ssh',
          hosts: `${sshd.host}:${sshd.port}`,
          user: sshd.user,
          'private-key': sshd.privateKey,
          'known-hosts': sshd.knownHosts,
          'deploy-to': deployTo,
          'supervisor-program': 'app',
          'lock-timeout': '10m',
        },
        // The action's lock holder on the server waits (flock -w) behind ours.
        async () => waitingForDeployLock(deployTo),
        workspace,
      );
      const saved = JSON.parse(killed.result.state.deploy) as { hosts: { sshDirectory?: string }[] };
      expect(saved.hosts.map((h) => h.sshDirectory)).toEqual([killed.directory]);
      expectCleanedUp(killed);
    } finally {
      holder.stdin.end();
    }
  }, 120_000);
});

function waitingForDeployLock(deployTo: string): boolean {
  return spawnSync('pgrep', ['-f', `flock -w .*${deployTo}|${deployTo}.*flock -w`]).status === 0;
}

/** The private SSH directory of the main step, from the ControlPath of the ssh command it is running. */
function sshDirectoryOf(pid: number): string | undefined {
  for (const child of childPids(pid)) {
    try {
      const args = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
      const path = args.find((a) => a.startsWith('ControlPath='));
      if (path) return dirname(path.slice('ControlPath='.length));
    } catch {
      // The command ended while we looked.
    }
  }
  return undefined;
}
