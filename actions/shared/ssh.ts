import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ActionFailure, ConfigurationError } from './errors.js';
import { describeExit, runProcess, type ProcessOptions, type ProcessResult, type ProcessRunner } from './process.js';

export interface SshSettings {
  host: string;
  port: number;
  user: string;
  /** The private key text (from a secret). */
  privateKey: string;
  /** known_hosts lines for the host. */
  knownHosts?: string;
  /** A pinned host key fingerprint, 'SHA256:…' as `ssh-keygen -lf` prints it. */
  hostFingerprint?: string;
  /** Trust a host key seen for the first time. Only when the user explicitly asks. */
  acceptNew?: boolean;
  connectTimeoutSeconds?: number;
}

/** A command run on the server. `secrets` reach it on stdin (first lines), never in the remote command line. */
export interface RemoteCommand {
  script: string;
  secrets?: Record<string, string>;
  stdin?: string | Buffer | Readable;
  stdoutFile?: string;
  /** Or stream stdout into this writable (e.g. a pipe to another process). */
  stdoutStream?: import('node:stream').Writable;
  sha256?: boolean;
  signal?: AbortSignal;
}

/**
 * How long the master connection outlives its last command. Bounded, so a step killed before close() does not leave
 * a login open for good on the runner; a later command after an idle spell simply connects again.
 */
export const CONTROL_PERSIST_SECONDS = 120;

/** What a post step needs to close a master the main step may have left, and remove its key. */
export interface SshLeftover {
  directory: string;
  host: string;
  port: number;
  user: string;
}

/**
 * One multiplexed OpenSSH connection (ControlMaster): the handshake is paid once, every command after it reuses
 * the master socket. The key and known_hosts live in a private 0700 directory removed by close().
 */
export class SshConnection {
  private constructor(
    readonly settings: SshSettings,
    private readonly dir: string,
    private readonly run: ProcessRunner,
    /** How the host key was trusted, for the summary. */
    readonly hostKeyPolicy: string,
  ) {}

