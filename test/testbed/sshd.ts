import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';
import {
  Cleanup,
  currentUser,
  makeTempDir,
  runChecked,
  runCommand,
  spawnDaemon,
  waitForDaemon,
  withPortRetry,
  type CommandResult,
} from './process.js';

export interface SshExecOptions {
  /** known_hosts content to verify the server against (default: this server's own `knownHosts` line). */
  knownHosts?: string;
  input?: string;
  timeoutMs?: number;
}

export interface SshServer {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  privateKeyPath: string;
  /** `[host]:port ssh-ed25519 AAAA…`, the line a known_hosts file needs to trust this server. */
  knownHosts: string;
  /** Path of a file holding `knownHosts`. */
  knownHostsPath: string;
  /** `SHA256:…` of the host key. */
  hostKeyFingerprint: string;
  dir: string;
  /** What the login user's home directory holds for sshd and its sessions (a fresh Debian user's rc files). */
  home: string;
  exec(command: string, options?: SshExecOptions): Promise<CommandResult>;
  stop(): Promise<void>;
}

export interface SshdOptions {
  /** Address to bind (default 127.0.0.1); with `netns`, an address inside that namespace. */
  listen?: string;
  /** Network namespace to run sshd in (see netns.ts); `port` defaults to 22 there, since the namespace is ours. */
  netns?: string;
  port?: number;
  /**
   * Files or directories of this server mounted over the machine's, for sshd and its sessions only, e.g. the test
   * bed supervisord's config over /etc/supervisor/supervisord.conf (supervisorctl's default on Debian), so a
   * command run over SSH finds this server's supervisord as on a real one.
   */
  mounts?: { source: string; target: string }[];
}

/** The known_hosts form ssh looks up: a bare host on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * A home like a fresh server's: Debian's skeleton rc files. The login shell sshd runs every command through reads
 * ~/.bashrc (Debian builds bash that way), so the invoking user's own (here root's, which runs `pyenv init`: a killed
 * `pyenv rehash` once hung every SSH test) must not be the one it finds.
 */
function makeServerHome(home: string): void {
  fs.mkdirSync(home, { mode: 0o700 });
  for (const name of ['.bashrc', '.profile', '.bash_logout']) {
    const skeleton = path.join('/etc/skel', name);
    if (fs.existsSync(skeleton)) fs.copyFileSync(skeleton, path.join(home, name));
  }
}

/**
 * The argv prefix that runs a command in a mount namespace of its own where `home` is mounted over the login user's
 * home directory (the one in /etc/passwd, which sshd uses: HOME cannot be set any other way). Nothing else changes:
 * the user, its uid and every other path are the machine's.
 */
export function inOwnHome(home: string, mounts: { source: string; target: string }[] = []): string[] {
  const binds = mounts.map((m) => ['--bind-file', m.source, m.target]).flat();
  // Extra binds first (`--bind-file <source> <target>` pairs), then the home and the command.
  const script =
    'while [ "$1" = --bind-file ]; do mount --bind -- "$2" "$3" || exit 1; shift 3; done; mount --bind -- "$1" "$2" && shift 2 && exec "$@"';
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    script,
    'own-home',
    ...binds,
    home,
    os.userInfo().homedir,
  ];
}

