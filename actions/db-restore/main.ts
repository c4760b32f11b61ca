import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describeDatabase } from '../shared/database-url.js';
import { killRunningProcesses } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { openPlaces, runnerIO, type ActionIO } from '../db-backup/action-io.js';
import { PostCleanup } from '../db-backup/post-step.js';
import { fetchFromBucket, type FetchedBackup } from './bucket-source.js';
import { readRestoreInputs } from './inputs.js';
import { checkConfirmation, readDjangoDatabase, restoreBackup, restoreSummary } from './restore.js';

export async function restoreMain(io: ActionIO): Promise<void> {
  const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readRestoreInputs(io.inputs, io.setSecret, workspace, io.env);
  // Checked before any connection is opened: a wrong confirmation touches nothing. Django's database name is read
  // from Django first (no input holds it for sure), still before anything is written.
  if (inputs.engine !== 'django') checkConfirmation(inputs);
  if (inputs.database) io.info(`Target: ${describeDatabase(inputs.database)}`);
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
        folderMade: (folder) => cleanup.partial(folder),
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
      },
      {
        dumpHost: places.dumpHost,
        storeHost: places.storeHost,
        files: places.files,
        log: io.info,
        warn: io.warning,
        trackPartial: (path) => (places.files.remote ? undefined : cleanup.partial(path)),
        signal: cancel.signal,
      },
    );
    io.setOutput('restored-from', fetched?.url ?? result.path);
    io.setOutput('safety-backup-path', result.safetyBackup?.path ?? '');
    io.setOutput('format', result.format);
    io.setOutput('duration-ms', String(result.durationMs));
    io.info(`Restored ${fetched?.url ?? result.path} into '${result.database}'.`);
    await io.writeSummary(
      fetched
        ? restoreSummary({ ...result, path: `${fetched.url} (SHA-256 ${fetched.sha256} checked)` }, 'the bucket')
        : restoreSummary(result, places.files.where),
    );
  } finally {
    if (fetched) rmSync(fetched.folder, { recursive: true, force: true });
    unregister();
    await places.close();
  }
}

export const run = (io: ActionIO = runnerIO()): Promise<void> => runAction(() => restoreMain(io));
