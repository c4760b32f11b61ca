import { LocalFiles, LocalHost } from '../../db-backup/places.js';
import { runProcess, type ProcessRunner } from '../../shared/process.js';
import { HerokuApi } from './api.js';
import { checkReleaseHealth, takePremigrationBackup } from '../release-checks.js';
import type { HerokuInputs } from './inputs.js';
import { HEROKU_STATE_KEY, type HerokuEdges } from './target.js';
import type { PhaseLog } from '../target.js';

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
    checkHealth: checkReleaseHealth,
    backup: (database, request, log) =>
      takePremigrationBackup(
        database,
        request,
        { host: new LocalHost(runner), files: new LocalFiles() },
        { log, warning: io.warning, env: io.env },
      ),
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
