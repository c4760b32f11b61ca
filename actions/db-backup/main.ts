import * as core from '@actions/core';
import { rmSync } from 'node:fs';
import { describeDatabase } from '../shared/database-url.js';
import { environmentInputs, type InputSource } from '../shared/inputs.js';
import { killRunningProcesses, runProcess, type ProcessRunner } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { SshConnection } from '../shared/ssh.js';
import {
  artifactSummaryRow,
  checkArtifactAllowed,
  repositoryVisibility,
  uploadBackup,
  type ArtifactUploader,
} from './artifact.js';
import { restoreCommand, takeBackup, type BackupResult } from './backup.js';
import { readBackupInputs, type BackupInputs } from './inputs.js';
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
  io: Pick<ActionIO, 'runner' | 'info'>,
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
  const repo = env.GITHUB_ACTION_REPOSITORY || 'runbook/runbook';
  const ref = env.GITHUB_ACTION_REF || 'v1';
  return `${repo}/actions/${name}@${ref}`;
}

export async function backupMain(io: ActionIO): Promise<void> {
  const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readBackupInputs(io.inputs, io.setSecret, workspace);
  checkArtifactAllowed(inputs.artifact, {
    visibility: repositoryVisibility(io.env.GITHUB_EVENT_PATH),
    encrypted: Boolean(inputs.passphrase),
    storage: inputs.storage,
    env: io.env,
  });
  if (inputs.artifact && io.env.ACTIONS_RUNTIME_TOKEN) io.setSecret(io.env.ACTIONS_RUNTIME_TOKEN);
  if (inputs.database) io.info(`Backing up ${describeDatabase(inputs.database)}`);
  const places = await openPlaces(inputs, io);
  let partial: string | undefined;
  const cancel = new AbortController();
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const unregister = io.onCancel(() => {
    io.warning('Cancelled: stopping the dump and removing the partial file.');
    cancel.abort();
    killRunningProcesses('SIGTERM');
    if (partial && !places.files.remote) rmSync(partial, { force: true });
    // The flow normally unwinds once its child is gone; if something is stuck, do not outlive the cancellation.
    deadline = setTimeout(() => process.exit(1), 5000);
    deadline.unref();
  });
  try {
    await places.files.prepareDirectory(inputs.directory, 'directory');
    const result = await takeBackup(
      {
        engine: inputs.engine,
        database: inputs.database,
        postgresFormat: inputs.format,
        directory: inputs.directory,
        prefix: inputs.prefix,
        sha: inputs.sha,
        now: io.now(),
        keepDays: inputs.keepDays,
        keepCount: inputs.keepCount,
        verify: inputs.verify,
        passphrase: inputs.passphrase,
        django: inputs.django && { ...inputs.django, databaseUrl: inputs.databaseUrl },
        postgresClientRoot: inputs.postgresClientRoot,
      },
      {
        dumpHost: places.dumpHost,
        storeHost: places.storeHost,
        files: places.files,
        log: io.info,
        warn: io.warning,
        trackPartial: (path) => (partial = path),
        signal: cancel.signal,
      },
    );
    const command = restoreCommand(result, actionRef(io.env, 'db-restore'));
    const outputs: Record<string, string> = {
      path: result.path,
      'size-bytes': String(result.sizeBytes),
      sha256: result.sha256,
      format: result.format,
      'server-version': result.serverVersion,
      'duration-ms': String(result.durationMs),
      'restore-command': command,
    };
    for (const [name, value] of Object.entries(outputs)) io.setOutput(name, value);
    io.info(
      `Backup ${result.path} (${result.sizeBytes} bytes, sha256 ${result.sha256}) verified: ${result.verification}.`,
    );
    const extraRows: [string, string][] = [];
    if (inputs.artifact) {
      // Loaded only when asked: the client is most of the bundle, and db-restore and deploy import this module.
      const uploader = io.artifacts ?? (await import('./artifact-client.js')).sdkUploader();
      const artifact = await uploadBackup(inputs.artifact, result, uploader);
      io.setOutput('artifact-id', String(artifact.id));
      io.info(`Uploaded ${result.path} as artifact ${artifact.name} (id ${artifact.id}).`);
      extraRows.push(artifactSummaryRow(artifact, io.env));
    }
    await io.writeSummary(backupSummary(result, inputs.sha, command, places.hostKeyPolicy, extraRows));
  } finally {
    clearTimeout(deadline);
    unregister();
    await places.close();
  }
}

export function backupSummary(
  result: BackupResult,
  sha: string,
  command: string,
  hostKeyPolicy?: string,
  extraRows: [string, string][] = [],
): string {
  const rows: [string, string][] = [
    ['File', `\`${result.path}\` (on ${result.where})`],
    ['Protects commit', sha ? `\`${sha.slice(0, 12)}\`` : '(none given)'],
    ['Format', `${result.format}${result.encrypted ? ', encrypted (AES-256-CBC, PBKDF2)' : ''}`],
    ['Size', `${result.sizeBytes} bytes`],
    ['SHA-256', `\`${result.sha256}\``],
    ['Server version', result.serverVersion || '(not read)'],
    ['Client', result.client],
    ['Verification', result.verification],
    ['Duration', `${result.durationMs} ms`],
    [
      'Retention',
      result.deleted.length ? `deleted ${result.deleted.map((f) => `\`${f}\``).join(', ')}` : 'nothing to delete',
    ],
  ];
  if (hostKeyPolicy) rows.push(['SSH host key', hostKeyPolicy]);
  rows.push(...extraRows);
  return [
    '## Database backup',
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
    '',
    '<details><summary>Restore this backup</summary>',
    '',
    '```yaml',
    command,
    '```',
    '',
    '</details>',
    '',
  ].join('\n');
}

export const run = (io: ActionIO = runnerIO()): Promise<void> => runAction(() => backupMain(io));
