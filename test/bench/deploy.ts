// Benchmark of the deploy action (target ssh, one host) against the same work done by hand, side by side in one run
// on one stage (test bed: sshd, PostgreSQL, gunicorn under supervisord, nginx, a Git repository of the fixture):
//   (a) our deploy through the runner harness: total and per-phase times, read from the phase table of the summary;
//   (b) the seeds' procedure typed by hand: each command over a NEW plain ssh connection (no ControlMaster);
//   (c) a code-only release (a new commit, no migration), ours and by hand;
// each under a light load of requests through nginx (failed answers counted), with the machine's load beside it.
// plus the cost of one SSH handshake and of one command over a multiplexed connection.
// Writes test/bench/deploy.md with the method and the measured tables. Run: npx tsx test/bench/deploy.ts
// (`--rounds N` for more rounds, `--no-build` to keep the current dist/deploy).
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { git, sshTargetInputs, stageInputs, startStage, type DeployStage } from '../e2e/deploy-world.js';
import { runAction, type StepResult } from '../harness/index.js';
import { addMigration, httpGet } from '../testbed/django-app.js';
import { shellQuote as q } from '../testbed/process.js';
import { startSshd, type SshServer } from '../testbed/sshd.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const argv = process.argv.slice(2);
const ROUNDS = Math.max(1, Number(argv[argv.indexOf('--rounds') + 1]) || 4);
const HANDSHAKES = 10;
const HEALTH_POLL_MS = 200;

interface Phase {
  name: string;
  status: 'ok' | 'skipped' | 'failed';
  ms: number;
}

/** One answer of the load client other than a 200: when (since the run started), how long it took, what it was. */
interface Failure {
  atMs: number;
  tookMs: number;
  what: string;
}

/** What the load client saw besides the count: each failed answer, and the slowest answer. */
interface LoadDetail {
  failures: Failure[];
  slowest: { atMs: number; tookMs: number };
}

/** A phase on the action's own timeline (the summary's Mermaid chart): start since its first phase, duration. */
interface TimedPhase {
  name: string;
  startMs: number;
  durationMs: number;
}

interface OursRun extends LoadDetail {
  timeline: TimedPhase[];
  sha: string;
  /** Wall time of the main step (Node 24 spawned by the harness until it exits). */
  stepMs: number;
  /** The action's own `duration-ms` output (from its first phase to the end of the last). */
  actionMs: number;
  postMs: number;
  phases: Phase[];
  /** Answers other than 200 from the load client during the run, of how many. */
  failed: number;
  answered: number;
  /** The 1-minute load average when the run started. */
  load: number;
  /** What the db-backup code logs inside the backup phase: checks before the dump, the dump, the verification. */
  backup?: { checksMs: number; dumpMs: number; verifyMs: number };
}

interface RawCommand {
  /** The phase of ours this command belongs to. */
  phase: string;
  label: string;
  /** How many new SSH connections it opens. */
  connections: number;
  ms: number;
}

interface RawRun extends LoadDetail {
  sha: string;
  totalMs: number;
  commands: RawCommand[];
  failed: number;
  answered: number;
  load: number;
}

let loadAtStart = '';
const cell = (text: string) => text.replace(/\|/g, '\\|');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
const ms = (value: number) => (Number.isFinite(value) ? `${Math.round(value)} ms` : '—');
const pct = (ours: number, raw: number) => `${(((ours - raw) / raw) * 100).toFixed(1)} %`;

const BUNDLE_FILES = ['index.js', 'post.js', 'package.json'];

/**
 * Builds dist/deploy and copies the bundle to a private folder the harness runs it from: another build of the
 * whole tree may empty dist/ at any moment of a run (retried when it does so during our own build).
 */
async function privateBundle(build: boolean, into: string): Promise<void> {
  const dist = path.join(root, 'dist', 'deploy');
  for (let attempt = 1; ; attempt += 1) {
    const result = build
      ? spawnSync(process.execPath, ['.ci/build.mjs', 'deploy'], { cwd: root, encoding: 'utf8' })
      : { status: 0, stdout: '', stderr: '' };
    try {
      if (result.status !== 0) throw new Error(`node .ci/build.mjs deploy failed:\n${result.stdout}\n${result.stderr}`);
      for (const file of BUNDLE_FILES) copyFileSync(path.join(dist, file), path.join(into, file));
      return;
    } catch (error) {
      if (attempt === 3) throw error;
      console.log(`bundle attempt ${attempt} failed (${String(error).split('\n')[0]}); retrying in 5 s`);
      await sleep(5000);
    }
  }
}

/** The summary's Mermaid timeline: `  name : [crit, ]startMs, durationMs` per phase. */
function parseTimeline(summary: string): TimedPhase[] {
  return [...summary.matchAll(/^ {2}([a-z][a-z +]*?) : (?:crit, )?(\d+), (\d+)ms$/gm)].map((m) => ({
    name: m[1],
    startMs: Number(m[2]),
    durationMs: Number(m[3]),
  }));
}

/** The phase of ours a failed answer fell in, placing the action's timeline at the end of the main step. */
function phaseAt(run: OursRun, atMs: number): string {
  // The action's timeline ends about when the step does (only the summary is written after); the step started when
  // the load client did.
  const at = atMs - (run.stepMs - run.actionMs);
  const phase = run.timeline.find((p) => at >= p.startMs && at <= p.startMs + p.durationMs);
  return phase ? `≈ ${phase.name}` : at < 0 ? 'before the first phase (Node start)' : 'between phases';
}

