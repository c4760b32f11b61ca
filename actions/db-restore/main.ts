import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describeDatabase } from '../shared/database-url.js';
import { ActionFailure, errorMessage } from '../shared/errors.js';
import { openObjectStore, type ObjectStore } from '../shared/object-store.js';
import { killRunningProcesses } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { openPlaces, runnerIO, type ActionIO } from '../db-backup/action-io.js';
import {
  artifactSummaryRow,
  checkArtifactAllowed,
  repositoryVisibility,
  uploadBackup,
  type UploadedArtifact,
} from '../db-backup/artifact.js';
import type { BackupEdges, BackupRequest, BackupResult } from '../db-backup/backup.js';
import { copyBackupToBucket, namesIn, type BucketCopy } from '../db-backup/bucket-backup.js';
import { PostCleanup, uploadLeftover } from '../db-backup/post-step.js';
import { fetchFromBucket, type FetchedBackup } from './bucket-source.js';
import { readRestoreInputs, type RestoreInputs } from './inputs.js';
import { checkConfirmation, readDjangoDatabase, restoreBackup, restoreSummary } from './restore.js';

export async function restoreMain(io: ActionIO): Promise<void> {
  const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readRestoreInputs(io.inputs, io.setSecret, workspace, io.env);
  // Checked before any connection is opened: a wrong confirmation touches nothing. Django's database name is read
  // from Django first (no input holds it for sure), still before anything is written.
  if (inputs.engine !== 'django') checkConfirmation(inputs);
  checkArtifactAllowed(inputs.safetyArtifact, {
    visibility: repositoryVisibility(io.env.GITHUB_EVENT_PATH),
    encrypted: Boolean(inputs.passphrase),
    storage: inputs.storage,
    env: io.env,
    input: 'safety-upload-artifact',
  });
  if (inputs.safetyArtifact && io.env.ACTIONS_RUNTIME_TOKEN) io.setSecret(io.env.ACTIONS_RUNTIME_TOKEN);
  if (inputs.database) io.info(`Target: ${describeDatabase(inputs.database)}`);
  // The safety bucket is checked (reachable, credentials, bucket exists, listable) before anything is touched.
  let safetyStore: ObjectStore | undefined;
  let safetyTakenNames: string[] | undefined;
  if (inputs.safetyBucket) {
    safetyStore = await openObjectStore(inputs.safetyBucket);
    safetyTakenNames = namesIn(await safetyStore.list());
    io.info(`Bucket ${safetyStore.where} for the safety backup is reachable.`);
  }
  // A killed step runs no finally: its post step closes the SSH master and removes the key and partial files.
  const cleanup = new PostCleanup(io.saveState);
  const places = await openPlaces(inputs, { ...io, cleanup });
  const cancel = new AbortController();
  const unregister = io.onCancel(() => {
    io.warning('Cancelled: stopping the restore.');
    cancel.abort();
    killRunningProcesses('SIGTERM');
  });
  let fetched: FetchedBackup | undefined;
  const kept = new SafetyPlaces(inputs, io, safetyStore, cleanup);
  try {
    const djangoDatabase = inputs.engine === 'django' ? await readDjangoDatabase(inputs, places.dumpHost) : undefined;
    checkConfirmation({ ...inputs, djangoDatabase });
    // Downloaded and checked against its recorded SHA-256 before the safety backup or anything else happens.
    if (inputs.bucket) {
      fetched = await fetchFromBucket(inputs.bucket, {
        prefix: inputs.prefix,
        now: io.now(),
        tempRoot: io.env.RUNNER_TEMP || tmpdir(),
        log: io.info,
        signal: cancel.signal,
        // The download (and the folder holding it) is the post step's to remove if this step is killed.
        folderMade: (folder) => cleanup.folder(folder),
      });
    }
    const result = await restoreBackup(
      {
        engine: inputs.engine,
        database: inputs.database,
        databaseUrl: inputs.databaseUrl,
        django: inputs.django,
        backup: fetched?.path ?? inputs.backup,
        directory: inputs.directory,
        prefix: inputs.prefix,
        confirm: inputs.confirm,
        skipSafetyBackup: inputs.skipSafetyBackup,
        safetyDirectory: inputs.safetyDirectory,
        safetyDirectoryInput: inputs.safetyDirectoryInput,
        passphrase: inputs.passphrase,
        sha: inputs.sha,
        now: io.now(),
        postgresClientRoot: inputs.postgresClientRoot,
        djangoDatabase,
        safetyTakenNames,
      },
      {
        dumpHost: places.dumpHost,
        storeHost: places.storeHost,
        files: places.files,
        log: io.info,
        warn: io.warning,
        trackPartial: (path) => (places.files.remote ? cleanup.serverPartial(path) : cleanup.partial(path)),
        signal: cancel.signal,
        keepSafetyBackup: (backup, request, edges) => kept.keep(backup, request, edges),
      },
    );
    io.setOutput('restored-from', fetched?.url ?? result.path);
    io.setOutput('safety-backup-path', result.safetyBackup?.path ?? '');
    io.setOutput('format', result.format);
    io.setOutput('duration-ms', String(result.durationMs));
    io.info(`Restored ${fetched?.url ?? result.path} into '${result.database}'.`);
    await io.writeSummary(
      fetched
        ? restoreSummary(
            { ...result, path: `${fetched.url} (SHA-256 ${fetched.sha256} checked)` },
            'the bucket',
            kept.summaryRows(),
          )
        : restoreSummary(result, places.files.where, kept.summaryRows()),
    );
  } finally {
    if (fetched) rmSync(fetched.folder, { recursive: true, force: true });
    unregister();
    await places.close();
  }
}

