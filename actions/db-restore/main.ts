import { describeDatabase } from '../shared/database-url.js';
import { killRunningProcesses } from '../shared/process.js';
import { runAction } from '../shared/run-action.js';
import { openPlaces, runnerIO, type ActionIO } from '../db-backup/action-io.js';
import { PostCleanup } from '../db-backup/post-step.js';
import { readRestoreInputs } from './inputs.js';
import { checkConfirmation, readDjangoDatabase, restoreBackup, restoreSummary } from './restore.js';

export async function restoreMain(io: ActionIO): Promise<void> {
  const workspace = io.env.GITHUB_WORKSPACE || process.cwd();
  const inputs = readRestoreInputs(io.inputs, io.setSecret, workspace);
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
  try {
    const djangoDatabase = inputs.engine === 'django' ? await readDjangoDatabase(inputs, places.dumpHost) : undefined;
    checkConfirmation({ ...inputs, djangoDatabase });
    const result = await restoreBackup(
      {
        engine: inputs.engine,
        database: inputs.database,
        databaseUrl: inputs.databaseUrl,
        django: inputs.django,
        backup: inputs.backup,
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
    io.setOutput('restored-from', result.path);
    io.setOutput('safety-backup-path', result.safetyBackup?.path ?? '');
    io.setOutput('format', result.format);
    io.setOutput('duration-ms', String(result.durationMs));
    io.info(`Restored ${result.path} into '${result.database}'.`);
    await io.writeSummary(restoreSummary(result, places.files.where));
  } finally {
    unregister();
    await places.close();
  }
}

export const run = (io: ActionIO = runnerIO()): Promise<void> => runAction(() => restoreMain(io));
