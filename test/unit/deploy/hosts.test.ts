import { cpSync, existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalExecutor, type HostExecutor, type ScriptOptions } from '../../../actions/deploy/server/executor.js';
import { deployMain, type DeployIO } from '../../../actions/deploy/main.js';
import { ActionFailure } from '../../../actions/shared/errors.js';
import { runProcess } from '../../../actions/shared/process.js';
import { localInputs, makeWorld, worldIO, type Recorded, type World } from './world.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----';

/**
 * A fake server: runs the phase scripts with bash, but in its own copy of deploy-to (the scripts name deploy-to by
 * its absolute path; each host gets the same path rewritten to its own directory), so three "hosts" are three trees.
 */
class FakeHost implements HostExecutor {
  readonly label: string;
  readonly hostKeyPolicy = 'verified against ssh-known-hosts';
  readonly scripts: string[] = [];
  private readonly local = new LocalExecutor(runProcess);

  constructor(
    readonly name: string,
    private readonly deployTo: string,
    readonly root: string,
  ) {
    this.label = `deploy@${name}:22`;
  }

  run(script: string, options?: ScriptOptions) {
    this.scripts.push(script);
    return this.local.run(script.split(this.deployTo).join(this.root), options);
  }

  backupPlace() {
    return this.local.backupPlace();
  }

  postState() {
    return { label: this.label, ssh: { host: this.name, port: 22, user: 'deploy' } };
  }

  async close() {}
}

let world: World;
let hosts: Map<string, FakeHost>;

beforeEach(() => {
  world = makeWorld();
  hosts = new Map();
  for (const name of ['web1', 'web2', 'web3']) {
    const root = join(world.dir, name);
    cpSync(world.deployTo, root, { recursive: true });
    hosts.set(name, new FakeHost(name, world.deployTo, root));
  }
});
afterEach(() => world.cleanup());

function sshInputs(sha: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...localInputs(world, sha),
    target: 'ssh',
    'ssh-host': 'web1, web2, web3',
    'ssh-user': 'deploy',
    'ssh-private-key': KEY,
    'ssh-known-hosts': 'web1 ssh-ed25519 AAAA',
    ...extra,
  };
}

const openHost = async (address?: { host: string }) => {
  const host = hosts.get(address!.host);
  if (!host) throw new ActionFailure(`no such host ${address?.host}`);
  return host;
};

const currentOf = (name: string) => {
  const link = join(hosts.get(name)!.root, 'current');
  return existsSync(link) ? readlinkSync(link).replace('releases/', '') : undefined;
};

/** Health by host: the host named in the URL serves the commit in its own current/REVISION, unless `broken` says no. */
function perHostHealth(
  io: DeployIO,
  recorded: Recorded,
  broken: (url: string, expect: string) => string | undefined = () => undefined,
): void {
  const edges = io.serverEdges;
  io.serverEdges = (inputs, given) => ({
    ...edges(inputs, given),
    checkHealth: async (url, expect) => {
      recorded.health.push({ url, expect });
      const why = broken(url, expect);
      if (why) return { ok: false, reason: why };
      const name = new URL(url).hostname;
      const revision = join(hosts.get(name)!.root, 'current', 'REVISION');
      const serves = existsSync(revision) && readFileSync(revision, 'utf8').includes(`commit=${expect}`);
      return serves ? { ok: true, reason: 'healthy' } : { ok: false, reason: 'old version' };
    },
  });
}