/** The phase table of the deploy summary: `| Phase | Host | Status | Duration | Detail |`. */
function parsePhases(summary: string): Phase[] {
  const lines = summary.split('\n');
  const start = lines.findIndex((l) => l.startsWith('| Phase | Host | Status | Duration |'));
  if (start < 0) throw new Error('the summary has no phase table');
  const phases: Phase[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    const duration = /^(\d+) ms$/.exec(cells[3]);
    if (!duration) throw new Error(`unexpected phase row: ${line}`);
    const status = cells[2].includes('skipped') ? 'skipped' : cells[2].includes('failed') ? 'failed' : 'ok';
    phases.push({ name: cells[0], status, ms: Number(duration[1]) });
  }
  return phases;
}

/** Runs a process, resolving with its stdout; any non-zero exit fails the benchmark (a failed deploy is no result). */
function run(command: string, args: string[], what: string, options: { detached?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // `ssh -f` forks a master that would hold our pipes open: it gets none.
    const child = spawn(command, args, { stdio: options.detached ? 'ignore' : ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on(options.detached ? 'exit' : 'close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${what} exited with ${code}: ${stderr.slice(-2000)}`)),
    );
  });
}

async function main(): Promise<void> {
  const bundle = mkdtempSync(path.join(os.tmpdir(), 'deploy-bench-dist-'));
  console.log(argv.includes('--no-build') ? 'copying dist/deploy' : 'building dist/deploy');
  await privateBundle(!argv.includes('--no-build'), bundle);
  const started = performance.now();
  loadAtStart = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  let stage: DeployStage | undefined;
  let sshd: SshServer | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    [stage, sshd] = await Promise.all([startStage(), startSshd()]);
    await measure(stage, sshd, bundle, cleanups, started);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await Promise.all([stage?.stop(), sshd?.stop()]);
    rmSync(bundle, { recursive: true, force: true });
  }
}

