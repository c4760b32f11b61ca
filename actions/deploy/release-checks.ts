import { actionRef } from '../db-backup/action-io.js';
import { restoreCommand, takeBackup, type BackupServer } from '../db-backup/backup.js';
import type { CommandHost, FileStore } from '../db-backup/places.js';
import type { DatabaseTarget } from '../shared/database-url.js';
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../smoke-check/check-spec.js';
import { parseStatusSet, statusInSet } from '../smoke-check/status-set.js';
import type { HealthGate } from './inputs.js';
import { defaultEngineDeps, runChecks } from '../smoke-check/engine.js';

/** What the runner edges of both targets (servers and Heroku) do the same way. */

/** The health gate as the targets call it (checkReleaseHealth in production, a stand-in in tests). */
export type CheckHealth = (
  url: string,
  expectCommit: string,
  timeoutMs: number,
  log: (line: string) => void,
  gate?: HealthGate,
) => Promise<HealthResult>;

export interface HealthResult {
  ok: boolean;
  reason: string;
}

/** The gate deploy had before it took smoke-check's words: 2xx, and the commit in the JSON body's `commit`. */
export const DEFAULT_HEALTH_GATE: HealthGate = {
  expectedStatus: parseStatusSet('expected-status', '2xx'),
  versionFrom: versionSource('json:$.commit'),
};

/**
 * The health gate: the smoke-check engine, until `timeoutMs`, expecting one of `gate.expectedStatus` and
 * `expectCommit` where `gate.versionFrom` says (or the status alone, for `none`).
 */
export async function checkReleaseHealth(
  url: string,
  expectCommit: string,
  timeoutMs: number,
  log: (line: string) => void,
  gate: HealthGate = DEFAULT_HEALTH_GATE,
): Promise<HealthResult> {
  const options = { ...DEFAULT_RUN_OPTIONS, deadlineMs: timeoutMs };
  const check =
    gate.versionFrom === 'none'
      ? defineCheck({ url, expectedStatus: gate.expectedStatus })
      : defineCheck({
          url,
          expectedStatus: gate.expectedStatus,
          expectVersion: expectCommit,
          versionFrom: gate.versionFrom,
        });
  const report = await runChecks([check], options, defaultEngineDeps(options, log));
  const result = report.results[0];
  if (!result) return { ok: false, reason: 'no result' };
  const answered = result.status !== undefined && statusInSet(gate.expectedStatus, result.status);
  const hint = report.healthy || !answered ? '' : versionHint(gate, result.lastBody, result.version);
  return { ok: report.healthy, reason: `${result.reason}${hint}` };
}

/**
 * When no version was found, what the answer was and what to configure: the common case is an app whose /health
 * (or home page) is HTML, not the JSON the default version-from reads.
 */
export function versionHint(gate: HealthGate, body: string | undefined, version: string | undefined): string {
  if (gate.versionFrom === 'none' || version !== undefined || body === undefined) return '';
  const text = body.trimStart();
  const kind = /^<(!doctype html|html|head|body)\b/i.test(text)
    ? 'an HTML page'
    : text === ''
      ? 'empty'
      : /^[[{]/.test(text)
        ? 'JSON without that field'
        : 'text';
  const where =
    gate.versionFrom.kind === 'json'
      ? `JSON ${gate.versionFrom.path.text}`
      : gate.versionFrom.kind === 'header'
        ? `header ${gate.versionFrom.name}`
        : 'body';
  return (
    ` (the body was ${kind}; version-from reads the ${where}). Serve the release commit there (the /health view in ` +
    `actions/deploy/README.md), or set version-from to header:<Name>, body, or none (the status alone).`
  );
}

export interface BackupOutcome {
  path: string;
  restoreCommand: string;
  sha256?: string;
  sizeBytes?: number;
}

/**
 * The pre-migration backup, with the db-backup code: PostgreSQL in custom format, verified as an archive, named
 * after the database and the commit, no retention (a deploy never deletes backups). `place` is where the dump
 * runs and the file stays: the server, or the runner for Heroku.
 */
export async function takePremigrationBackup(
  database: DatabaseTarget,
  request: { directory: string; commit: string; now: Date },
  place: { host: CommandHost; files: FileStore; server?: BackupServer },
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
  return {
    path: result.path,
    restoreCommand: restoreCommand(result, actionRef(io.env, 'db-restore'), place.server),
    sha256: result.sha256,
    sizeBytes: result.sizeBytes,
  };
}
