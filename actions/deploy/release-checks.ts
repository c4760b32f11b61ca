import { actionRef } from '../db-backup/action-io.js';
import { restoreCommand, takeBackup } from '../db-backup/backup.js';
import type { CommandHost, FileStore } from '../db-backup/places.js';
import type { DatabaseTarget } from '../shared/database-url.js';
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../smoke-check/check-spec.js';
import { defaultEngineDeps, runChecks } from '../smoke-check/engine.js';

/** What the runner edges of both targets (servers and Heroku) do the same way. */

export interface HealthResult {
  ok: boolean;
  reason: string;
}

/** The health gate: the smoke-check engine, until `timeoutMs`, expecting `expectCommit` in /health's JSON `commit`. */
export async function checkReleaseHealth(
  url: string,
  expectCommit: string,
  timeoutMs: number,
  log: (line: string) => void,
): Promise<HealthResult> {
  const options = { ...DEFAULT_RUN_OPTIONS, deadlineMs: timeoutMs };
  const check = defineCheck({ url, expectVersion: expectCommit, versionFrom: versionSource('json:$.commit') });
  const report = await runChecks([check], options, defaultEngineDeps(options, log));
  return { ok: report.healthy, reason: report.results[0]?.reason ?? 'no result' };
}

export interface BackupOutcome {
  path: string;
  restoreCommand: string;
}

/**
 * The pre-migration backup, with the db-backup code: PostgreSQL in custom format, verified as an archive, named
 * after the database and the commit, no retention (a deploy never deletes backups). `place` is where the dump
 * runs and the file stays: the server, or the runner for Heroku.
 */
export async function takePremigrationBackup(
  database: DatabaseTarget,
  request: { directory: string; commit: string; now: Date },
  place: { host: CommandHost; files: FileStore },
  io: { log: (line: string) => void; warning(message: string): void; env: Record<string, string | undefined> },
): Promise<BackupOutcome> {
  await place.files.prepareDirectory(request.directory, 'backup-directory');
  const result = await takeBackup(
    {
      engine: database.engine,
      database,
      postgresFormat: 'custom',
      directory: request.directory,
      prefix: database.database || 'database',
      sha: request.commit,
      now: request.now,
      keepDays: 0,
      keepCount: 0,
      verify: 'archive',
      postgresClientRoot: '/usr/lib/postgresql',
    },
    { dumpHost: place.host, storeHost: place.host, files: place.files, log: io.log, warn: io.warning },
  );
  return { path: result.path, restoreCommand: restoreCommand(result, actionRef(io.env, 'db-restore')) };
}