async function measure(
  stage: DeployStage,
  sshd: SshServer,
  bundle: string,
  cleanups: (() => Promise<unknown>)[],
  started: number,
): Promise<void> {
  const deployTo = stage.deployTo;
  const healthUrl = `${stage.nginx.url}/health`;
  const secrets = [new URL(stage.databaseUrl).password, sshd.privateKey.trim()];

  // Plain OpenSSH as a user runs it: host key checked, no config file, and explicitly no connection sharing.
  const plainSsh = [
    '-F',
    '/dev/null',
    '-i',
    sshd.privateKeyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    `UserKnownHostsFile=${sshd.knownHostsPath}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'ControlMaster=no',
    '-o',
    'ControlPath=none',
    '-o',
    'LogLevel=ERROR',
    '-p',
    String(sshd.port),
    `${sshd.user}@${sshd.host}`,
  ];
  const ssh = (remote: string, what: string) => run('ssh', [...plainSsh, remote], what);

  /** One client asking /health every 50 ms while `body` runs: what a visitor meets during the deploy. */
  async function underLoad<T>(
    body: () => Promise<T>,
  ): Promise<{ value: T; failed: number; answered: number; load: number } & LoadDetail> {
    const load = os.loadavg()[0];
    const start = performance.now();
    let running = true;
    let failed = 0;
    let answered = 0;
    const failures: Failure[] = [];
    const slowest = { atMs: 0, tookMs: 0 };
    const client = (async () => {
      while (running) {
        const sent = performance.now();
        const what = await httpGet(healthUrl, 5000).then(
          (a) => (a.status === 200 ? '' : `status ${a.status}`),
          (error: unknown) => (error instanceof Error ? error.message : String(error)).replace(healthUrl, '/health'),
        );
        const tookMs = performance.now() - sent;
        answered += 1;
        if (tookMs > slowest.tookMs) Object.assign(slowest, { atMs: sent - start, tookMs });
        if (what) {
          failed += 1;
          failures.push({ atMs: sent - start, tookMs, what });
        }
        await sleep(50);
      }
    })();
    try {
      return { value: await body(), failed, answered, load, failures, slowest };
    } finally {
      running = false;
      await client;
    }
  }

  async function ours(sha: string): Promise<OursRun> {
    const { value, ...loaded } = await underLoad(() => oursRun(sha));
    return { ...value, ...loaded };
  }

  async function oursRun(sha: string): Promise<Omit<OursRun, 'failed' | 'answered' | 'load' | keyof LoadDetail>> {
    const result: StepResult = await runAction({
      action: 'deploy',
      entry: { main: path.join(bundle, 'index.js'), post: path.join(bundle, 'post.js') },
      inputs: {
        ...sshTargetInputs(sshd),
        ...stageInputs(stage),
      },
      github: { sha, workspace: stage.repo, actor: 'bench' },
      secrets,
      // Generous: the machine the bench shares may be loaded far beyond its 2 cores (the load average is reported).
      timeoutMs: 900_000,
    });
    if (result.exitCode !== 0) {
      const errors = result.annotations.filter((a) => a.level === 'error').map((a) => a.message);
      throw new Error(`our deploy of ${sha} failed: ${errors.join('; ')}\n${result.log.slice(-3000)}`);
    }
    const dumped = /Dumped in (\d+) ms \(checks before the dump: (\d+) ms\)/.exec(result.log);
    const verified = /Verified in (\d+) ms\./.exec(result.log);
    const served = (await stage.health()).body?.commit;
    if (served !== sha) throw new Error(`after our deploy of ${sha}, /health reports ${served}`);
    return {
      sha,
      stepMs: result.durationMs,
      actionMs: Number(result.outputs['duration-ms']),
      postMs: result.post?.durationMs ?? 0,
      phases: parsePhases(result.summary),
      timeline: parseTimeline(result.summary),
      backup:
        dumped && verified
          ? { checksMs: Number(dumped[2]), dumpMs: Number(dumped[1]), verifyMs: Number(verified[1]) }
          : undefined,
    };
  }

  async function byHand(sha: string, release: string): Promise<RawRun> {
    const { value, ...loaded } = await underLoad(() => byHandRun(sha, release));
    return { ...value, ...loaded };
  }

  /** The seeds' procedure, one plain ssh connection per command, each timed; the same settings as ours. */
  async function byHandRun(
    sha: string,
    release: string,
  ): Promise<Omit<RawRun, 'failed' | 'answered' | 'load' | keyof LoadDetail>> {
    const dir = `${deployTo}/releases/${release}`;
    const commands: RawCommand[] = [];
    const timed = async <T>(phase: string, label: string, connections: number, body: () => Promise<T>) => {
      const t0 = performance.now();
      const value = await body();
      commands.push({ phase, label, connections, ms: performance.now() - t0 });
      return value;
    };
    const t0 = performance.now();
    await timed('upload', 'git archive | ssh tar -x', 1, () =>
      run(
        'bash',
        [
          '-c',
          `set -o pipefail; git -C ${q(stage.repo)} archive --format=tar ${sha} | ssh ${plainSsh.map(q).join(' ')} ${q(
            `mkdir -p ${dir} && tar -x -C ${dir} && echo ${sha} > ${dir}/REVISION && ln -s ../../shared/.env ${dir}/.env`,
          )}`,
        ],
        'upload',
      ),
    );
    await timed('build', 'venv + pip install --no-index', 1, () =>
      ssh(
        `cd ${dir} && /usr/bin/python3 -m venv --system-site-packages venv && venv/bin/python -m pip install --disable-pip-version-check --no-index -r requirements.txt`,
        'venv + pip',
      ),
    );
    await timed('build', 'manage.py collectstatic --noinput', 1, () =>
      ssh(`cd ${dir} && venv/bin/python manage.py collectstatic --noinput`, 'collectstatic'),
    );
    await timed('build', 'manage.py check --deploy', 1, () =>
      ssh(`cd ${dir} && venv/bin/python manage.py check --deploy`, 'check --deploy'),
    );
    const plan = await timed('plan', 'manage.py migrate --plan', 1, () =>
      ssh(`cd ${dir} && venv/bin/python manage.py migrate --plan`, 'migrate --plan'),
    );
    // What a user reads in the plan: with nothing pending there is nothing to back up before.
    if (!/No planned migration operations/.test(plan)) {
      await timed('backup', 'pg_dump -Fc', 1, () =>
        ssh(
          `mkdir -p ${deployTo}/shared/backups && pg_dump -Fc -d "$(sed -n 's/^DATABASE_URL=//p' ${deployTo}/shared/.env)" -f ${deployTo}/shared/backups/${release}.dump`,
          'pg_dump',
        ),
      );
      await timed('migrate', 'manage.py migrate --noinput', 1, () =>
        ssh(`cd ${dir} && venv/bin/python manage.py migrate --noinput`, 'migrate'),
      );
    }
    await timed('switch', 'ln -sfn (switch current)', 1, () =>
      ssh(`cd ${deployTo} && ln -sfn releases/${release} current`, 'switch'),
    );
    // The seeds reload by restart: gunicorn's socket closes until the new master listens.
    await timed('switch', 'supervisorctl restart', 1, () =>
      ssh(`supervisorctl -c ${stage.supervisor.configPath} restart ${stage.program}`, 'restart'),
    );
    // A careful user curls until the new commit answers (the old workers finish their requests first).
    await timed('health', `curl /health until the new commit (every ${HEALTH_POLL_MS} ms)`, 0, async () => {
      const deadline = performance.now() + 30_000;
      for (;;) {
        const body = await run('curl', ['-sS', '--max-time', '5', healthUrl], 'curl').catch(() => '');
        if (body.includes(sha)) return;
        if (performance.now() > deadline) throw new Error(`/health never reported ${sha} after the hand deploy`);
        await sleep(HEALTH_POLL_MS);
      }
    });
    return { sha, totalMs: performance.now() - t0, commands };
  }

  async function handshakes(): Promise<{ plain: number[]; muxed: number[] }> {
    const plain: number[] = [];
    for (let i = 0; i < HANDSHAKES; i += 1) {
      const t0 = performance.now();
      await ssh('true', 'ssh true');
      plain.push(performance.now() - t0);
    }
    // The same `true` over a ControlMaster connection, the way the action runs every phase script.
    const control = path.join(stage.dir, 'mux');
    const muxArgs = plainSsh.map((a) => (a === 'ControlMaster=no' ? 'ControlMaster=auto' : a));
    muxArgs[muxArgs.indexOf('ControlPath=none')] = `ControlPath=${control}`;
    await run('ssh', ['-o', 'ControlPersist=60', '-f', '-N', ...muxArgs], 'ssh master', { detached: true });
    cleanups.push(() => run('ssh', ['-O', 'exit', ...muxArgs], 'ssh -O exit'));
    const muxed: number[] = [];
    for (let i = 0; i < HANDSHAKES; i += 1) {
      const t0 = performance.now();
      await run('ssh', [...muxArgs, 'true'], 'ssh true (multiplexed)');
      muxed.push(performance.now() - t0);
    }
    return { plain, muxed };
  }

  // Warm-up, not measured: the first deploy starts gunicorn and creates the schema; caches get warm.
  console.log('warm-up: first deploy (not measured)');
  await ours(git(stage.repo, 'rev-parse', 'HEAD'));

  // A release that changes code and no model: a new commit of a changed page.
  const codeOnly = (what: string) => {
    appendFileSync(path.join(stage.repo, 'ocpizza', 'views.py'), `\n# bench: ${what}\n`);
    return stage.commit(`bench: code only (${what})`);
  };
  const oursDeploys: OursRun[] = [];
  const oursRedeploys: OursRun[] = [];
  const rawDeploys: RawRun[] = [];
  const rawRedeploys: RawRun[] = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    // Each deploy brings a new migration: the full path (plan, backup, migrate) runs, as for a real release.
    const doOurs = async () => {
      addMigration(stage.repo, 'add-field');
      const sha = stage.commit(`bench round ${round}: ours`);
      const deploy = await ours(sha);
      oursDeploys.push(deploy);
      console.log(`round ${round}: ours deploy ${ms(deploy.stepMs)}`);
      const redeploy = await ours(codeOnly(`ours ${round}`));
      oursRedeploys.push(redeploy);
      console.log(`round ${round}: ours code-only ${ms(redeploy.stepMs)}, ${redeploy.failed} failed answers`);
    };
    const doRaw = async () => {
      addMigration(stage.repo, 'add-field');
      const sha = stage.commit(`bench round ${round}: by hand`);
      const deploy = await byHand(sha, `manual-${round}`);
      rawDeploys.push(deploy);
      console.log(`round ${round}: by hand deploy ${ms(deploy.totalMs)}`);
      const redeploy = await byHand(codeOnly(`by hand ${round}`), `manual-${round}-code`);
      rawRedeploys.push(redeploy);
      console.log(`round ${round}: by hand code-only ${ms(redeploy.totalMs)}, ${redeploy.failed} failed answers`);
    };
    // Alternating which goes first, so a busy moment of the shared machine does not always hit the same one.
    if (round % 2) {
      await doOurs();
      await doRaw();
    } else {
      await doRaw();
      await doOurs();
    }
  }
  const shakes = await handshakes();
  const versions = {
    node: process.version,
    ssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(),
    pg: stage.pg.majorVersion,
  };
  const report = render({
    loadAtStart,
    oursDeploys,
    oursRedeploys,
    rawDeploys,
    rawRedeploys,
    shakes,
    versions,
    totalSeconds: (performance.now() - started) / 1000,
  });
  writeFileSync(path.join(here, 'deploy.md'), report);
  console.log(report);
}

