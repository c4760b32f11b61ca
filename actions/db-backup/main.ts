import { rmSync } from 'node:fs';
import { describeDatabase } from '../shared/database-url.js';
import { killRunningProcesses } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { artifactSummaryRow, checkArtifactAllowed, repositoryVisibility, uploadBackup } from './artifact.js';
import { restoreCommand, takeBackup, type BackupResult } from './backup.js';
import { readBackupInputs } from './inputs.js';
import { PostCleanup } from './post-step.js';
import { actionRef, openPlaces, runnerIO, type ActionIO } from './action-io.js';

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
  // A killed step runs no finally: its post step closes the SSH master and removes the key and partial files.
  const cleanup = new PostCleanup(io.saveState);
  const places = await openPlaces(inputs, { ...io, cleanup });
  // Every partial file the backup has made (the plain dump and, when encrypting, the encrypted one at once).
  const partials = new Set<string>();
  const cancel = new AbortController();
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const unregister = io.onCancel(() => {
    io.warning('Cancelled: stopping the dump and removing the partial file.');
    cancel.abort();
    killRunningProcesses('SIGTERM');
    if (!places.files.remote) for (const path of partials) rmSync(path, { force: true });
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
        trackPartial: (path) => {
          if (path === undefined) partials.clear();
          else partials.add(path);
          if (!places.files.remote) cleanup.partial(path);
        },
        signal: cancel.signal,
      },
    );
    const command = restoreCommand(result, actionRef(io.env, 'db-restore'), inputs.ssh);
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
