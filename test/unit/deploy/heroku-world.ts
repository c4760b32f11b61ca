import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HerokuApi } from '../../../actions/deploy/heroku/api.js';
import type { HerokuInputs } from '../../../actions/deploy/heroku/inputs.js';
import type { HerokuEdges, HerokuPostState } from '../../../actions/deploy/heroku/target.js';
import { DEFAULT_HEALTH_GATE } from '../../../actions/deploy/release-checks.js';
import { runProcess } from '../../../actions/shared/process.js';
import { startHerokuStandIn, type HerokuStandIn } from '../../stand-ins/heroku-api.js';
import { git } from '../../support/git.js';

export { git };

/** A small Django-shaped repository: v1, v2 adds a migration, v3 changes only a view. */
export interface TestRepo {
  dir: string;
  v1: string;
  v2: string;
  v3: string;
  remove(): void;
}

export function makeRepo(): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'heroku-repo-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  git(dir, 'init', '-q', '-b', 'master');
  write('Procfile', 'release: python manage.py migrate --noinput\nweb: gunicorn ocpizza.wsgi --log-file -\n');
  write('manage.py', 'print("manage")\n');
  write('orders/migrations/0001_initial.py', '# initial\n');
  write('orders/views.py', 'V = 1\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'v1');
  const v1 = git(dir, 'rev-parse', 'HEAD');
  write('orders/migrations/0002_note.py', '# note\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'v2');
  const v2 = git(dir, 'rev-parse', 'HEAD');
  write('orders/views.py', 'V = 3\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'v3');
  const v3 = git(dir, 'rev-parse', 'HEAD');
  return { dir, v1, v2, v3, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function herokuInputs(standIn: HerokuStandIn, repo: TestRepo, extra: Partial<HerokuInputs> = {}): HerokuInputs {
  return {
    mode: 'deploy',
    apiKey: standIn.apiKey,
    apiUrl: new URL(standIn.url),
    apps: ['ocpizza'],
    healthUrl: 'http://{app}.test/health',
    healthPath: '/health',
    healthTimeoutMs: 1000,
    healthGate: DEFAULT_HEALTH_GATE,
    buildpacks: [],
    databaseConfigVar: 'DATABASE_URL',
    requiredConfigVars: ['SECRET_KEY'],
    maintenance: 'auto',
    backup: 'auto',
    backupDirectory: '/tmp/backups',
    repository: repo.dir,
    commit: repo.v2,
    appDirectory: '',
    ...extra,
  };
}

export interface Recorded {
  secrets: string[];
  warnings: string[];
  lines: string[];
  states: HerokuPostState[];
  health: string[];
  backups: { database: string; commit: string }[];
}

export function fastApi(
  standIn: HerokuStandIn,
  recorded: Recorded,
  apiKey = standIn.apiKey,
  sleeps: number[] = [],
): HerokuApi {
  return new HerokuApi({
    baseUrl: new URL(standIn.url),
    apiKey,
    setSecret: (s) => recorded.secrets.push(s),
    sleep: async (ms) => {
      sleeps.push(ms);
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
    random: () => 0.5,
    warning: (m) => recorded.warnings.push(m),
    baseDelayMs: 10,
    maxDelayMs: 40,
  });
}

/** Edges against the stand-in with real git; health and backup are recorded answers the test chooses. */
export function herokuEdges(
  standIn: HerokuStandIn,
  options: { healthy?: (url: string, commit: string) => boolean; backupFails?: boolean } = {},
): { edges: HerokuEdges; recorded: Recorded } {
  const recorded: Recorded = { secrets: [], warnings: [], lines: [], states: [], health: [], backups: [] };
  const edges: HerokuEdges = {
    api: fastApi(standIn, recorded),
    runner: runProcess,
    checkHealth: async (url, commit) => {
      recorded.health.push(url);
      const ok = options.healthy ? options.healthy(url, commit) : true;
      return { ok, reason: ok ? 'healthy' : `commit is not ${commit.slice(0, 7)}` };
    },
    backup: async (database, request) => {
      if (options.backupFails) throw new Error('pg_dump: connection refused');
      recorded.backups.push({ database: database.database, commit: request.commit });
      return { path: `${request.directory}/${database.database}.dump`, restoreCommand: '- uses: runbook/db-restore' };
    },
    now: () => new Date('2026-11-27T14:00:00Z'),
    clock: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5))),
    log: {
      info: (m) => recorded.lines.push(m),
      startGroup: (m) => recorded.lines.push(`::group::${m}`),
      endGroup: () => recorded.lines.push('::endgroup::'),
      warning: (m) => recorded.warnings.push(m),
    },
    setSecret: (s) => recorded.secrets.push(s),
    saveState: (s) => recorded.states.push(s),
    pollIntervalMs: 10,
    buildTimeoutMs: 20_000,
  };
  return { edges, recorded };
}

export async function standInWithApp(): Promise<HerokuStandIn> {
  const standIn = await startHerokuStandIn();
  standIn.lineDelayMs = 5;
  standIn.addApp('ocpizza', {
    configVars: { DATABASE_URL: 'postgres://u:db-secret-pw@127.0.0.1:5432/ocpizza', SECRET_KEY: 'sk-value-123456' },
  });
  return standIn;
}