interface Measured {
  loadAtStart: string;
  oursDeploys: OursRun[];
  oursRedeploys: OursRun[];
  rawDeploys: RawRun[];
  rawRedeploys: RawRun[];
  shakes: { plain: number[]; muxed: number[] };
  versions: { node: string; ssh: string; pg: number };
  totalSeconds: number;
}

/** What the action does in each phase and what the hand procedure does for it (nothing, for the safety phases). */
const PHASES: Record<string, { ours: string; raw?: string }> = {
  connect: { ours: 'one SSH master connection (ControlMaster), host key verified against ssh-known-hosts' },
  lock: {
    ours: 'flock on the server, held by a remote shell for the whole deploy, which also runs preflight and reads the env file',
  },
  preflight: {
    ours: 'checks what the lock holder read (required-env, free disk, what `current` serves): no round trip',
  },
  upload: {
    ours: 'release-log line, `git archive` streamed into `tar -x`, REVISION, shared links',
    raw: '`git archive | ssh … tar -x`, REVISION, .env link',
  },
  build: {
    ours: 'venv, pip install --no-index, collectstatic, check --deploy (one script)',
    raw: 'venv + pip, collectstatic, check --deploy (3 connections)',
  },
  plan: {
    ours: 'one `manage.py shell`: database settings, the migrate plan, a verdict per operation',
    raw: '`migrate --plan`',
  },
  backup: {
    ours: 'db-backup on the server in two scripts: clients and server version; `pg_dump -Fc` to .partial, `pg_restore --list`, sha256, rename',
    raw: '`pg_dump -Fc -f`',
  },
  'maintenance on': {
    ours: 'flag file in shared/, only for a host that does not migrate (with a migration it rides in that script)',
  },
  migrate: { ours: '`migrate --noinput`', raw: '`migrate --noinput`' },
  switch: {
    ours: 'atomic symlink switch (rename) + `supervisorctl signal HUP` + wait until the old workers have exited (one script; maintenance off in it when on)',
    raw: '`ln -sfn` + `supervisorctl restart` (2 connections)',
  },
  'maintenance off': { ours: 'flag file removed' },
  health: {
    ours: 'smoke-check engine until /health reports the commit (backoff from 500 ms, jitter)',
    raw: `curl every ${HEALTH_POLL_MS} ms until /health reports the commit`,
  },
  prune: { ours: '"succeeded" release-log line and removal of those beyond keep-releases (one script)' },
};

