import { posix } from 'node:path';
import { shellQuote } from '../../shared/ssh.js';
import type { DeployInputs } from '../inputs.js';
import { PROBE_CODE } from './app-database.js';
import { PLAN_PROBE_CODE } from './migration-safety.js';
import { formatLogEntry, type ReleaseLogEntry } from './release.js';

/**
 * The shell scripts each phase runs on a server (or on the runner for target local). Every value that came
 * from a user or from the repository goes through shellQuote, the one quoting function; the executors add
 * `set -eu`, so any failing command fails its phase.
 */

const q = shellQuote;

/** Where things live under deploy-to. */
export interface Layout {
  root: string;
  releases: string;
  shared: string;
  current: string;
  log: string;
  lock: string;
  lockInfo: string;
  lockStale: string;
}

export function layoutOf(deployTo: string): Layout {
  return {
    root: deployTo,
    releases: posix.join(deployTo, 'releases'),
    shared: posix.join(deployTo, 'shared'),
    current: posix.join(deployTo, 'current'),
    log: posix.join(deployTo, 'releases.jsonl'),
    lock: posix.join(deployTo, '.deploy.lock'),
    lockInfo: posix.join(deployTo, '.deploy.lock.json'),
    lockStale: posix.join(deployTo, '.deploy.lock.stale'),
  };
}

export function releaseDir(layout: Layout, id: string): string {
  return posix.join(layout.releases, id);
}

/** Arguments given as one input ('--no-index --find-links /wheels'), split on blanks and quoted word by word. */
export function quoteArgs(text: string): string {
  return text
    .split(/\s+/)
    .filter((word) => word !== '')
    .map(q)
    .join(' ');
}

/**
 * Holds the deploy lock for as long as our stdin stays open. flock is released by the kernel when the holder
 * dies (a killed job, a dropped connection), so a `.deploy.lock.json` found on entry was left by a holder that
 * never cleaned up: it is moved aside as `.deploy.lock.stale` for the report, and the lock is taken over.
 */
export function lockHolderScript(
  layout: Layout,
  timeoutSeconds: number,
  info: Record<string, string>,
  underLock = '',
): string {
  return [
    `mkdir -p ${q(layout.root)}`,
    `cd ${q(layout.root)}`,
    `exec 9>>${q(layout.lock)}`,
    `if ! flock -n 9; then`,
    `  echo "waiting for the deploy lock held by: $(cat ${q(layout.lockInfo)} 2>/dev/null || echo unknown)" >&2`,
    `  if ! flock -w ${Math.max(1, Math.ceil(timeoutSeconds))} 9; then`,
    `    echo "deploy lock still held after ${Math.ceil(timeoutSeconds)} s by: $(cat ${q(layout.lockInfo)} 2>/dev/null || echo unknown)" >&2`,
    `    exit 75`,
    `  fi`,
    `fi`,
    `if [ -s ${q(layout.lockInfo)} ]; then mv -f ${q(layout.lockInfo)} ${q(layout.lockStale)}; else rm -f ${q(layout.lockStale)}; fi`,
    `printf '{"pid":%s,"host":"%s","deploy":%s}\\n' "$$" "$(hostname)" ${q(JSON.stringify(info))} > ${q(layout.lockInfo + '.tmp')}`,
    `mv -f ${q(layout.lockInfo + '.tmp')} ${q(layout.lockInfo)}`,
    // Says so itself (no polling): what a dead holder left behind, then the line the action waits for.
    `if [ -s ${q(layout.lockStale)} ]; then sed 's/^/stale /' ${q(layout.lockStale)}; fi`,
    // The reads the deploy needs next (preflight), in this round trip rather than one more of their own.
    ...(underLock ? [underLock] : []),
    `echo ${LOCK_ACQUIRED}`,
    // Blocks until the action closes our stdin; then the lock file is cleaned up and flock released on exit.
    `cat > /dev/null`,
    `rm -f ${q(layout.lockInfo)}`,
  ].join('\n');
}

/** The line the lock holder prints once it holds the lock. */
export const LOCK_ACQUIRED = 'runbook-lock-acquired';

/** What the holder printed before LOCK_ACQUIRED: the info a dead holder left behind, if any. */
export function parseLockStale(stdout: string): string {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('stale '))
    .map((line) => line.slice('stale '.length))
    .join('\n')
    .trim();
}

export interface PreflightFacts {
  current?: string;
  releases: string[];
  log: string;
  freeKb?: number;
  /** The supervisord program's state before the deploy (RUNNING, STOPPED…), when a program is configured. */
  programState?: string;
}

