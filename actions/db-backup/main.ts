import { rmSync } from 'node:fs';
import { describeDatabase } from '../shared/database-url.js';
import { untrustedText } from '../shared/untrusted-text.js';
import { killRunningProcesses } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { artifactSummaryRow, checkArtifactAllowed, repositoryVisibility, uploadBackup } from './artifact.js';
import { ActionFailure } from '../shared/errors.js';
import { objectUrl, openObjectStore, type ObjectStore, type StoredObject } from '../shared/object-store.js';
import { applyRetention, restoreCommand, takeBackup, type BackupRequest, type BackupResult } from './backup.js';
import {
  applyBucketRetention,
  copyBackupToBucket,
  namesIn,
  streamBackupToBucket,
  type BucketCopy,
} from './bucket-backup.js';
import { readBackupInputs } from './inputs.js';
import { PostCleanup, uploadLeftover } from './post-step.js';
import { actionRef, openPlaces, runnerIO, type ActionIO } from './action-io.js';

export async function backupMain(io: ActionIO): Promise<void> {
  const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readBackupInputs(io.inputs, io.setSecret, workspace, io.env);
  checkArtifactAllowed(inputs.artifact, {
    visibility: repositoryVisibility(io.env.GITHUB_EVENT_PATH),
    encrypted: Boolean(inputs.passphrase),
    storage: inputs.storage,
    env: io.env,
  });
  if (inputs.artifact && io.env.ACTIONS_RUNTIME_TOKEN) io.setSecret(io.env.ACTIONS_RUNTIME_TOKEN);
  if (inputs.database) io.info(`Backing up ${describeDatabase(inputs.database)}`);
  // The bucket is checked (reachable, credentials, bucket exists, listable) before anything is dumped or deleted.
  let store: ObjectStore | undefined;
  let inBucket: StoredObject[] = [];
  if (inputs.bucket) {
    store = await openObjectStore(inputs.bucket);
    inBucket = await store.list();
    io.info(
      `Bucket ${store.where} is reachable (${inBucket.length} ${inBucket.length === 1 ? 'object' : 'objects'} under the prefix).`,
    );
  }
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
    if (inputs.keepFile) await places.files.prepareDirectory(inputs.directory, 'directory');
    const request: BackupRequest = {
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
      takenNames: namesIn(inBucket),
      // With a second place, nothing is deleted anywhere until both hold a verified copy.
      deferRetention: store !== undefined,
    };
    const edges = {
      dumpHost: places.dumpHost,
      storeHost: places.storeHost,
      files: places.files,
      log: io.info,
      warn: io.warning,
      trackPartial: (path: string | undefined) => {
        if (path === undefined) partials.clear();
        else partials.add(path);
        if (places.files.remote) cleanup.serverPartial(path);
        else cleanup.partial(path);
      },
      trackUpload: (upload: { key: string; uploadId: string } | undefined) => {
        if (upload && store)
          io.info(
            `Multipart upload ${untrustedText(upload.uploadId)} created for ${objectUrl({ bucket: store.settings.bucket, prefix: upload.key })}; if this step is killed, its post step aborts it.`,
          );
        cleanup.uploading(upload && store && uploadLeftover(store.settings, upload));
      },
      signal: cancel.signal,
    };
    let result: BackupResult;
    let copy: BucketCopy | undefined;
    if (!store) {
      result = await takeBackup(request, edges);
    } else if (!inputs.keepFile) {
      result = await streamBackupToBucket(request, edges, store, inBucket);
    } else {
      result = await takeBackup(request, edges);
      try {
        copy = await copyBackupToBucket(result, request, edges, store);
      } catch (error) {
        throw new ActionFailure(
          `The backup ${result.path} on ${result.where} is verified and kept, but the copy to ${store.where} failed: ${(error as Error).message} Nothing was deleted by retention.`,
        );
      }
      io.info(`Copied to ${copy.url}: ${copy.verification}.`);
      io.setOutput('bucket-url', copy.url);
      result.deleted = await applyRetention(request, result.file, edges, true);
    }
    if (store) {
      const deleted = await applyBucketRetention(request, result.file, store, io.info);
      if (copy) copy.deleted = deleted;
      else result.deleted = deleted;
      if (!copy) io.setOutput('bucket-url', result.path);
    }
    const command = restoreCommand(result, actionRef(io.env, 'db-restore'), inputs.ssh, store?.settings);
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
    if (copy) extraRows.push(...bucketRows(copy));
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

function bucketRows(copy: BucketCopy): [string, string][] {
  return [
    ['Bucket copy', `\`${copy.url}\` (${copy.sizeBytes} bytes, same SHA-256), ${copy.verification}`],
    [
      'Retention (bucket)',
      copy.deleted.length ? `deleted ${copy.deleted.map((f) => `\`${f}\``).join(', ')}` : 'nothing to delete',
    ],
  ];
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
