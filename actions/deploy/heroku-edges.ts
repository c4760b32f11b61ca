import { restoreCommand, takeBackup } from '../db-backup/backup.js';
import { actionRef } from '../db-backup/action-io.js';
import { LocalFiles, LocalHost } from '../db-backup/places.js';
import { runProcess, type ProcessRunner } from '../shared/process.js';
import { defineCheck, DEFAULT_RUN_OPTIONS, versionSource } from '../smoke-check/check-spec.js';
import { defaultEngineDeps, runChecks } from '../smoke-check/engine.js';
import { HerokuApi } from './heroku-api.js';
import type { HerokuInputs } from './heroku-inputs.js';
import { HEROKU_STATE_KEY, type HerokuEdges } from './heroku-target.js';
import type { PhaseLog } from './target.js';

/** The runner-facing edges the Heroku target needs (the deploy action's DeployIO has them all). */
export interface HerokuRunnerIO extends PhaseLog {
  env: Record<string, string | undefined>;
  setSecret(secret: string): void;
  saveState(name: string, value: string): void;
  warning(message: string): void;
}

/**
 * The real edges: the Platform API over HTTPS, git, the smoke-check engine for the health gate, and the
 * db-backup code on the runner (the dump tools reach Heroku Postgres or a MySQL add-on over TLS).
 */
export function realHerokuEdges(
  inputs: HerokuInputs,
  io: HerokuRunnerIO,
  runner: ProcessRunner = runProcess,
): HerokuEdges {
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  return {
    api: new HerokuApi({
      baseUrl: inputs.apiUrl,
      apiKey: inputs.apiKey,
      setSecret: io.setSecret,
      sleep,
      random: Math.random,
      warning: io.warning,
    }),
    runner,
    checkHealth: async (url, expectCommit, timeoutMs, log) => {
      const options = { ...DEFAULT_RUN_OPTIONS, deadlineMs: timeoutMs };
      const check = defineCheck({ url, expectVersion: expectCommit, versionFrom: versionSource('json:$.commit') });
      const report = await runChecks([check], options, defaultEngineDeps(options, log));
      return { ok: report.healthy, reason: report.results[0]?.reason ?? 'no result' };
    },
    backup: async (database, request, log) => {
      const host = new LocalHost(runner);
      const files = new LocalFiles();
      await files.prepareDirectory(request.directory, 'backup-directory');
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
        { dumpHost: host, storeHost: host, files, log, warn: io.warning },
      );
      return { path: result.path, restoreCommand: restoreCommand(result, actionRef(io.env, 'db-restore')) };
    },
    now: () => new Date(),
    clock: () => performance.now(),
    sleep,
    log: { info: io.info, startGroup: io.startGroup, endGroup: io.endGroup, warning: io.warning },
    setSecret: io.setSecret,
    saveState: (state) => io.saveState(HEROKU_STATE_KEY, JSON.stringify(state)),
    pollIntervalMs: 2000,
    buildTimeoutMs: 30 * 60_000,
  };
}
