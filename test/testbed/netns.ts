import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  Cleanup,
  makeTempDir,
  runChecked,
  runCommand,
  shellQuote,
  spawnDaemon,
  type CommandResult,
  type Daemon,
} from './process.js';

export interface HostExecOptions {
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
}

export interface HostSpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where stdout and stderr go (default: <hosts dir>/<name>-<n>.log). */
  logPath?: string;
}

/** One extra machine: a network namespace with its own loopback and one address on the test network. */
export interface NetnsHost {
  name: string;
  ip: string;
  /** Runs a shell command (string) or an argv (array) inside the namespace. */
  exec(command: string | string[], options?: HostExecOptions): Promise<CommandResult>;
  /** Starts a long-running process inside the namespace; destroy() kills it. */
  spawn(command: string, args: string[], options?: HostSpawnOptions): Daemon;
}

export interface NetnsHosts {
  hosts: NetnsHost[];
  /** This machine's address on the test network (the bridge), reachable from every host. */
  gateway: string;
  /** The /24 the hosts live in, e.g. 10.231.57.0/24. */
  subnet: string;
  bridge: string;
  destroy(): Promise<void>;
}

export interface CreateHostsOptions {
  /** Namespace name prefix (default `runbook`); names are `<prefix>-<pid>-<i>`. */
  prefix?: string;
}

export type NetnsAvailability = { ok: true } | { ok: false; reason: string };

let availability: NetnsAvailability | undefined;

/** Whether this machine lets us create network namespaces; `reason` says why not, for `describe.skip` messages. */
export function netnsAvailable(): NetnsAvailability {
  if (availability) return availability;
  const probe = `runbook-probe-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync('ip', ['netns', 'del', probe], { stdio: ['ignore', 'ignore', 'pipe'] });
    availability = { ok: true };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    availability = {
      ok: false,
      reason: `network namespaces unavailable (ip netns add: ${stderr || (error as Error).message}); needs root or CAP_SYS_ADMIN and iproute2`,
    };
  }
  return availability;
}

/** Addresses 10.231.<n>.0/24 already configured on this machine, so we never shadow a real network. */
function subnetInUse(n: number): boolean {
  try {
    return execFileSync('ip', ['-o', 'addr', 'show', 'to', `10.231.${n}.0/24`], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return true;
  }
}

/**
 * Creates `count` hosts joined by a bridge in the root namespace. The /24 is claimed by creating a bridge named
 * after it: `ip link add` fails if another jest worker already holds that name, which makes the claim atomic.
 */
export async function createHosts(count: number, options: CreateHostsOptions = {}): Promise<NetnsHosts> {
  if (!Number.isInteger(count) || count < 1 || count > 200) throw new Error(`host count must be 1-200, got ${count}`);
  const available = netnsAvailable();
  if (!available.ok) throw new Error(available.reason);
  const prefix = options.prefix ?? 'runbook';

  let n = 0;
  let bridge = '';
  const first = 20 + (process.pid % 230);
  for (let attempt = 0; attempt < 230 && !bridge; attempt++) {
    const candidate = 20 + ((first - 20 + attempt) % 230);
    if (subnetInUse(candidate)) continue;
    const result = await runCommand('ip', ['link', 'add', `rbtb${candidate}`, 'type', 'bridge']);
    if (result.code === 0) {
      n = candidate;
      bridge = `rbtb${candidate}`;
    }
  }
  if (!bridge) throw new Error('no free 10.231.<n>.0/24 test network (all rbtb<n> bridges exist)');

  const dir = makeTempDir('netns');
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${process.pid}-${i + 1}`);
  const cleanup = new Cleanup(`netns hosts ${names.join(' ')}`);
  for (const name of names) {
    // A namespace lives as long as a process in it does: kill them, then drop the name.
    cleanup.command(`ip netns pids ${shellQuote(name)} | xargs -r kill -KILL`);
    cleanup.command(`ip netns del ${shellQuote(name)}`);
  }
  cleanup.command(`ip link del ${bridge}`).removePath(dir);
  for (const name of names) cleanup.removePath(path.join('/etc/netns', name));
  cleanup.command('rmdir /etc/netns');

  const gateway = `10.231.${n}.1`;
  try {
    const batch = [`addr add ${gateway}/24 dev ${bridge}`, `link set ${bridge} up`];
    names.forEach((name, i) => {
      batch.push(
        `netns add ${name}`,
        `link add ${bridge}v${i} type veth peer name ${bridge}p${i} netns ${name}`,
        `link set ${bridge}v${i} master ${bridge} up`,
      );
    });
    // `ip netns exec` bind-mounts /etc/netns/<name>/* over /etc: hosts find each other by name, and a resolver that
    // fails at once replaces the machine's, which is unreachable from here (a reverse lookup would hang for seconds).
    const hostsFile = ['127.0.0.1 localhost', `${gateway} ${prefix}-gateway`]
      .concat(names.map((name, i) => `10.231.${n}.${10 + i} ${name}`))
      .join('\n');
    for (const name of names) {
      fs.mkdirSync(path.join('/etc/netns', name), { recursive: true });
      fs.writeFileSync(path.join('/etc/netns', name, 'hosts'), `${hostsFile}\n`);
      fs.writeFileSync(
        path.join('/etc/netns', name, 'resolv.conf'),
        'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n',
      );
    }
    // `ip -batch` instead of a dozen processes per host; batch lines cannot take -n, hence one batch per namespace.
    await runChecked('ip', ['-batch', '-'], { input: batch.join('\n') + '\n' });
    await Promise.all(
      names.map((name, i) =>
        runChecked('ip', ['-n', name, '-batch', '-'], {
          input:
            [
              `link set ${bridge}p${i} name eth0`,
              `addr add 10.231.${n}.${10 + i}/24 dev eth0`,
              'link set eth0 up',
              'link set lo up',
              `route add default via ${gateway}`,
            ].join('\n') + '\n',
        }),
      ),
    );
  } catch (error) {
    cleanup.runNow();
    throw error;
  }

  const daemons: Daemon[] = [];
  const hosts = names.map((name, i): NetnsHost => {
    let spawned = 0;
    return {
      name,
      ip: `10.231.${n}.${10 + i}`,
      exec(command, execOptions = {}) {
        const argv = typeof command === 'string' ? ['sh', '-c', command] : command;
        return runCommand('ip', ['netns', 'exec', name, ...argv], execOptions);
      },
      spawn(command, args, spawnOptions = {}) {
        spawned += 1;
        const daemon = spawnDaemon('ip', ['netns', 'exec', name, command, ...args], {
          cwd: spawnOptions.cwd ?? dir,
          env: spawnOptions.env,
          logPath: spawnOptions.logPath ?? path.join(dir, `${name}-${spawned}.log`),
        });
        daemons.push(daemon);
        return daemon;
      },
    };
  });

  return {
    hosts,
    gateway,
    subnet: `10.231.${n}.0/24`,
    bridge,
    async destroy() {
      await Promise.all(daemons.map((daemon) => daemon.stop('SIGTERM', 3000)));
      cleanup.runNow();
    },
  };
}