  static async open(settings: SshSettings, run: ProcessRunner = runProcess): Promise<SshConnection> {
    validateSettings(settings);
    // A short path: ControlPath must fit in a Unix socket name (about 100 bytes).
    const dir = mkdtempSync(join(tmpdir().length < 40 ? tmpdir() : '/tmp', 'rb-ssh-'));
    try {
      const key = settings.privateKey.replace(/\r\n/g, '\n').trimEnd() + '\n';
      writeFileSync(join(dir, 'key'), key, { mode: 0o600 });
      let policy: string;
      if (settings.knownHosts) {
        writeFileSync(join(dir, 'known_hosts'), settings.knownHosts.trimEnd() + '\n', { mode: 0o600 });
        policy = 'verified against ssh-known-hosts';
      } else if (settings.hostFingerprint) {
        const scan = await run('ssh-keyscan', [
          '-T',
          String(settings.connectTimeoutSeconds ?? 15),
          '-p',
          String(settings.port),
          settings.host,
        ]);
        const lines = keysMatchingFingerprint(scan.stdout, settings.hostFingerprint);
        if (lines.length === 0) {
          throw new ActionFailure(
            `The host key of ${settings.host}:${settings.port} does not match the pinned fingerprint ${settings.hostFingerprint}` +
              (scan.stdout.trim()
                ? ` (the server offers ${fingerprintsOf(scan.stdout).join(', ')})`
                : ' (no host key could be read)') +
              '; refusing to connect.',
          );
        }
        writeFileSync(join(dir, 'known_hosts'), lines.join('\n') + '\n', { mode: 0o600 });
        policy = `pinned fingerprint ${settings.hostFingerprint}`;
      } else {
        writeFileSync(join(dir, 'known_hosts'), '', { mode: 0o600 });
        policy = 'accept-new (trusted on first use, as asked)';
      }
      const connection = new SshConnection(settings, dir, run, policy);
      const master = await run('ssh', [
        ...connection.baseArgs(),
        '-o',
        'ControlMaster=yes',
        '-o',
        `ControlPersist=${CONTROL_PERSIST_SECONDS}`,
        '-f',
        '-N',
        connection.destination(),
      ]);
      if (master.code !== 0) throw new ActionFailure(connectionError(settings, master));
      return connection;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The private directory (key, known_hosts, ControlPath socket ctl), for a post step that cleans up. */
  get directory(): string {
    return this.dir;
  }

  /** Saved by a main step (core.saveState) for its post step. */
  leftover(): SshLeftover {
    const { host, port, user } = this.settings;
    return { directory: this.dir, host, port, user };
  }

  /**
   * In a post step: the connection a killed main step left, to run a last command through its master (or a new
   * login with the same key) and close. undefined when there is nothing left (the main step closed it itself).
   */
  static fromLeftover(leftover: SshLeftover, run: ProcessRunner = runProcess): SshConnection | undefined {
    if (!existsSync(leftover.directory)) return undefined;
    const { directory, ...where } = leftover;
    return new SshConnection({ ...where, privateKey: '' }, directory, run, '');
  }

  /** In a post step: closes the master a killed main step left and removes its key directory; false if none. */
  static async closeLeftover(leftover: SshLeftover, run: ProcessRunner = runProcess): Promise<boolean> {
    const connection = SshConnection.fromLeftover(leftover, run);
    await connection?.close();
    return connection !== undefined;
  }

  /** Common options: the key, known_hosts, no prompts, and the multiplexing socket. */
  private baseArgs(): string[] {
    const s = this.settings;
    return [
      '-F',
      '/dev/null',
      '-p',
      String(s.port),
      '-i',
      join(this.dir, 'key'),
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${join(this.dir, 'known_hosts')}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      `StrictHostKeyChecking=${s.acceptNew ? 'accept-new' : 'yes'}`,
      '-o',
      `ConnectTimeout=${s.connectTimeoutSeconds ?? 15}`,
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ServerAliveCountMax=4',
      '-o',
      'LogLevel=ERROR',
      '-o',
      `ControlPath=${join(this.dir, 'ctl')}`,
    ];
  }

  private destination(): string {
    return `${this.settings.user}@${this.settings.host}`;
  }

  /** Runs a POSIX sh script on the server with `set -eu`: any failing command fails the whole script. */
  async exec(command: RemoteCommand): Promise<ProcessResult> {
    const names = Object.keys(command.secrets ?? {});
    for (const [name, value] of Object.entries(command.secrets ?? {})) {
      // Any name a POSIX shell can `read` and `export`, lower-case included (an app's .env may use them).
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid secret variable name ${name}`);
      if (value.includes('\n'))
        throw new ConfigurationError(`A secret sent over SSH (${name}) cannot contain a new line.`);
    }
    // Each secret is one stdin line read by the remote shell before the script runs; the rest of stdin follows.
    const prologue = names.map((n) => `IFS= read -r ${n}; export ${n}`).join('\n');
    const remote = `exec sh -c ${shellQuote(`set -eu\n${prologue}\n${command.script}`)}`;
    const head = names.map((n) => `${command.secrets![n]}\n`).join('');
    const options: ProcessOptions = {
      signal: command.signal,
      stdoutFile: command.stdoutFile,
      stdoutStream: command.stdoutStream,
      sha256: command.sha256,
    };
    options.stdin = joinStdin(head, command.stdin);
    return this.run('ssh', [...this.baseArgs(), '-o', 'ControlMaster=no', this.destination(), remote], options);
  }

  /** Like exec, but a non-zero exit throws with the script's stderr tail. Returns stdout. */
  async check(script: string, what: string, secrets?: Record<string, string>): Promise<string> {
    const result = await this.exec({ script, secrets });
    if (result.code !== 0)
      throw new ActionFailure(`${what} on ${this.settings.host} failed: ${describeExit('the remote command', result)}`);
    return result.stdout;
  }

  /** Closes the master connection and removes the key. Safe to call twice. */
  async close(): Promise<void> {
    try {
      await this.run('ssh', [...this.baseArgs(), '-O', 'exit', this.destination()]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

function joinStdin(head: string, rest: RemoteCommand['stdin']): string | Buffer | Readable | undefined {
  if (rest === undefined) return head === '' ? undefined : head;
  if (head === '') return rest;
  if (typeof rest === 'string' || Buffer.isBuffer(rest)) return Buffer.concat([Buffer.from(head), Buffer.from(rest)]);
  return Readable.from(
    (async function* () {
      yield Buffer.from(head);
      for await (const chunk of rest) yield chunk as Buffer;
    })(),
  );
}

function validateSettings(s: SshSettings): void {
  if (!s.host) throw new ConfigurationError(`Input 'ssh-host' is required for an SSH connection.`);
  if (!/^[A-Za-z0-9._:-]+$/.test(s.host) || s.host.startsWith('-')) {
    throw new ConfigurationError(`Input 'ssh-host' must be a host name or IP address; got '${s.host}'.`);
  }
  if (!s.user || !/^[A-Za-z0-9._][A-Za-z0-9._-]*$/.test(s.user)) {
    throw new ConfigurationError(`Input 'ssh-user' must be a user name (letters, digits, . _ -); got '${s.user}'.`);
  }
  if (!s.privateKey.includes('PRIVATE KEY')) {
    throw new ConfigurationError(
      `Input 'ssh-private-key' must be an OpenSSH or PEM private key (the text of the file).`,
    );
  }
  if (!s.knownHosts && !s.hostFingerprint && !s.acceptNew) {
    throw new ConfigurationError(
      `SSH host keys are verified: set 'ssh-known-hosts' (known_hosts lines) or 'ssh-host-fingerprint' (SHA256:…), or 'ssh-accept-new-host-key: true' to trust a first-seen key.`,
    );
  }
  if (s.hostFingerprint && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(s.hostFingerprint)) {
    throw new ConfigurationError(
      `Input 'ssh-host-fingerprint' must look like SHA256:<43 base64 characters> (as 'ssh-keygen -lf' prints); got '${s.hostFingerprint}'.`,
    );
  }
}

/** 'SHA256:…' of a key blob, as OpenSSH prints it (unpadded base64 of the SHA-256 of the decoded key). */
export function fingerprintOf(base64Key: string): string {
  return 'SHA256:' + createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '');
}

function fingerprintsOf(scan: string): string[] {
  return knownHostsEntries(scan).map((e) => fingerprintOf(e.key));
}

function knownHostsEntries(text: string): { line: string; key: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({ line, key: line.split(/\s+/)[2] ?? '' }))
    .filter((e) => e.key !== '');
}

/** The ssh-keyscan lines whose key has the pinned fingerprint: only those become known_hosts. */
export function keysMatchingFingerprint(scan: string, fingerprint: string): string[] {
  const wanted = fingerprint.replace(/=+$/, '');
  return knownHostsEntries(scan)
    .filter((e) => fingerprintOf(e.key) === wanted)
    .map((e) => e.line);
}

/** A word the POSIX shell reads back exactly. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function connectionError(s: SshSettings, result: ProcessResult): string {
  const tail = result.stderrTail;
  const where = `${s.user}@${s.host}:${s.port}`;
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/i.test(tail)) {
    return `SSH to ${where} refused: the server's host key is not the one in ssh-known-hosts (host key verification failed).`;
  }
  if (/Permission denied/i.test(tail))
    return `SSH to ${where} refused the key from 'ssh-private-key' (permission denied).`;
  if (/timed out|Connection refused|No route|Could not resolve|Name or service not known/i.test(tail)) {
    return `Cannot reach ${where} over SSH: ${tail.trim().split('\n').at(-1)}`;
  }
  return `SSH to ${where} failed: ${describeExit('ssh', result)}`;
}
