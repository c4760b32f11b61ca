import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshExecutor } from '../../../actions/deploy/server/executor.js';
import { readDeployInputs } from '../../../actions/deploy/inputs.js';
import { realServerEdges, runnerIO, type DeployIO } from '../../../actions/deploy/main.js';
import { postStep } from '../../../actions/deploy/post-step.js';
import type { ProcessOptions, ProcessResult, ProcessRunner } from '../../../actions/shared/process.js';
import { actionInputs } from './world.js';

interface Call {
  command: string;
  args: string[];
  options?: ProcessOptions;
}

function fakeRunner(answer: (call: Call) => Partial<ProcessResult> = () => ({})): {
  runner: ProcessRunner;
  calls: Call[];
} {
  const calls: Call[] = [];
  const runner: ProcessRunner = async (command, args, options) => {
    const call = { command, args, options };
    calls.push(call);
    return { code: 0, signal: null, stdout: '', stderrTail: '', bytes: 0, ...answer(call) };
  };
  return { runner, calls };
}

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';

describe('the ssh executor', () => {
  test('opens one master per host, runs scripts through it with set -eu, and closes it', async () => {
    const { runner, calls } = fakeRunner((call) =>
      call.args.includes('echo hi') || call.args.at(-1)?.includes('echo hi') ? { stdout: 'hi\n' } : {},
    );
    const executor = await SshExecutor.open(
      { host: 'web1', port: 2222, user: 'deploy', privateKey: KEY, knownHosts: 'web1 ssh-ed25519 AAAA' },
      runner,
    );
    expect(executor.label).toBe('deploy@web1:2222');
    expect(executor.hostKeyPolicy).toBe('verified against ssh-known-hosts');
    const dir = executor.postState().sshDirectory!;
    expect(existsSync(join(dir, 'key'))).toBe(true);
    const result = await executor.run('echo hi');
    expect(result).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(calls[0].args).toEqual(
      expect.arrayContaining(['ControlMaster=yes', 'StrictHostKeyChecking=yes', 'deploy@web1']),
    );
    expect(calls[1].args.at(-1)).toMatch(/^exec sh -c 'set -eu\n/);
    const place = executor.backupPlace();
    expect(place.host.where).toBe('deploy@web1');
    expect(place.files.remote).toBe(true);
    await executor.close();
    expect(calls.at(-1)?.args).toEqual(expect.arrayContaining(['-O', 'exit']));
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the post step', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deploy-post-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('turns off a maintenance flag the main step left on, locally', async () => {
    const flag = join(dir, 'maintenance.on');
    writeFileSync(flag, 'deploying');
    const infos: string[] = [];
    const { runProcess } = await import('../../../actions/shared/process.js');
    await postStep({
      getState: () =>
        JSON.stringify({
          hosts: [{ label: 'local' }],
          maintenanceOn: ['local'],
          maintenanceOffScript: `rm -f '${flag}'`,
        }),
      info: (m) => infos.push(m),
      warning: () => undefined,
      runner: runProcess,
    });
    expect(existsSync(flag)).toBe(false);
    expect(infos).toEqual(['Maintenance turned off on local (the main step had left it on).']);
  });

  test('over ssh: runs the off script through the master, closes it, removes the key directory; only warns', async () => {
    const sshDir = join(dir, 'rb-ssh-x');
    mkdirSync(sshDir);
    writeFileSync(join(sshDir, 'key'), 'k');
    const { runner, calls } = fakeRunner((call) =>
      call.args.includes('-O') ? {} : { code: 255, stderrTail: 'Connection refused\n' },
    );
    const warnings: string[] = [];
    await postStep({
      getState: () =>
        JSON.stringify({
          hosts: [{ label: 'deploy@web1:22', sshDirectory: sshDir, ssh: { host: 'web1', port: 22, user: 'deploy' } }],
          maintenanceOn: ['deploy@web1:22'],
          maintenanceOffScript: 'rm -f /srv/app/shared/maintenance.on',
        }),
      info: () => undefined,
      warning: (m) => warnings.push(m),
      runner,
    });
    expect(calls[0].args.at(-1)).toMatch(/^exec sh -c 'set -eu\n[^']*rm -f \/srv\/app\/shared\/maintenance.on'$/);
    expect(calls[0].args).toContain(`ControlPath=${join(sshDir, 'ctl')}`);
    expect(warnings).toEqual(['Could not turn maintenance off on deploy@web1:22: Connection refused']);
    expect(calls[1].args).toEqual(expect.arrayContaining(['-O', 'exit', 'deploy@web1']));
    expect(existsSync(sshDir)).toBe(false);
  });

  test('closes the master exactly as the connection itself closes it (one way to build the ssh command)', async () => {
    const opened = fakeRunner();
    const executor = await SshExecutor.open(
      { host: 'web1', port: 2222, user: 'deploy', privateKey: KEY, knownHosts: 'web1 ssh-ed25519 AAAA' },
      opened.runner,
    );
    const state = executor.postState();
    const post = fakeRunner();
    await postStep({
      getState: () =>
        JSON.stringify({ hosts: [state], maintenanceOn: [state.label], maintenanceOffScript: 'rm -f /srv/a/m.on' }),
      info: () => undefined,
      warning: () => undefined,
      runner: post.runner,
    });
    expect(existsSync(state.sshDirectory!)).toBe(false);
    const byConnection = fakeRunner();
    const { SshConnection } = await import('../../../actions/shared/ssh.js');
    const again = mkdtempSync(join(tmpdir(), 'deploy-post-again-'));
    await SshConnection.closeLeftover(
      { directory: again, host: 'web1', port: 2222, user: 'deploy' },
      byConnection.runner,
    );
    const sameDirectory = (args: string[]) => args.map((a) => a.replaceAll(again, state.sshDirectory!));
    const close = sameDirectory(byConnection.calls[0].args);
    expect(close.slice(-3)).toEqual(['-O', 'exit', 'deploy@web1']);
    expect(post.calls.map((c) => c.args.slice(0, close.length - 3))).toEqual([close.slice(0, -3), close.slice(0, -3)]);
    expect(post.calls[1].args).toEqual(close);
  });

  test('does nothing without state (the main step failed on its inputs)', async () => {
    const { runner, calls } = fakeRunner();
    await postStep({ getState: () => '', info: () => undefined, warning: () => undefined, runner });
    expect(calls).toEqual([]);
  });
});

describe('the real edges', () => {
  let server: Server;
  let port: number;
  let body = '{}';
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const inputs = readDeployInputs(
    actionInputs({
      target: 'ssh',
      'ssh-host': 'web1',
      'ssh-user': 'deploy',
      'ssh-private-key': KEY,
      'ssh-accept-new-host-key': 'true',
      'deploy-to': '/srv/a',
      commit: 'HEAD',
      'supervisor-program': 'web',
    }),
    () => undefined,
    {},
  );
  const io = { ...runnerIO(), warning: () => undefined } as DeployIO;

  test('the health check reads the commit from /health JSON through the smoke-check engine', async () => {
    const edges = realServerEdges(inputs, io);
    body = JSON.stringify({ commit: 'abc1234def' });
    expect(await edges.checkHealth(`http://127.0.0.1:${port}/health`, 'abc1234def', 3000, () => undefined)).toEqual({
      ok: true,
      reason: 'healthy',
    });
    body = JSON.stringify({ commit: 'old' });
    const stale = await edges.checkHealth(`http://127.0.0.1:${port}/health`, 'abc1234def', 4000, () => undefined);
    expect(stale.ok).toBe(false);
    expect(stale.reason).toMatch(/serves version "?old"?.*expected abc1234def/);
  });

  test('openHost accepts a new host key only as asked, and reports it', async () => {
    const { runner, calls } = fakeRunner();
    const edges = realServerEdges(inputs, io, runner);
    const executor = await edges.openHost({ host: 'web1', port: 22 });
    expect(executor.hostKeyPolicy).toMatch(/accept-new/);
    expect(calls[0].args).toContain('StrictHostKeyChecking=accept-new');
    await executor.close();
    expect((await edges.openHost(undefined)).label).toBe('local');
    expect(edges.token()).toMatch(/^[0-9a-f]{24}$/);
  });
});
