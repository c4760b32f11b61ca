import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LocalExecutor, type HostExecutor } from '../../../actions/deploy/server/executor.js';
import { gitArchive, resolveCommit, type DeployIO } from '../../../actions/deploy/main.js';
import type { PostState, ServerEdges } from '../../../actions/deploy/server/target.js';
import type { InputSource } from '../../../actions/shared/inputs.js';
import { runProcess } from '../../../actions/shared/process.js';

const metadata = parse(readFileSync(new URL('../../../actions/deploy/action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
};

export const inputNames = Object.keys(metadata.inputs);
export const outputNames = Object.keys(metadata.outputs);

/** Inputs as the runner gives them: action.yml defaults (expressions dropped), overridden by what the step sets. */
export function actionInputs(values: Record<string, string>): InputSource {
  return (name) => (values[name] ?? metadata.inputs[name]?.default?.replace(/\$\{\{.*\}\}/, '') ?? '').trim();
}

/**
 * A stand-in manage.py (run with `sh`): the release's migrations.txt lists its migrations, shared/applied.txt the
 * ones the "database" has; a migration named *fail* fails, one named *safe* is additive (the others are breaking). It records whether maintenance was on when it migrated.
 */
const MANAGE_SH = `
applied=../../shared/applied.txt
touch "$applied"
pending() { while read -r m; do [ -n "$m" ] && ! grep -qx "$m" "$applied" && echo "$m"; done < migrations.txt; true; }
case "$1" in
  migrate)
    if [ "\${2:-}" = "--plan" ]; then
      p=$(pending)
      echo "Planned operations:"
      if [ -z "$p" ]; then echo "  No planned migration operations."; else echo "$p" | sed 's/^/app./'; fi
    elif [ "\${2:-}" = "--noinput" ] && [ -n "\${3:-}" ]; then
      [ -f ../../shared/maintenance.on ] && m=" under maintenance" || m=""
      echo "back $3 $4 serving $(readlink ../../current)$m" >> ../../shared/unmigrated.txt
    else
      [ -f ../../shared/maintenance.on ] && echo "maintenance was on" >> ../../shared/migrate-log.txt
      for m in $(pending); do
        case "$m" in *fail*) echo "django.db.utils.ProgrammingError: relation missing_table does not exist" >&2; exit 1;; esac
        echo "$m" >> "$applied"
      done
    fi ;;
  showmigrations) echo app; echo " [X] 0001_initial" ;;
  shell)
    # The plan probe's line: a migration named *safe* adds a nullable column, any other runs SQL.
    ops=""; names=""
    for m in $(pending); do
      case "$m" in *safe*) v="safe"; o="AddField"; r="a nullable column";; *) v="breaking"; o="RunSQL"; r="a data migration";; esac
      ops="$ops\${ops:+,}{\\"migration\\": \\"app.$m\\", \\"operation\\": \\"$o\\", \\"description\\": \\"$o\\", \\"verdict\\": \\"$v\\", \\"reason\\": \\"$r\\"}"
      names="$names\${names:+,}\\"app.$m\\""
    done
    echo "runbook-plan {\\"pending\\": [$names], \\"operations\\": [$ops], \\"django\\": \\"stand-in\\", \\"vendor\\": \\"postgresql\\"}"
    if [ -z "\${DATABASE_URL:-}" ]; then
      echo "runbook-database {\\"engine\\": \\"django.db.backends.sqlite3\\", \\"host\\": \\"\\", \\"port\\": \\"\\", \\"name\\": \\"$PWD/db.sqlite3\\"}"
    else
      rest=\${DATABASE_URL#*@}; hp=\${rest%%/*}
      echo "runbook-database {\\"engine\\": \\"django.db.backends.postgresql\\", \\"host\\": \\"\${hp%%:*}\\", \\"port\\": \\"\${hp##*:}\\", \\"name\\": \\"\${rest#*/}\\"}"
    fi ;;
  *) echo "manage $*" ;;
esac
`;

export interface World {
  dir: string;
  repo: string;
  deployTo: string;
  reloads: string;
  /** Commits a new version with these migrations; returns its sha. */
  commit(migrations: string[], extra?: Record<string, string>): string;
  current(): string | undefined;
  log(): { release: string; outcome: string; note?: string }[];
  read(path: string): string;
  exists(path: string): boolean;
  cleanup(): void;
}

export function makeWorld(): World {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-unit-'));
  const repo = join(dir, 'repo');
  const deployTo = join(dir, 'srv', 'app');
  mkdirSync(repo, { recursive: true });
  mkdirSync(join(deployTo, 'shared'), { recursive: true });
  writeFileSync(
    join(deployTo, 'shared', '.env'),
    'SECRET_KEY=abc\nDATABASE_URL=postgres://app:s3cret-pw@127.0.0.1:5432/shop\n',
  );
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: repo,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    }).trim();
  git('init', '-q', '-b', 'main');
  let version = 0;
  return {
    dir,
    repo,
    deployTo,
    reloads: join(dir, 'reloads.txt'),
    commit(migrations, extra = {}) {
      version += 1;
      writeFileSync(join(repo, 'manage.sh'), MANAGE_SH);
      writeFileSync(join(repo, 'migrations.txt'), migrations.map((m) => `${m}\n`).join(''));
      writeFileSync(join(repo, 'version.txt'), `v${version}\n`);
      for (const [file, text] of Object.entries(extra)) writeFileSync(join(repo, file), text);
      git('add', '-A');
      git('commit', '-q', '-m', `v${version}`);
      return git('rev-parse', 'HEAD');
    },
    current() {
      const link = join(deployTo, 'current');
      return existsSync(link) ? readlinkSync(link).replace(/^releases\//, '') : undefined;
    },
    log() {
      const file = join(deployTo, 'releases.jsonl');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l) as { release: string; outcome: string; note?: string });
    },
    read: (path) => readFileSync(join(deployTo, path), 'utf8'),
    exists: (path) => existsSync(join(deployTo, path)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Inputs for a local deploy into the world with the stand-in manage.py, no virtualenv and a recorded reload. */
export function localInputs(world: World, sha: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    target: 'local',
    'deploy-to': world.deployTo,
    repository: world.repo,
    commit: sha,
    venv: 'false',
    python: 'sh',
    'manage-py': 'manage.sh',
    requirements: '',
    collectstatic: 'false',
    'check-deploy': 'false',
    reload: 'command',
    'reload-command': `echo "$RELEASE_ID reloaded" >> '${world.reloads}'`,
    'health-url': 'http://{host}:8000/health',
    'lock-timeout': '2s',
    ...extra,
  };
}

export interface Recorded {
  outputs: Record<string, string>;
  secrets: string[];
  infos: string[];
  warnings: string[];
  groups: string[];
  summary: string;
  states: PostState[];
  health: { url: string; expect: string }[];
  backups: number;
}

export interface WorldOptions {
  /** The health answer: by default healthy when current/REVISION names the expected commit. */
  health?: (world: World, expect: string) => { ok: boolean; reason: string };
  backupFails?: boolean;
  openHost?: ServerEdges['openHost'];
  executor?: (base: HostExecutor) => HostExecutor;
  /** How long a HUP reload waits for gunicorn's old workers (the action's default otherwise). */
  reloadWaitSeconds?: number;
}

let minute = 0;

/** The action's IO over the world: real bash and git, a fake health check and backup, a clock of fixed steps. */
export function worldIO(
  world: World,
  values: Record<string, string>,
  options: WorldOptions = {},
): { io: DeployIO; recorded: Recorded } {
  const recorded: Recorded = {
    outputs: {},
    secrets: [],
    infos: [],
    warnings: [],
    groups: [],
    summary: '',
    states: [],
    health: [],
    backups: 0,
  };
  const health =
    options.health ??
    ((w: World, expect: string) => {
      const revision = w.exists('current/REVISION') ? w.read('current/REVISION') : '';
      return revision.includes(`commit=${expect}`)
        ? { ok: true, reason: 'healthy' }
        : { ok: false, reason: `serves ${revision.trim() || 'nothing'}` };
    });
  minute += 1;
  const base = Date.UTC(2026, 10, 27, 10, 0, 0) + minute * 60_000;
  let ticks = 0;
  const io: DeployIO = {
    inputs: actionInputs(values),
    env: { GITHUB_ACTOR: 'octocat', GITHUB_WORKSPACE: world.repo },
    setSecret: (s) => recorded.secrets.push(s),
    setOutput: (name, value) => (recorded.outputs[name] = value),
    saveState: (_name, value) => recorded.states.push(JSON.parse(value) as PostState),
    info: (m) => recorded.infos.push(m),
    warning: (m) => recorded.warnings.push(m),
    startGroup: (name) => recorded.groups.push(name),
    endGroup: () => undefined,
    writeSummary: async (markdown) => {
      recorded.summary += markdown;
    },
    serverEdges: () => ({
      openHost:
        options.openHost ??
        (async () => {
          const executor = new LocalExecutor(runProcess);
          return options.executor ? options.executor(executor) : executor;
        }),
      resolveCommit: (repository, commit) => resolveCommit(runProcess, repository, commit),
      archive: (repository, commit, appDirectory) =>
        gitArchive(repository, commit, appDirectory, (m) => recorded.warnings.push(m)),
      checkHealth: async (url, expect) => {
        recorded.health.push({ url, expect });
        return health(world, expect);
      },
      backup: async (executor, request) => {
        recorded.backups += 1;
        const path = join(request.directory, `${request.database.database}_${request.releaseId}.dump`);
        const result = await executor.run(
          options.backupFails
            ? 'echo "pg_dump: error: connection refused" >&2; exit 1'
            : `mkdir -p '${request.directory}' && echo dump > '${path}'`,
        );
        if (result.code !== 0) throw new Error(`backup failed: ${result.stderr.trim()}`);
        return { path, restoreCommand: `- uses: runbook/actions/db-restore@v1\n  with:\n    backup: ${path}` };
      },
      now: () => new Date(base + ticks++ * 1000),
      clock: () => performance.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      log: { info: io.info, warning: io.warning, startGroup: io.startGroup, endGroup: io.endGroup },
      setSecret: io.setSecret,
      saveState: (state) => io.saveState('deploy', JSON.stringify(state)),
      token: () => `token-${Math.random().toString(16).slice(2)}`,
      reloadWaitSeconds: options.reloadWaitSeconds,
    }),
  };
  return { io, recorded };
}
