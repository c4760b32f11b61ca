import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { runAction, type StepResult } from '../harness/index.js';
import { copyFixture, gunicornCommand, httpGet, productionEnv } from '../testbed/django-app.js';
import { createHosts, netnsAvailable, type NetnsHosts } from '../testbed/netns.js';
import { makeTempDir } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';
import { supervisordConfig } from '../testbed/supervisord.js';
import { git } from './deploy-world.js';

jest.setTimeout(240_000);

/**
 * Three servers in network namespaces. The namespaces share this machine's file system, so each server gets its
 * own deploy-to through `ip netns exec`'s bind mounts: /etc/netns/<host>/<name> appears as /etc/<name> inside the
 * host (its sshd, and through it every phase script, supervisord and gunicorn).
 */
const netns = netnsAvailable();
const SITE = `rbdeploy-${process.pid}`;
const DEPLOY_TO = `/etc/${SITE}/ocpizza`;
const SUPERVISOR_DIR = `/etc/${SITE}/supervisor`;

(netns.ok ? describe : describe.skip)('a rolling deploy to three hosts', () => {
  let net: NetnsHosts;
  let servers: SshServer[] = [];
  let repo: string;
  let dir: string;
  const hostRoot = (name: string) => path.join('/etc/netns', name, SITE);

  beforeAll(async () => {
    dir = makeTempDir('deploy-rolling');
    repo = await copyFixture(path.join(dir, 'repo'));
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'v1');
    net = await createHosts(3);
    // The mount point each host's directory is bound over.
    fs.mkdirSync(`/etc/${SITE}`, { recursive: true });
    for (const host of net.hosts) {
      const root = hostRoot(host.name);
      fs.mkdirSync(path.join(root, 'ocpizza', 'shared'), { recursive: true });
      fs.mkdirSync(path.join(root, 'supervisor', 'logs'), { recursive: true });
      // Each server has its own SQLite database: only the first one is migrated by the deploy.
      const env = {
        ...productionEnv({ databaseUrl: `sqlite:///${DEPLOY_TO}/shared/db.sqlite3`, secure: false }),
        ALLOWED_HOSTS: '*',
      };
      fs.writeFileSync(
        path.join(root, 'ocpizza', 'shared', '.env'),
        Object.entries(env)
          .map(([k, v]) => `${k}=${v}\n`)
          .join(''),
      );
      const command = gunicornCommand({
        projectDir: `${DEPLOY_TO}/current`,
        bind: `${host.ip}:8000`,
        workers: 1,
      }).command;
      fs.writeFileSync(
        path.join(root, 'supervisor', 'supervisord.conf'),
        supervisordConfig(SUPERVISOR_DIR, {
          ocpizza: { command, autostart: false, autorestart: 'unexpected', stopasgroup: true },
        }),
      );
      host.spawn('supervisord', ['-c', `${SUPERVISOR_DIR}/supervisord.conf`]);
    }
    servers = await Promise.all(net.hosts.map((host) => startSshd({ netns: host.name, listen: host.ip })));
    // One deploy key for the three servers, as in real life.
    for (const server of servers.slice(1)) {
      fs.appendFileSync(
        path.join(server.dir, 'authorized_keys'),
        fs.readFileSync(path.join(servers[0].dir, 'id_ed25519.pub')),
      );
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await net?.destroy();
    fs.rmSync(`/etc/${SITE}`, { recursive: true, force: true });
    for (const host of net?.hosts ?? [])
      fs.rmSync(path.join('/etc/netns', host.name), { recursive: true, force: true });
    // Leave no empty /etc/netns behind (another test's hosts may still be in it: then it stays).
    try {
      fs.rmdirSync('/etc/netns');
    } catch {
      // Not empty or already gone.
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  function deploy(sha: string, extra: Record<string, string> = {}): Promise<StepResult> {
    return runAction({
      action: 'deploy',
      inputs: {
        target: 'ssh',
        'ssh-host': net.hosts.map((h) => h.ip).join('\n'),
        'ssh-user': servers[0].user,
        'ssh-private-key': servers[0].privateKey,
        'ssh-known-hosts': servers.map((s) => s.knownHosts).join('\n'),
        'deploy-to': DEPLOY_TO,
        venv: 'false',
        python: '/usr/bin/python3',
        requirements: '',
        'check-deploy': 'false',
        maintenance: 'false',
        backup: 'never',
        reload: 'hup',
        'supervisor-program': 'ocpizza',
        'supervisor-config': `${SUPERVISOR_DIR}/supervisord.conf`,
        'health-url': 'http://{host}:8000/health',
        'health-timeout': '30s',
        strategy: 'rolling',
        'batch-size': '1',
        ...extra,
      },
      github: { sha, workspace: repo, actor: 'octocat' },
      secrets: [servers[0].privateKey.trim()],
      timeoutMs: 200_000,
    });
  }

  const served = async () =>
    Promise.all(
      net.hosts.map(async (h) => {
        const answer = await httpGet(`http://${h.ip}:8000/health`).catch(() => undefined);
        return answer ? (JSON.parse(answer.body) as { commit: string }).commit : 'down';
      }),
    );

  test('each host is switched and checked in turn; a failing host stops the rollout and the switched ones roll back', async () => {
    const v1 = git(repo, 'rev-parse', 'HEAD');
    const first = await deploy(v1);
    expect(first.exitCode).toBe(0);
    expect(await served()).toEqual([v1, v1, v1]);
    const phases = first.summary
      .split('\n')
      .filter((l) => /^\| (switch|health) \|/.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, 3)
          .map((c) => c.trim())
          .join(' '),
      );
    expect(phases).toEqual(net.hosts.flatMap((h) => [`switch ${h.ip}`, `health ${h.ip}`]));
    // Migrations ran once, on the first host only.
    expect(fs.existsSync(path.join(hostRoot(net.hosts[0].name), 'ocpizza', 'shared', 'db.sqlite3'))).toBe(true);

    // The second host answers for another commit (its settings say so): health fails there, the first host is
    // switched back, the third is never touched.
    const v2 = git(repo, 'commit-tree', '-m', 'v2', '-p', v1, `${v1}^{tree}`);
    fs.appendFileSync(path.join(hostRoot(net.hosts[1].name), 'ocpizza', 'shared', '.env'), 'RUNBOOK_COMMIT=0badc0de\n');
    const second = await deploy(v2, { 'health-timeout': '8s' });
    expect(second.exitCode).toBe(1);
    expect(second.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
      expect.stringMatching(
        new RegExp(
          `Health check of http://${net.hosts[1].ip.replace(/\./g, '\\.')}:8000/health failed on ${net.hosts[1].ip}: .*rolled back`,
        ),
      ),
    ]);
    expect(second.outputs['rolled-back']).toBe('true');
    const releases = await Promise.all(
      net.hosts.map(
        async (h) => (JSON.parse((await httpGet(`http://${h.ip}:8000/health`)).body) as { release: string }).release,
      ),
    );
    expect(releases).toEqual([first.outputs['release-id'], first.outputs['release-id'], first.outputs['release-id']]);
    const switches = second.summary
      .split('\n')
      .filter((l) => /^\| (switch|rollback) \|/.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, 3)
          .map((c) => c.trim())
          .join(' '),
      );
    expect(switches).toEqual([
      `switch ${net.hosts[0].ip}`,
      `switch ${net.hosts[1].ip}`,
      `rollback ${net.hosts[0].ip}`,
      `rollback ${net.hosts[1].ip}`,
    ]);
  });
});