describe('several hosts', () => {
  test('rolling, one at a time: every host built first, migrations once on the first host, then each switched and checked', async () => {
    const sha = world.commit(['0001_initial']);
    const { io, recorded } = worldIO(world, sshInputs(sha, { maintenance: 'false' }), { openHost });
    perHostHealth(io, recorded);
    await deployMain(io);
    const id = recorded.outputs['release-id'];
    for (const name of ['web1', 'web2', 'web3']) expect(currentOf(name)).toBe(id);
    const migrated = (name: string) => hosts.get(name)!.scripts.filter((s) => s.includes('migrate --noinput')).length;
    expect([migrated('web1'), migrated('web2'), migrated('web3')]).toEqual([1, 0, 0]);
    expect(recorded.health.map((h) => h.url)).toEqual([
      'http://web1:8000/health',
      'http://web2:8000/health',
      'http://web3:8000/health',
    ]);
    const order = recorded.groups.map((g) => g.replace(/ \(.*\)$/, (m) => m.replace(/deploy@|:22/g, '')));
    // Built everywhere before the first switch; web1 switched and healthy before web2 is switched.
    expect(order.lastIndexOf('build (web3)')).toBeLessThan(order.indexOf('switch (web1)'));
    expect(order.indexOf('health (web1)')).toBeLessThan(order.indexOf('switch (web2)'));
    expect(recorded.summary).toContain('section web2');
  });

  test('a host failing its health check stops the rollout and rolls back the hosts already switched', async () => {
    const v1 = world.commit([]);
    const first = worldIO(world, sshInputs(v1), { openHost });
    perHostHealth(first.io, first.recorded);
    await deployMain(first.io);
    const old = first.recorded.outputs['release-id'];
    const v2 = world.commit([]);
    const seenOnWeb3 = hosts.get('web3')!.scripts.length;
    const { io, recorded } = worldIO(world, sshInputs(v2), { openHost });
    perHostHealth(io, recorded, (url, expect) => (url.includes('web2') && expect === v2 ? 'HTTP 502' : undefined));
    await expect(deployMain(io)).rejects.toThrow(
      /Health check of http:\/\/web2:8000\/health failed on web2: HTTP 502\. The new release was rolled back/,
    );
    expect([currentOf('web1'), currentOf('web2'), currentOf('web3')]).toEqual([old, old, old]);
    expect(
      hosts
        .get('web3')!
        .scripts.slice(seenOnWeb3)
        .some((s) => s.includes('mv -T')),
    ).toBe(false);
    expect(recorded.outputs['rolled-back']).toBe('true');
    const log = (name: string) => readFileSync(join(hosts.get(name)!.root, 'releases.jsonl'), 'utf8');
    expect(log('web1')).toContain('"outcome":"rolled-back"');
    expect(log('web3')).toContain('"outcome":"failed"');
  });

  test('parallel: all hosts switch together', async () => {
    const sha = world.commit([]);
    const { io, recorded } = worldIO(world, sshInputs(sha, { strategy: 'parallel' }), { openHost });
    perHostHealth(io, recorded);
    await deployMain(io);
    for (const name of ['web1', 'web2', 'web3']) expect(currentOf(name)).toBe(recorded.outputs['release-id']);
  });

  test('a host that cannot be reached stops the deploy before any host changes', async () => {
    const sha = world.commit([]);
    const { io } = worldIO(world, sshInputs(sha, { 'ssh-host': 'web1, web9' }), { openHost });
    await expect(deployMain(io)).rejects.toThrow(/no such host web9/);
    expect(currentOf('web1')).toBeUndefined();
    expect(existsSync(join(hosts.get('web1')!.root, 'releases.jsonl'))).toBe(false);
  });
});

describe('the environment file over SSH', () => {
  const writeEnv = (text: string) => {
    for (const host of hosts.values()) writeFileSync(join(host.root, 'shared', '.env'), text);
  };

  test('a value with a new line is one error naming the variable and env-file, before anything changes', async () => {
    writeEnv('SECRET_KEY=abc\nTLS_CERT="-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"\n');
    const sha = world.commit(['0001_initial']);
    const { io } = worldIO(world, sshInputs(sha, { 'ssh-host': 'web1', maintenance: 'false' }), { openHost });
    await expect(deployMain(io)).rejects.toThrow(
      /shared\/\.env on web1: TLS_CERT holds a new line, which cannot be passed over SSH .*\(input 'env-file'/,
    );
    const releases = join(hosts.get('web1')!.root, 'releases');
    expect(existsSync(releases) ? readdirSync(releases) : []).toEqual([]);
    expect(hosts.get('web1')!.scripts.some((s) => s.includes('pip install') || s.includes('venv'))).toBe(false);
  });
});
