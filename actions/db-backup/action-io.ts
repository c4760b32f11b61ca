// The runner-facing edges of db-backup, shared with db-restore and deploy. Kept apart from main.ts so that their
// bundles do not pull in main's lazily loaded artifact client.
import * as core from '../shared/runner-commands.js';
import { environmentInputs, type InputSource } from '../shared/inputs.js';
import { runProcess, type ProcessRunner } from '../shared/process.js';
import { SshConnection } from '../shared/ssh.js';
import type { ArtifactUploader } from './artifact.js';
import type { BackupInputs } from './inputs.js';
import type { PostCleanup } from './post-step.js';
import { LocalFiles, LocalHost, RemoteFiles, SshHost, type CommandHost, type FileStore } from './places.js';

/** The runner-facing edges, injected so the whole flow runs in-process in tests. */
export interface ActionIO {
  inputs: InputSource;
  setSecret: (secret: string) => void;
  setOutput: (name: string, value: string) => void;
  info: (message: string) => void;
  warning: (message: string) => void;
  writeSummary: (markdown: string) => Promise<void>;
  runner: ProcessRunner;
  now: () => Date;
  env: Record<string, string | undefined>;
  /** Registers what to do when the job is cancelled (SIGINT/SIGTERM); returns an unregister function. */
  onCancel: (handler: () => void) => () => void;
  /** Keeps a value for the post step (core.saveState); the post step cleans up after a killed main step. */
  saveState?: (name: string, value: string) => void;
  /** The workflow artifact service (default: the official client, which reads ACTIONS_RESULTS_URL). */
  artifacts?: ArtifactUploader;
}

export const runnerIO = (): ActionIO => ({
  inputs: environmentInputs,
  setSecret: core.setSecret,
  setOutput: core.setOutput,
  info: core.info,
  warning: core.warning,
  writeSummary: async (markdown) => {
    await core.summary.addRaw(markdown, true).write();
  },
  runner: runProcess,
  saveState: core.saveState,
  now: () => new Date(),
  env: process.env,
  onCancel: (handler) => {
    const listener = () => handler();
    process.on('SIGINT', listener);
    process.on('SIGTERM', listener);
    return () => {
      process.off('SIGINT', listener);
      process.off('SIGTERM', listener);
    };
  },
});

/** Opens where the dump runs and where the file goes: the runner, or a server over SSH (streamed back or kept). */
export async function openPlaces(
  inputs: Pick<BackupInputs, 'ssh'> & { storage: 'runner' | 'server' },
  io: Pick<ActionIO, 'runner' | 'info'> & { cleanup?: PostCleanup },
): Promise<{
  dumpHost: CommandHost;
  storeHost: CommandHost;
  files: FileStore;
  close: () => Promise<void>;
  hostKeyPolicy?: string;
}> {
  const local = new LocalHost(io.runner);
  if (!inputs.ssh) return { dumpHost: local, storeHost: local, files: new LocalFiles(), close: async () => undefined };
  const ssh = await SshConnection.open(inputs.ssh, io.runner);
  io.cleanup?.sshOpened(ssh.leftover());
  io.info(`Connected to ${inputs.ssh.user}@${inputs.ssh.host}:${inputs.ssh.port} (host key ${ssh.hostKeyPolicy}).`);
  const remote = new SshHost(ssh);
  const server = inputs.storage === 'server';
  return {
    dumpHost: remote,
    storeHost: server ? remote : local,
    files: server ? new RemoteFiles(remote) : new LocalFiles(),
    close: () => ssh.close(),
    hostKeyPolicy: ssh.hostKeyPolicy,
  };
}

export function actionRef(env: Record<string, string | undefined>, name: string): string {
  // Unset when the action runs from a local path (the demo): the README's placeholder, not a made-up owner.
  const repo = env.GITHUB_ACTION_REPOSITORY || '<owner>/runbook';
  const ref = env.GITHUB_ACTION_REF || 'v1';
  return `${repo}/actions/${name}@${ref}`;
}