/**
 * The further places the safety backup is kept in before anything is restored (the file stays where it was taken):
 * a bucket, where the copy is checked against the file's SHA-256, and a workflow artifact of this run. The
 * workspace of a hosted runner goes with the job; these outlive it.
 */
class SafetyPlaces {
  private copy?: BucketCopy;
  private artifact?: UploadedArtifact;

  constructor(
    private readonly inputs: RestoreInputs,
    private readonly io: ActionIO,
    private readonly store: ObjectStore | undefined,
    private readonly cleanup: PostCleanup,
  ) {}

  async keep(backup: BackupResult, request: BackupRequest, edges: BackupEdges): Promise<void> {
    const { io, store } = this;
    io.setOutput('safety-backup-path', backup.path);
    const failed = (where: string, error: unknown) => {
      const reason = errorMessage(error).replace(/\.*$/, '.');
      return new ActionFailure(
        `The safety backup ${backup.path} (on ${backup.where}) is verified, but keeping it in ${where} failed: ${reason} Nothing was restored.`,
      );
    };
    if (store) {
      try {
        this.copy = await copyBackupToBucket(
          backup,
          request,
          {
            ...edges,
            // A killed step's post step aborts the multipart upload.
            trackUpload: (upload) => this.cleanup.uploading(upload && uploadLeftover(store.settings, upload)),
          },
          store,
        );
      } catch (error) {
        throw failed(store.where, error);
      }
      io.setOutput('safety-backup-url', this.copy.url);
      io.info(`Safety backup copied to ${this.copy.url}: ${this.copy.verification}.`);
    }
    if (this.inputs.safetyArtifact) {
      try {
        // Loaded only when asked: the artifact client is most of db-backup's bundle.
        const uploader = io.artifacts ?? (await import('../db-backup/artifact-client.js')).sdkUploader();
        this.artifact = await uploadBackup(this.inputs.safetyArtifact, backup, uploader);
      } catch (error) {
        throw failed('a workflow artifact', error);
      }
      io.setOutput('safety-artifact-id', String(this.artifact.id));
      io.info(`Uploaded the safety backup as artifact ${this.artifact.name} (id ${this.artifact.id}).`);
    }
  }

  summaryRows(): [string, string][] {
    const rows: [string, string][] = [];
    if (this.copy)
      rows.push([
        'Safety backup in the bucket',
        `\`${this.copy.url}\` (${this.copy.sizeBytes} bytes, same SHA-256), ${this.copy.verification}`,
      ]);
    if (this.artifact) rows.push(['Safety backup artifact', artifactSummaryRow(this.artifact, this.io.env)[1]]);
    return rows;
  }
}

export const run = (io: ActionIO = runnerIO()): Promise<void> => runAction(() => restoreMain(io));