/** Checks the server before anything changes, and reads what it serves now and whether its program runs. */
export function preflightScript(layout: Layout, program?: SupervisorSettings): string {
  const lines = [`mkdir -p ${q(layout.releases)} ${q(layout.shared)}`, `cd ${q(layout.root)}`];
  lines.push(
    `df -Pk . | awk 'NR==2 { print "free_kb " $4 }'`,
    `if [ -L current ]; then echo "current $(basename "$(readlink current)")"; fi`,
    `for d in releases/*/; do [ -d "$d" ] && echo "release $(basename "$d")"; done; true`,
    `if [ -f ${q(layout.log)} ]; then sed 's/^/log /' ${q(layout.log)}; fi`,
  );
  // supervisorctl status exits non-zero for a stopped program: its state word is what matters.
  if (program?.supervisorProgram)
    lines.push(
      `echo "program $(${supervisorctl(program)} status ${q(program.supervisorProgram)} 2>/dev/null | awk '{ print $2 }' || true)"`,
    );
  return lines.join('\n');
}

/**
 * Prints the environment file after a first line saying whether it exists. Run with a silent log: the file holds
 * the app's secrets.
 */
export function envFileScript(path: string): string {
  return `if [ -f ${q(path)} ]; then echo present; cat ${q(path)}; else echo absent; fi`;
}

/**
 * Preflight and the environment file, run by the lock holder once it holds the lock: each line prefixed
 * (`pre `, `env `) so neither can pass for the holder's own lines, and a failure reported as a line with the
 * script's last error, since the holder itself must keep running.
 */
export function underLockScript(layout: Layout, program: SupervisorSettings | undefined, envFile: string): string {
  const run = (prefix: string, script: string) =>
    `if out=$(sh -c ${q(`set -eu\n${script}`)} 2>&1); then printf '%s\n' "$out" | sed 's/^/${prefix} /'; else echo "${prefix}-failed $(printf '%s\n' "$out" | tail -n 1)"; fi`;
  return [run('pre', preflightScript(layout, program)), run('env', envFileScript(envFile))].join('\n');
}

/** The preflight and environment file output the lock holder printed, or the error of the one that failed. */
export function parseUnderLock(stdout: string): { preflight: string; env: string; failed?: string } {
  const section = (prefix: string) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith(`${prefix} `))
      .map((line) => line.slice(prefix.length + 1))
      .join('\n');
  const failed = stdout.split('\n').find((line) => /^(pre|env)-failed /.test(line));
  return { preflight: section('pre'), env: section('env'), failed: failed?.replace(/^(pre|env)-failed /, '') };
}

