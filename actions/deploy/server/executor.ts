import type { Readable, Writable } from 'node:stream';
import {
  LocalFiles,
  LocalHost,
  RemoteFiles,
  SshHost,
  type CommandHost,
  type FileStore,
} from '../../db-backup/places.js';
import { runProcess, type ProcessRunner } from '../../shared/process.js';
import { SshConnection, type SshSettings } from '../../shared/ssh.js';

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ScriptOptions {
  stdin?: string | Readable;
  /** Variables the script needs that are secret: process env locally, stdin lines over SSH; never argv. */
  secrets?: Record<string, string>;
  signal?: AbortSignal;
  /** stdout streamed here as it arrives (e.g. the lock holder's "acquired" line); the result's stdout is then empty. */
  stdoutStream?: Writable;
}

/** Where the phase scripts run: this machine (target local) or one server over one SSH master connection. */
export interface HostExecutor {
  /** For logs and the summary: 'local' or 'deploy@web1:22'. */
  readonly label: string;
  /** Runs a POSIX shell script with `set -eu`. Never throws for a failing script: the result says so. */
  run(script: string, options?: ScriptOptions): Promise<ScriptResult>;
  /** Where the pre-migration backup runs and is kept (the db-backup code's edges), on this host. */
  backupPlace(): { host: CommandHost; files: FileStore };
  /** What the post step needs to clean up if the main step dies: the private SSH directory. */
  postState(): { label: string; sshDirectory?: string; ssh?: Pick<SshSettings, 'host' | 'port' | 'user'> };
  /** How the host key was trusted, for the summary. */
  readonly hostKeyPolicy?: string;
  close(): Promise<void>;
}

/** Runs the scripts with bash on the runner itself: the same release logic as on a server. */
export class LocalExecutor implements HostExecutor {
  readonly label = 'local';

  constructor(private readonly runner: ProcessRunner = runProcess) {}

  async run(script: string, options: ScriptOptions = {}): Promise<ScriptResult> {
    const result = await this.runner('bash', ['-c', `set -eu\n${script}`], {
      env: options.secrets,
      stdin: options.stdin,
      signal: options.signal,
      stdoutStream: options.stdoutStream,
      stderrTailBytes: 16384,
    });
    return { code: result.code, stdout: result.stdout, stderr: result.stderrTail };
  }

  backupPlace(): { host: CommandHost; files: FileStore } {
    return { host: new LocalHost(this.runner), files: new LocalFiles() };
  }

  postState(): { label: string } {
    return { label: this.label };
  }

  async close(): Promise<void> {
    // Nothing to close: every script was its own process.
  }
}

/** One server through one ControlMaster connection (actions/shared/ssh.ts): the handshake is paid once. */
export class SshExecutor implements HostExecutor {
  readonly label: string;
  readonly hostKeyPolicy: string;

  private constructor(private readonly connection: SshConnection) {
    const s = connection.settings;
    this.label = `${s.user}@${s.host}:${s.port}`;
    this.hostKeyPolicy = connection.hostKeyPolicy;
  }

  /** Connects and verifies the host key; throws before anything runs on the server if the key does not match. */
  static async open(settings: SshSettings, runner: ProcessRunner = runProcess): Promise<SshExecutor> {
    return new SshExecutor(await SshConnection.open(settings, runner));
  }

  async run(script: string, options: ScriptOptions = {}): Promise<ScriptResult> {
    const result = await this.connection.exec({
      script,
      stdin: options.stdin,
      secrets: options.secrets,
      signal: options.signal,
      stdoutStream: options.stdoutStream,
    });
    return { code: result.code, stdout: result.stdout, stderr: result.stderrTail };
  }

  backupPlace(): { host: CommandHost; files: FileStore } {
    const host = new SshHost(this.connection);
    return { host, files: new RemoteFiles(host) };
  }

  postState(): { label: string; sshDirectory?: string; ssh: Pick<SshSettings, 'host' | 'port' | 'user'> } {
    const { host, port, user } = this.connection.settings;
    return { label: this.label, sshDirectory: this.connection.directory, ssh: { host, port, user } };
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