function render(m: Measured): string {
  const phaseNames: string[] = [];
  for (const run of [...m.oursDeploys, ...m.oursRedeploys])
    for (const p of run.phases) if (!phaseNames.includes(p.name)) phaseNames.push(p.name);

  const oursPhase = (runs: OursRun[], name: string): number | 'skipped' => {
    const values = runs.map((r) => r.phases.filter((p) => p.name === name && p.status === 'ok'));
    if (values.every((v) => v.length === 0)) return 'skipped';
    return median(values.map((v) => v.reduce((s, p) => s + p.ms, 0)));
  };
  const rawPhase = (runs: RawRun[], name: string): number | undefined => {
    const values = runs.map((r) => r.commands.filter((c) => c.phase === name));
    if (values.every((v) => v.length === 0)) return undefined;
    return median(values.map((v) => v.reduce((s, c) => s + c.ms, 0)));
  };
  const value = (value: number | 'skipped' | undefined) =>
    value === 'skipped' ? 'skipped' : value === undefined ? '—' : ms(value);
  const sumPhases = (run: OursRun, only?: Set<string>) =>
    run.phases.filter((p) => p.status === 'ok' && (!only || only.has(p.name))).reduce((s, p) => s + p.ms, 0);

  const shared = new Set(Object.entries(PHASES).flatMap(([name, p]) => (p.raw ? [name] : [])));
  // Ours counts its post step too: the job waits for it (key file removed, master connection closed).
  const total = (r: OursRun) => r.stepMs + r.postMs;
  const oursTotal = median(m.oursDeploys.map(total));
  const oursReTotal = median(m.oursRedeploys.map(total));
  const rawTotal = median(m.rawDeploys.map((r) => r.totalMs));
  const rawReTotal = median(m.rawRedeploys.map((r) => r.totalMs));
  const handshake = median(m.shakes.plain);
  const muxed = median(m.shakes.muxed);
  const rawConnections = (runs: RawRun[]) => runs[0]?.commands.reduce((s, c) => s + c.connections, 0) ?? 0;
  const oursCommands = (run: OursRun | undefined) => run?.phases.length ?? 0;

  const rows: string[] = [];
  for (const name of phaseNames) {
    const d = PHASES[name];
    rows.push(
      `| ${name} | ${cell(d?.ours ?? '')} | ${value(oursPhase(m.oursDeploys, name))} | ${value(rawPhase(m.rawDeploys, name))} | ${cell(d?.raw ?? 'nothing')} | ${value(oursPhase(m.oursRedeploys, name))} | ${value(rawPhase(m.rawRedeploys, name))} |`,
    );
  }
  const medianOf = (runs: OursRun[], f: (r: OursRun) => number) => median(runs.map(f));
  const sharedOurs = medianOf(m.oursDeploys, (r) => sumPhases(r, shared));
  const sharedOursRe = medianOf(m.oursRedeploys, (r) => sumPhases(r, shared));
  const safetyOurs = medianOf(m.oursDeploys, (r) => sumPhases(r) - sumPhases(r, shared));
  const safetyOursRe = medianOf(m.oursRedeploys, (r) => sumPhases(r) - sumPhases(r, shared));
  const outside = medianOf(m.oursDeploys, (r) => r.stepMs - sumPhases(r));
  const outsideRe = medianOf(m.oursRedeploys, (r) => r.stepMs - sumPhases(r));
  const postMs = medianOf(m.oursDeploys, (r) => r.postMs);
  const postReMs = medianOf(m.oursRedeploys, (r) => r.postMs);
  rows.push(
    `| **phases both do** (upload, build, plan, backup, migrate, switch, health) | | **${ms(sharedOurs)}** | **${ms(rawTotal)}** | | **${ms(sharedOursRe)}** | **${ms(rawReTotal)}** |`,
    `| phases only ours does (connect, lock, preflight, maintenance, prune) | | ${ms(safetyOurs)} | — | | ${ms(safetyOursRe)} | — |`,
    `| outside the phases (Node 24 start, inputs, key file, summary) | | ${ms(outside)} | — | | ${ms(outsideRe)} | — |`,
    `| post step (key file removed, master connection closed) | | ${ms(postMs)} | — | | ${ms(postReMs)} | — |`,
    `| **total** (ours: main + post step wall time; by hand: first command to healthy) | | **${ms(oursTotal)}** | **${ms(rawTotal)}** | | **${ms(oursReTotal)}** | **${ms(rawReTotal)}** |`,
    `| overhead of ours vs by hand | | **${pct(oursTotal, rawTotal)}** | | | **${pct(oursReTotal, rawReTotal)}** | |`,
  );

  const commandRows: string[] = [];
  const labels: { phase: string; label: string; connections: number }[] = [];
  for (const run of [...m.rawDeploys, ...m.rawRedeploys])
    for (const c of run.commands) if (!labels.some((l) => l.label === c.label)) labels.push(c);
  for (const { phase, label, connections } of labels) {
    const each = (runs: RawRun[]) =>
      runs.map((r) => r.commands.find((c) => c.label === label)).filter((c): c is RawCommand => c !== undefined);
    const d = each(m.rawDeploys);
    const r = each(m.rawRedeploys);
    commandRows.push(
      `| ${cell(label)} | ${phase} | ${connections} | ${d.length ? ms(median(d.map((c) => c.ms))) : '—'} | ${r.length ? ms(median(r.map((c) => c.ms))) : '—'} | ${d.map((c) => Math.round(c.ms)).join(', ') || '—'} |`,
    );
  }

  const runs = <R extends { failed: number; answered: number; load: number }>(list: R[], f: (r: R) => number) =>
    list.map((r) => `${Math.round(f(r))} (${r.failed}/${r.answered}, load ${r.load.toFixed(1)})`).join(', ');
  const sec = (value: number) => `${(value / 1000).toFixed(1)} s`;
  const failureRows: string[] = [];
  const slowRows: string[] = [];
  const describeRuns = (label: string, list: (OursRun | RawRun)[]) =>
    list.forEach((run, i) => {
      const where = (atMs: number) => ('timeline' in run ? `, ${phaseAt(run, atMs)}` : '');
      for (const f of run.failures)
        failureRows.push(
          `| ${label} #${i + 1} | ${sec(f.atMs)}${where(f.atMs)} | ${Math.round(f.tookMs)} ms | ${cell(f.what)} |`,
        );
      slowRows.push(
        `| ${label} #${i + 1} | ${Math.round(run.slowest.tookMs)} ms | ${sec(run.slowest.atMs)}${where(run.slowest.atMs)} | load ${run.load.toFixed(1)} |`,
      );
    });
  describeRuns('runbook deploy', m.oursDeploys);
  describeRuns('runbook code-only', m.oursRedeploys);
  describeRuns('by hand deploy', m.rawDeploys);
  describeRuns('by hand code-only', m.rawRedeploys);
  const oursRuns = [...m.oursDeploys, ...m.oursRedeploys];
  const rawRuns = [...m.rawDeploys, ...m.rawRedeploys];
  /** The failed answers by what they were: `status 502 ×40, timed out ×1`. */
  const kinds = (list: LoadDetail[]) => {
    const counts = new Map<string, number>();
    for (const f of list.flatMap((r) => r.failures)) {
      const kind = /timed out/.test(f.what) ? 'timed out after 5 s' : f.what;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return [...counts].map(([k, n]) => `${k} ×${n}`).join(', ');
  };
  const slowCounts = new Map<string, number>();
  for (const run of oursRuns) {
    const phase = phaseAt(run, run.slowest.atMs).replace(/^≈ /, '');
    slowCounts.set(phase, (slowCounts.get(phase) ?? 0) + 1);
  }
  const oursSlowPhases = [...slowCounts].map(([p, n]) => `${p} (${n} of ${oursRuns.length})`).join(', ');
  const sumFailed = (list: { failed: number; answered: number }[]) =>
    `${list.reduce((n, r) => n + r.failed, 0)} of ${list.reduce((n, r) => n + r.answered, 0)} answers`;
  // Where ours is slower, phase by phase, with the reason the code gives.
  const pip = m.rawDeploys.flatMap((r) => r.commands.filter((c) => c.label.startsWith('venv')).map((c) => c.ms));
  const pipSpread = pip.length ? `${ms(Math.min(...pip))} to ${ms(Math.max(...pip))}` : '—';
  const why = (name: string) =>
    name === 'build'
      ? `The same commands in one script, over one connection instead of three: nothing in the code makes it slower; the hand \`venv + pip\` alone ranged from ${pipSpread} over the rounds, so this is within the spread of the shared machine.`
      : (WHY_SLOWER[name] ?? '');
  const slower: string[] = [];
  const extra: string[] = [];
  for (const name of phaseNames) {
    const compare = (ours: OursRun[], raw: RawRun[], what: string) => {
      const o = oursPhase(ours, name);
      const r = rawPhase(raw, name);
      return typeof o === 'number' && r !== undefined && o > r
        ? `${what} ${ms(o)} against ${ms(r)} by hand (+${ms(o - r)})`
        : undefined;
    };
    const found = [
      compare(m.oursDeploys, m.rawDeploys, 'deploy'),
      compare(m.oursRedeploys, m.rawRedeploys, 'code-only'),
    ].filter((t) => t !== undefined);
    if (found.length) slower.push(`- **${name}**: ${found.join('; ')}. ${why(name)}`);
    if (!PHASES[name]?.raw && WHY_EXTRA[name]) {
      const o = oursPhase(m.oursDeploys, name);
      const re = oursPhase(m.oursRedeploys, name);
      extra.push(`- **${name}** (${value(o)}; code-only ${value(re)}): ${WHY_EXTRA[name]}`);
    }
  }
  const backups = m.oursDeploys.flatMap((r) => (r.backup ? [r.backup] : []));
  const backupPhase = oursPhase(m.oursDeploys, 'backup');
  const backupLine =
    backups.length && typeof backupPhase === 'number'
      ? `Inside the backup phase (the db-backup code's own log lines, medians): checks before the dump ${ms(median(backups.map((b) => b.checksMs)))}, the dump ${ms(median(backups.map((b) => b.dumpMs)))}, the verification with the sha256 and the rename ${ms(median(backups.map((b) => b.verifyMs)))}. The checks before the dump include the first script (clients, server version, names taken); the rest of the ${ms(backupPhase)} is reading DATABASE_URL from shared/.env and preparing the directory (a command over the master connection each) and starting the second script, the one that dumps, checks, hashes and renames.`
      : '';
  // Medians of a few runs on a shared machine: say when the runs of the two sides overlap.
  const spread = (ours: number[], raw: number[], what: string) => {
    const range = (v: number[]) => `${ms(Math.min(...v))} to ${ms(Math.max(...v))}`;
    const overlap = Math.min(...ours) <= Math.max(...raw) && Math.min(...raw) <= Math.max(...ours);
    return overlap
      ? `The ${what} runs overlap (ours ${range(ours)}, by hand ${range(raw)}): this run does not separate the two beyond that spread.`
      : `The ${what} runs do not overlap (ours ${range(ours)}, by hand ${range(raw)}).`;
  };
  const load = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(', ');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const perCommandSaving = handshake - muxed;

  return `# deploy benchmark (target ssh, one host)

Written by \`test/bench/deploy.ts\` (\`npm run bench\`, or \`npx tsx test/bench/deploy.ts\`) on ${new Date().toISOString().slice(0, 10)}:
${os.cpus().length} CPU cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${m.versions.ssh}, PostgreSQL ${m.versions.pg},
Node ${m.versions.node} for the script and the harness, Node 24 for the action. The machine is shared with other
engineers' test runs (load average ${m.loadAtStart} at the start, ${load} at the end, on 2 cores): the spread in the
runs columns is part of the result. Every number below was measured in
this run (${m.totalSeconds.toFixed(0)} s in all, ${m.oursDeploys.length} rounds).

## Method

- **One stage** (\`test/e2e/deploy-world.ts\`, the one the e2e tests use): a private PostgreSQL ${m.versions.pg}, gunicorn
  (2 workers, \`--chdir\` to \`current\`) under supervisord, nginx in front, a Git repository of the Django fixture,
  and the test bed's sshd on 127.0.0.1 as the one host (ed25519 keys, host key checked by both sides of the
  comparison). The client and the server share the 2 cores, so every CPU-bound step (pip, Django, pg_dump) is
  the same work in both columns.
- **Warm-up** (not measured): one first deploy with the action (starts gunicorn, creates the schema).
- **Rounds**: ${m.oursDeploys.length}, each with (a) a new commit that adds a migration, deployed by the action, then (c) the same
  commit deployed again by the action; and (b) another new commit with a migration deployed by hand, then the same
  commit again by hand. Which of the two goes first alternates between rounds. Tables show medians.
- **(a) ours**: \`runAction\` of the bundle just built (\`node .ci/build.mjs deploy\`, copied aside so a parallel
  rebuild of \`dist/\` cannot change it mid-run) through the runner harness, \`target: ssh\`, the
  e2e inputs (\`stageInputs\`: venv with \`--system-site-packages\`, \`pip-args: --no-index\`, \`reload: hup\`, the
  health gate on nginx's \`/health\`, \`backup: auto\`, \`maintenance: auto\`). Per-phase times are read from the
  phase table of the step summary the action writes (the \`Duration\` column, measured by the action itself);
  the total is the harness's wall time of the main step (process spawn to exit) plus that of the post step (key
  file removed, master connection closed), since a job waits for both.
- **(b) by hand**: the seeds' procedure (fetch the code, virtualenv, \`pip install -r requirements.txt\`,
  collectstatic, back up the database before migrating, migrate, restart), each command a **new plain \`ssh\`**
  (\`-F /dev/null\`, \`ControlMaster=no\`, \`ControlPath=none\`, host key checked), into a release directory next to
  ours, with the same settings as the action: \`git archive | ssh … tar -x\`; \`python3 -m venv --system-site-packages
  venv && pip install --no-index -r requirements.txt\`; \`collectstatic --noinput\`; \`check --deploy\`;
  \`migrate --plan\`; \`pg_dump -Fc\` (only when the plan lists migrations, as the action's \`backup: auto\`);
  \`migrate --noinput\` (likewise); \`ln -sfn\` of \`current\`; \`supervisorctl restart\` (the seeds' reload); then \`curl\` of \`/health\`
  from the runner every ${HEALTH_POLL_MS} ms until it reports the new commit. Total: first command started to the new commit
  answering. The hand procedure has no lock, no preflight, no maintenance flag, no release log, no pruning and no
  rollback if the health check fails.
- **(c) code-only release**: a new commit that changes a view and no model; \`migrate --plan\` lists nothing, so
  neither side backs up or migrates.
- **Load during every run**: one client asks \`/health\` through nginx every 50 ms while each deploy runs (ours and
  by hand alike), a new connection each, 5 s without an answer being a timeout; every answer other than a 200
  counts as failed, and each is listed with the time it was sent and what it was. The 1-minute load average is read as each run
  starts and shown beside its total.
- **Handshake**: \`ssh … true\` ${HANDSHAKES} times over new connections, and ${HANDSHAKES} times over one ControlMaster connection
  (what the action does for each phase script).

## Per phase and in total (medians)

Columns: *runbook deploy* and *runbook code-only* are the action's phase durations (from its summary);
*by hand* and *by hand code-only* are the sums of the hand commands that do the same work (a new SSH connection each);
"—" means the hand procedure has no such step. Every cell is a median on its own, so the phase rows do not add
up exactly to the medians of the sums below them.

| Phase | What runbook does | runbook deploy | by hand | What the hand procedure runs | runbook code-only | by hand code-only |
| --- | --- | ---: | ---: | --- | ---: | ---: |
${rows.join('\n')}

Each run in round order: total (ms), failed answers of the load client / answers, 1-minute load average at its start:

| | runs |
| --- | --- |
| runbook deploy with a migration (main + post) | ${runs(m.oursDeploys, total)} |
| by hand with a migration | ${runs(m.rawDeploys, (r) => r.totalMs)} |
| runbook code-only (main + post) | ${runs(m.oursRedeploys, total)} |
| by hand code-only | ${runs(m.rawRedeploys, (r) => r.totalMs)} |

Ratio of the medians, ours / by hand: **${(oursTotal / rawTotal).toFixed(2)}×** with a migration, **${(oursReTotal / rawReTotal).toFixed(2)}×** for a code-only release (the goal of issue 17: ≤ 1.3× with 0 failed requests). Failed answers in all: ours ${sumFailed([...m.oursDeploys, ...m.oursRedeploys])}, by hand ${sumFailed([...m.rawDeploys, ...m.rawRedeploys])}.

The action's own \`duration-ms\` output (its first phase to the end of its work, without Node's start):
median ${ms(median(m.oursDeploys.map((r) => r.actionMs)))} (deploy), ${ms(median(m.oursRedeploys.map((r) => r.actionMs)))} (code-only).

## Failed and slow answers

Each answer of the load client other than a 200 (a status, or the client's 5 s timeout with no answer): when it was
sent (since the run started), how long it took, and for ours the phase running then (≈: the action's own timeline,
placed so that it ends as the main step ends; Node's start is before it).

| Run | Sent at | Took | What |
| --- | --- | ---: | --- |
${failureRows.join('\n') || '| (none) | | | |'}

The slowest answer of each run (a 200 or not):

| Run | Slowest answer | Sent at | Load at the start |
| --- | ---: | --- | --- |
${slowRows.join('\n')}

## The hand commands, each

| Command | Phase | New SSH connections | Median (deploy) | Median (code-only) | Runs, deploy (ms) |
| --- | --- | ---: | ---: | ---: | --- |
${commandRows.join('\n')}

## SSH handshake

| | Median | Min | Max |
| --- | ---: | ---: | ---: |
| \`ssh … true\`, a new connection each (${HANDSHAKES}×) | ${ms(handshake)} | ${ms(Math.min(...m.shakes.plain))} | ${ms(Math.max(...m.shakes.plain))} |
| \`ssh … true\` over one ControlMaster connection (${HANDSHAKES}×) | ${ms(muxed)} | ${ms(Math.min(...m.shakes.muxed))} | ${ms(Math.max(...m.shakes.muxed))} |

The hand deploy opens ${rawConnections(m.rawDeploys)} connections (${rawConnections(m.rawRedeploys)} for a code-only). The action opens one and runs every
script of its ${oursCommands(m.oursDeploys[0])} phases over it: about ${ms(perCommandSaving)} less per command here
(the difference of the two medians above), so about ${ms(rawConnections(m.rawDeploys) * perCommandSaving)} over the ${rawConnections(m.rawDeploys)} hand commands. On loopback a
handshake costs only CPU (key exchange, authentication, starting a session on a busy 2-core machine); over the
Internet to a droplet or an EC2 instance each one also pays several round trips of latency, which the hand
procedure pays ${rawConnections(m.rawDeploys)} times and the action once. A command over the master connection is not
free either: every one still starts an \`ssh\` client process and a remote shell.

## Reading it

- The overhead of the action against the hand procedure is **${pct(oursTotal, rawTotal)}** for a deploy with a migration
  (${ms(oursTotal)} against ${ms(rawTotal)}) and **${pct(oursReTotal, rawReTotal)}** for a code-only release
  (${ms(oursReTotal)} against ${ms(rawReTotal)}). Negative means the action was faster.
  ${spread(
    m.oursDeploys.map(total),
    m.rawDeploys.map((r) => r.totalMs),
    'deploy',
  )}
  ${spread(
    m.oursRedeploys.map(total),
    m.rawRedeploys.map((r) => r.totalMs),
    'code-only',
  )}
- On the work both do, the action took ${ms(sharedOurs)} against ${ms(rawTotal)} by hand (${pct(sharedOurs, rawTotal)}); on a code-only
  ${ms(sharedOursRe)} against ${ms(rawReTotal)} (${pct(sharedOursRe, rawReTotal)}). The rest of its time goes to what the hand
  procedure does not do: the phases that make it safe (${ms(safetyOurs)}), starting Node 24 with the bundle,
  reading inputs, writing the key file and the summary (${ms(outside)}), and the
  post step (${ms(postMs)}).
- Where a phase of the action is faster than its hand equivalent, the handshakes explain most of it: the hand
  build opens 3 connections, its switch 2, and each costs about ${ms(perCommandSaving)} more than a command over the
  action's master connection. The action's extra cost is fixed (a few small scripts, one verified backup), not
  proportional to the work: the longer pip and migrate take, the smaller it is in percent.
- Failed answers: ours ${sumFailed(oursRuns)}, by hand ${sumFailed(rawRuns)} (${kinds(rawRuns) || 'none'}${kinds(oursRuns) ? `; ours: ${kinds(oursRuns)}` : ''}).
  The slowest answer of each run of ours came during ${oursSlowPhases} (at most ${ms(Math.max(...oursRuns.map((r) => r.slowest.tookMs)))}).
  On a HUP, gunicorn (20.1, sync workers) forks the new workers and at once tells the old ones to stop
  (\`Arbiter.reload\`, then \`manage_workers\` stops the oldest): no request is refused, but those that arrive
  while the new workers still import Django wait in the socket's backlog, and nginx holds them. That wait grows with
  the machine's load; past the load client's 5 s it counts as a failed answer (a timeout, no status). The hand
  restart stops the master and its socket: nginx answers 502 until the new master listens.

Where ours is slower, phase by phase:

${slower.length ? slower.join('\n') : '- nowhere: every phase that has a hand equivalent was as fast or faster.'}

${backupLine}

What the phases without a hand equivalent cost, and what they buy:

${extra.join('\n')}

The CPU-bound steps (pip, collectstatic, check --deploy, migrate) dominate both columns and are the same commands;
differences of a few hundred milliseconds between single runs of them are noise from the shared machine.

Round trips (issue 17): every phase that touches the server does it in one script over the one master connection:
the lock holder also runs preflight and reads the environment file; the release-log line travels with the upload;
one \`manage.py shell\` reads the database settings, the migration plan and each operation's verdict; the switch and
the reload are one script; the "succeeded" line and the pruning another; behind a breaking migration, maintenance
goes on in the migrate script and off in the switch script. A code-only release makes 6 round trips, one with a
breaking migration 8 (test/unit/deploy/run.test.ts counts them, so a regression fails there), each still an \`ssh\` client start and a
remote shell (${ms(muxed)} for \`true\` in this run).
`;
}

/** What the phases the hand procedure does not have are for (from the code, not measured). */
const WHY_EXTRA: Record<string, string> = {
  connect: 'the one handshake of the deploy, with the host key checked against ssh-known-hosts before anything runs.',
  lock: "a shell on the server takes `flock` and holds it for the whole deploy; the holder prints a line once it holds the lock, and the action waits for that line on the holder's own output: one command over the connection, no polling; once it holds the lock it runs the preflight checks and prints the environment file in the same round trip. It stops two deploys from interleaving, and reports a lock left by a killed deploy.",
  preflight:
    'checks, on what the lock holder printed, that the required variables are in shared/.env and that the disk has room, and reads what `current` serves, before anything changes.',
  'maintenance on':
    'only when a pending migration is breaking for the serving code (`maintenance: auto`): the nginx flag file. An additive migration (these rounds add a nullable column) needs none.',
  'maintenance off': 'removes the flag once the new release is switched in.',
  prune:
    'writes the "succeeded" line of the release log and removes the releases beyond keep-releases in one script (under the lock, the releases are those preflight listed plus the new one), so the disk does not fill up release after release.',
};

/** Why a phase of ours can be slower than its hand equivalent, from what the code does (not a measurement). */
const WHY_SLOWER: Record<string, string> = {
  upload: 'The action also appends a "started" line to the release log and links the shared paths in the same phase.',
  plan: 'The same command; a difference here is noise.',
  backup:
    'The db-backup code does more than `pg_dump`: it asks the server its version to pick a matching client (one script), then dumps to a `.partial` file, reads the archive back with `pg_restore --list`, hashes it and renames it (a second script): a verified backup instead of an unchecked file.',
  migrate: 'The same command; a difference here is noise.',
  switch:
    'The action checks `supervisorctl status` before it signals (a program that is not running is started instead), one more supervisorctl call; then gunicorn starts new workers while the old ones finish, where the hand restart drops requests.',
  health:
    'The smoke-check engine retries with a backoff from 500 ms with full jitter, and the hand loop polls every 200 ms: after the HUP the old workers answer for a moment, so the engine waits a little longer before it sees the new commit.',
};

await main();