export function parsePreflight(stdout: string): PreflightFacts {
  const facts: PreflightFacts = { releases: [], log: '' };
  const log: string[] = [];
  for (const line of stdout.split('\n')) {
    const [word, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (word === 'program') facts.programState = value || undefined;
    else if (word === 'free_kb') facts.freeKb = Number(value);
    else if (word === 'current' && value) facts.current = value;
    else if (word === 'release') facts.releases.push(value);
    else if (word === 'log') log.push(value);
  }
  facts.log = log.join('\n');
  return facts;
}

/** Unpacks the `git archive` stream arriving on stdin into the new release, and links the shared paths. */
export function unpackScript(
  layout: Layout,
  id: string,
  commit: string,
  sharedPaths: string[],
  logEntry?: ReleaseLogEntry,
): string {
  const dir = releaseDir(layout, id);
  const lines = [
    ...(logEntry ? [appendLogScript(layout, [logEntry])] : []),
    `rm -rf ${q(dir)}`,
    `mkdir -p ${q(dir)}`,
    `tar -x -f - -C ${q(dir)}`,
    // The fixture's /health (and anything else) reads which commit and release this directory is.
    `printf 'commit=%s\\nrelease=%s\\n' ${q(commit)} ${q(id)} > ${q(posix.join(dir, 'REVISION'))}`,
  ];
  for (const entry of sharedPaths) {
    const isDir = entry.endsWith('/');
    const path = entry.replace(/\/+$/, '');
    const shared = posix.join(layout.shared, path);
    const link = posix.join(dir, path);
    // Relative links keep a release valid if deploy-to is moved or mounted elsewhere.
    const target = posix.relative(posix.dirname(link), shared);
    if (isDir) lines.push(`mkdir -p ${q(shared)}`);
    lines.push(
      `if [ -e ${q(shared)} ]; then mkdir -p ${q(posix.dirname(link))}; rm -rf ${q(link)}; ln -s ${q(target)} ${q(link)}; fi`,
    );
  }
  return lines.join('\n');
}

type BuildSettings = Pick<
  DeployInputs,
  | 'venv'
  | 'python'
  | 'venvArgs'
  | 'buildCommand'
  | 'requirements'
  | 'pipArgs'
  | 'managePy'
  | 'djangoSettings'
  | 'collectstatic'
  | 'checkDeploy'
>;

/** The interpreter of a release: its virtualenv's, or the configured one. */
function pythonOf(settings: Pick<BuildSettings, 'venv' | 'python'>): string {
  return settings.venv ? './venv/bin/python' : q(settings.python);
}

/** RELEASE_DIR, RELEASE_ID and RELEASE_COMMIT (from the release's REVISION file) for every command the deploy runs. */
function releaseEnv(layout: Layout, id: string): string[] {
  const dir = releaseDir(layout, id);
  return [
    `export RELEASE_DIR=${q(dir)} RELEASE_ID=${q(id)}`,
    `RELEASE_COMMIT=$(sed -n 's/^commit=//p' ${q(posix.join(dir, 'REVISION'))} 2>/dev/null || true); export RELEASE_COMMIT`,
  ];
}

function releasePrologue(layout: Layout, id: string, settings: Pick<BuildSettings, 'djangoSettings'>): string[] {
  const lines = [`cd ${q(releaseDir(layout, id))}`, ...releaseEnv(layout, id)];
  if (settings.djangoSettings) lines.push(`export DJANGO_SETTINGS_MODULE=${q(settings.djangoSettings)}`);
  return lines;
}

function manage(settings: Pick<BuildSettings, 'venv' | 'python' | 'managePy'>, args: string): string {
  return `${pythonOf(settings)} ${q(settings.managePy)} ${args}`;
}

export function buildScript(layout: Layout, id: string, settings: BuildSettings): string {
  const lines = releasePrologue(layout, id, settings);
  if (settings.venv) lines.push(`${q(settings.python)} -m venv ${quoteArgs(settings.venvArgs)} venv`);
  if (settings.requirements) {
    lines.push(
      `${pythonOf(settings)} -m pip install --disable-pip-version-check ${quoteArgs(settings.pipArgs)} -r ${q(settings.requirements)}`,
    );
  }
  if (settings.buildCommand) lines.push(`sh -c ${q(settings.buildCommand)}`);
  if (settings.collectstatic) lines.push(manage(settings, 'collectstatic --noinput'));
  if (settings.checkDeploy) lines.push(manage(settings, 'check --deploy'));
  return lines.join('\n');
}

/**
 * One Django process on the release: which database `default` is, the plan `migrate` would run with a verdict per
 * operation (migration-safety.ts), and, for rollback-migrations, the state of those apps before migrating.
 */
export function releaseProbeScript(layout: Layout, id: string, settings: BuildSettings, apps: string[]): string {
  const lines = [
    ...releasePrologue(layout, id, settings),
    manage(settings, `shell -c ${q(`${PROBE_CODE}\n${PLAN_PROBE_CODE}`)}`),
  ];
  if (apps.length > 0) lines.push(`echo '--- applied'`, manage(settings, `showmigrations ${apps.map(q).join(' ')}`));
  return lines.join('\n');
}

export function migrateScript(layout: Layout, id: string, settings: BuildSettings): string {
  return [...releasePrologue(layout, id, settings), manage(settings, 'migrate --noinput')].join('\n');
}

/** Migrates apps back with the new release's code (the old release does not know the new migrations). */
export function unmigrateScript(
  layout: Layout,
  id: string,
  settings: BuildSettings,
  targets: Map<string, string>,
): string {
  const lines = releasePrologue(layout, id, settings);
  for (const [app, migration] of targets) lines.push(manage(settings, `migrate --noinput ${q(app)} ${q(migration)}`));
  return lines.join('\n');
}

export function maintenanceOnScript(layout: Layout, file: string, id: string): string {
  const path = posix.join(layout.root, file);
  return `mkdir -p ${q(posix.dirname(path))}\nprintf '%s\\n' ${q(`deploying ${id}`)} > ${q(path)}`;
}

export function maintenanceOffScript(layout: Layout, file: string): string {
  return `rm -f ${q(posix.join(layout.root, file))}`;
}

/**
 * Points `current` at a release atomically: a new symlink under a temporary name is renamed over the old one
 * (rename(2) replaces it in one step; `ln -sfn` alone unlinks first, leaving a moment with no `current`).
 * Without a release, `current` is removed (a first deploy that failed leaves nothing half-served).
 */
export function switchScript(layout: Layout, id: string | undefined): string {
  if (id === undefined) return `rm -f ${q(layout.current)}`;
  const temp = posix.join(layout.root, `.current.${id}`);
  return [
    `rm -f ${q(temp)}`,
    `ln -s ${q(posix.join('releases', id))} ${q(temp)}`,
    `mv -T ${q(temp)} ${q(layout.current)}`,
  ].join('\n');
}

/** The line a HUP reload prints when gunicorn's old workers outlived the wait: tenths of seconds waited, their PIDs. */
export const RELOAD_LEFT = 'runbook-reload-left';

/** How long a HUP reload waits, at least, for gunicorn's old workers to exit. */
export const RELOAD_WAIT_SECONDS = 60;

export function reloadScript(
  settings: Pick<DeployInputs, 'reload' | 'reloadCommand' | 'supervisorProgram' | 'supervisorConfig'>,
  layout: Layout,
  id: string,
  waitSeconds = RELOAD_WAIT_SECONDS,
): string {
  if (settings.reload === 'command') {
    return [...releaseEnv(layout, id), `sh -c ${q(settings.reloadCommand ?? '')}`].join('\n');
  }
  const ctl = supervisorctl(settings);
  const program = q(settings.supervisorProgram ?? '');
  // A program that is not running yet (first deploy) cannot be signalled: it is started instead.
  const start = `if ! ${ctl} status ${program} | grep -q RUNNING; then ${ctl} start ${program}; exit 0; fi`;
  if (settings.reload === 'restart') return `${start}\n${ctl} restart ${program}`;
  // HUP: gunicorn's master keeps the socket and replaces its workers; no request is refused. The old workers finish
  // their requests and exit a moment later: the phase ends only once they are gone, so nothing of the old code
  // answers after it (maintenance off follows a breaking migration). A child with children of its own is a master
  // behind a wrapper, not a worker, and is not waited for. The wait is bounded: waitSeconds, or longer when the
  // master's command line gives a --graceful-timeout above it (gunicorn kills a worker that outlives that); a worker
  // still alive at the bound is named on a RELOAD_LEFT line, since it may still answer with the old code.
  const ticks = Math.max(1, Math.round(waitSeconds * 10));
  return [
    start,
    `master=$(${ctl} pid ${program} 2>/dev/null || true)`,
    `old=''; for w in $(ps -o pid= --ppid "$master" 2>/dev/null || true); do if [ -z "$(ps -o pid= --ppid "$w" 2>/dev/null || true)" ]; then old="$old $w"; fi; done`,
    `bound=${ticks}; graceful=$(ps -o args= -p "$master" 2>/dev/null | sed -En 's/.*--graceful-timeout[= ]+([0-9]+).*/\\1/p' || true)`,
    `if [ -n "$graceful" ] && [ $((graceful * 10 + 50)) -gt "$bound" ]; then bound=$((graceful * 10 + 50)); fi`,
    `${ctl} signal HUP ${program}`,
    `n=0; while :; do left=''; for w in $old; do if kill -0 "$w" 2>/dev/null; then left="$left $w"; fi; done; if [ -z "$left" ] || [ "$n" -ge "$bound" ]; then break; fi; sleep 0.1; n=$((n + 1)); done`,
    `if [ -n "$left" ]; then echo "${RELOAD_LEFT} $bound$left"; fi`,
  ].join('\n');
}

/** The old workers a HUP reload left running (RELOAD_LEFT), if any: the seconds it waited and their PIDs. */
export function parseReloadLeft(stdout: string): { seconds: number; pids: string[] } | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith(`${RELOAD_LEFT} `));
  if (!line) return undefined;
  const [tenths, ...pids] = line
    .slice(RELOAD_LEFT.length + 1)
    .trim()
    .split(/\s+/);
  // Only process ids are kept: the line is a server's output, and it reaches the log and the summary.
  return { seconds: Number(tenths) / 10, pids: pids.filter((pid) => /^\d+$/.test(pid)) };
}

type SupervisorSettings = Pick<DeployInputs, 'supervisorProgram' | 'supervisorConfig'>;

function supervisorctl(settings: SupervisorSettings): string {
  return `supervisorctl${settings.supervisorConfig ? ` -c ${q(settings.supervisorConfig)}` : ''}`;
}

/** Stops the program: after a failed first deploy, what the deploy started goes back to how it was found. */
export function stopProgramScript(settings: SupervisorSettings): string {
  return `${supervisorctl(settings)} stop ${q(settings.supervisorProgram ?? '')} || true`;
}

export function appendLogScript(layout: Layout, entries: ReleaseLogEntry[]): string {
  return entries.map((entry) => `printf '%s\\n' ${q(formatLogEntry(entry))} >> ${q(layout.log)}`).join('\n');
}

export function pruneScript(layout: Layout, remove: string[]): string {
  if (remove.length === 0) return 'true';
  return `cd ${q(layout.releases)}\nrm -rf -- ${remove.map(q).join(' ')}`;
}