export async function startSshd(options: SshdOptions = {}): Promise<SshServer> {
  const host = options.listen ?? '127.0.0.1';
  const user = currentUser();
  const dir = makeTempDir('sshd');
  const cleanup = new Cleanup(`sshd in ${dir}`).removePath(dir);
  // sshd checks key permissions even with StrictModes off; mkdtemp gives 0700 already.
  const hostKeyPath = path.join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = path.join(dir, 'id_ed25519');
  const authorizedKeysPath = path.join(dir, 'authorized_keys');
  const knownHostsPath = path.join(dir, 'known_hosts');
  const configPath = path.join(dir, 'sshd_config');
  const home = path.join(dir, 'home');

  try {
    // Privilege separation directory: Debian's sshd refuses to start without it.
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    await runChecked('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'runbook-testbed-host', '-f', hostKeyPath]);
    await runChecked('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'runbook-testbed-client',
      '-f',
      clientKeyPath,
    ]);
    fs.chmodSync(clientKeyPath, 0o600);
    fs.copyFileSync(`${clientKeyPath}.pub`, authorizedKeysPath);
    makeServerHome(home);
    const hostPublicKey = fs.readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const fingerprint = (await runChecked('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKeyPath}.pub`])).split(
      /\s+/,
    )[1];

    const start = async (): Promise<{ port: number; daemon: ReturnType<typeof spawnDaemon> }> => {
      const port = options.port ?? (options.netns ? 22 : await freePort(host));
      fs.writeFileSync(
        configPath,
        [
          `Port ${port}`,
          `ListenAddress ${host}`,
          `HostKey ${hostKeyPath}`,
          `PidFile ${path.join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorizedKeysPath}`,
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          // The temp dir and keys are root's; StrictModes would reject them for another login user.
          'StrictModes no',
          'PermitRootLogin prohibit-password',
          `AllowUsers ${user}`,
          'UsePAM no',
          'PrintMotd no',
          'PermitUserEnvironment no',
          'AcceptEnv LANG LC_*',
          'Subsystem sftp internal-sftp',
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      const sshd = [...inOwnHome(home, options.mounts), '/usr/sbin/sshd', '-D', '-e', '-f', configPath];
      const [command, ...args] = options.netns ? ['ip', 'netns', 'exec', options.netns, ...sshd] : sshd;
      const daemon = spawnDaemon(command, args, { cwd: dir, logPath: path.join(dir, 'sshd.log') });
      cleanup.killProcessGroup(daemon.pid);
      try {
        await waitForDaemon(daemon, 'sshd', async () => {
          if (!/Server listening on/.test(daemon.log())) return false;
          if (!options.netns) await waitForPort(host, port, 5000);
          return true;
        });
      } catch (error) {
        await daemon.stop('SIGKILL');
        throw error;
      }
      return { port, daemon };
    };
    const { port, daemon } = options.port || options.netns ? await start() : await withPortRetry(start);

    const knownHosts = `${knownHostsName(host, port)} ${hostPublicKey}`;
    fs.writeFileSync(knownHostsPath, `${knownHosts}\n`);

    const server: SshServer = {
      host,
      port,
      user,
      privateKey: fs.readFileSync(clientKeyPath, 'utf8'),
      privateKeyPath: clientKeyPath,
      knownHosts,
      knownHostsPath,
      hostKeyFingerprint: fingerprint,
      dir,
      home,
      async exec(command, execOptions = {}) {
        let hostsFile = knownHostsPath;
        if (execOptions.knownHosts !== undefined) {
          hostsFile = path.join(dir, `known_hosts.${process.hrtime.bigint()}`);
          fs.writeFileSync(hostsFile, `${execOptions.knownHosts}\n`);
        }
        try {
          return await runCommand(
            'ssh',
            [
              '-F',
              '/dev/null',
              '-i',
              clientKeyPath,
              '-o',
              'IdentitiesOnly=yes',
              '-o',
              'BatchMode=yes',
              '-o',
              `UserKnownHostsFile=${hostsFile}`,
              '-o',
              'GlobalKnownHostsFile=/dev/null',
              '-o',
              'StrictHostKeyChecking=yes',
              '-o',
              'ConnectTimeout=10',
              '-o',
              'LogLevel=ERROR',
              '-p',
              String(port),
              `${user}@${host}`,
              command,
            ],
            { input: execOptions.input, timeoutMs: execOptions.timeoutMs ?? 60000 },
          );
        } finally {
          if (hostsFile !== knownHostsPath) fs.rmSync(hostsFile, { force: true });
        }
      },
      async stop() {
        await daemon.stop('SIGTERM', 5000);
        cleanup.runNow();
      },
    };
    return server;
  } catch (error) {
    cleanup.runNow();
    throw error;
  }
}
