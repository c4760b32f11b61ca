import fs from 'node:fs';
import path from 'node:path';
import { copyFixture, gunicornCommand, httpGet, productionEnv, type HealthBody } from '../testbed/django-app.js';
import { startNginx, type NginxServer } from '../testbed/nginx.js';
import { freePort } from '../testbed/ports.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { startSupervisord, type SupervisordServer } from '../testbed/supervisord.js';
import { runAction, type StepResult } from '../harness/index.js';
import { git } from '../support/git.js';
import type { SshServer } from '../testbed/sshd.js';

/**
 * A server as the seeds run it, on this machine: PostgreSQL, gunicorn under supervisord (chdir to the `current`
 * symlink, no preload: what the deploy README recommends), nginx in front with the maintenance flag, and a Git
 * repository holding the Django fixture to deploy from.
 */
export interface DeployStage {
  dir: string;
  repo: string;
  deployTo: string;
  pg: PostgresServer;
  supervisor: SupervisordServer;
  nginx: NginxServer;
  appPort: number;
  databaseUrl: string;
  program: string;
  /** Commits whatever changed in the repository; returns the sha. */
  commit(message: string): string;
  health(): Promise<{ status: number; body?: HealthBody }>;
  current(): string | undefined;
  log(): { release: string; outcome: string; commit: string }[];
  stop(): Promise<void>;
}

export { git };

export async function startStage(
  options: { deployTo?: string; dir?: string; progress?: (what: string) => void } = {},
): Promise<DeployStage> {
  const progress = options.progress ?? (() => undefined);
  const dir = options.dir ?? makeTempDir('deploy-e2e');
  progress('a Git repository with the Django app');
  const repo = await copyFixture(path.join(dir, 'repo'));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'OC Pizza v1');
  const deployTo = options.deployTo ?? path.join(dir, 'srv', 'ocpizza');
  fs.mkdirSync(path.join(deployTo, 'shared'), { recursive: true });

  progress('PostgreSQL');
  const pg = await startPostgres();
  await pg.createDatabase('ocpizza');
  const databaseUrl = pg.url('ocpizza');
  const env = productionEnv({ databaseUrl, secure: false });
  fs.writeFileSync(
    path.join(deployTo, 'shared', '.env'),
    Object.entries(env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );

  const appPort = await freePort();
  const program = 'ocpizza';
  progress('supervisord (gunicorn waits for the first deploy)');
  const supervisor = await startSupervisord({
    programs: {
      [program]: {
        command: gunicornCommand({
          projectDir: path.join(deployTo, 'current'),
          bind: `127.0.0.1:${appPort}`,
          workers: 2,
          gracefulTimeout: 10,
        }).command,
        // Nothing to serve before the first deploy: the deploy's reload starts it.
        autostart: false,
        autorestart: 'unexpected',
        startsecs: 1,
        stopasgroup: true,
        environment: { PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8' },
      },
    },
  });
  progress('nginx with the maintenance flag');
  const nginx = await startNginx({
    upstream: `127.0.0.1:${appPort}`,
    maintenanceFlagPath: path.join(deployTo, 'shared', 'maintenance.on'),
  });

  return {
    dir,
    repo,
    deployTo,
    pg,
    supervisor,
    nginx,
    appPort,
    databaseUrl,
    program,
    commit(message) {
      git(repo, 'add', '-A');
      git(repo, 'commit', '-q', '-m', message);
      return git(repo, 'rev-parse', 'HEAD');
    },
    async health() {
      // A connection reset (no HTTP answer at all) was seen once in a full CI run on the loaded 2-core machine; the
      // tests judge what the site answers, so a reset is retried twice. Any HTTP status is returned as is.
      let answer: Awaited<ReturnType<typeof httpGet>> | undefined;
      for (let attempt = 1; !answer; attempt += 1) {
        try {
          answer = await httpGet(`${nginx.url}/health`);
        } catch (error) {
          if (attempt === 3) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      let body: HealthBody | undefined;
      try {
        body = JSON.parse(answer.body) as HealthBody;
      } catch {
        body = undefined;
      }
      return { status: answer.status, body };
    },
    current() {
      try {
        return path.basename(fs.readlinkSync(path.join(deployTo, 'current')));
      } catch {
        return undefined;
      }
    },
    log() {
      const file = path.join(deployTo, 'releases.jsonl');
      if (!fs.existsSync(file)) return [];
      return fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l) as { release: string; outcome: string; commit: string });
    },
    async stop() {
      await nginx?.stop();
      await supervisor?.stop();
      await pg?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Inputs shared by the e2e deploys: the fixture from Debian's packages (no PyPI here), a HUP reload, the health gate. */
export function stageInputs(stage: DeployStage): Record<string, string> {
  return {
    'deploy-to': stage.deployTo,
    venv: 'true',
    python: '/usr/bin/python3',
    'venv-args': '--system-site-packages',
    'pip-args': '--no-index',
    'required-env': 'SECRET_KEY, DATABASE_URL',
    reload: 'hup',
    'supervisor-program': stage.program,
    'supervisor-config': stage.supervisor.configPath,
    'health-url': `${stage.nginx.url}/health`,
    'health-timeout': '30s',
    'lock-timeout': '2s',
  };
}

/**
 * stageInputs for the end-to-end tests: each release's virtualenv is made `--without-pip`, so `pip install` runs
 * Debian's pip (seen through `--system-site-packages`) instead of a copy ensurepip installs into every release
 * (`-m venv` took 4.8 s with it, 0.1 s without, at load 2; a whole deploy about 7 s). The deploy runs the same
 * commands, `-m venv` and `-m pip install -r` included; deploy-real-app, the demo and the benchmark keep venv pip.
 */
export function e2eInputs(stage: DeployStage): Record<string, string> {
  return { ...stageInputs(stage), 'venv-args': '--system-site-packages --without-pip' };
}

/**
 * In a test file: starts a stage before its tests (handing it to `use`) and stops it after them. Uses Jest's
 * global hooks, so only test files call it (the demo and the benchmarks start their stage themselves).
 */
export function useStage(
  use: (stage: DeployStage) => void,
  start: () => Promise<DeployStage> = () => startStage(),
): void {
  let started: DeployStage | undefined;
  beforeAll(async () => {
    started = await start();
    use(started);
  }, 120_000);
  afterAll(async () => {
    await started?.stop();
  });
}

/** One deploy of `sha` with target local on the stage, through the runner harness. */
export function deployLocally(
  stage: DeployStage,
  sha: string,
  extra: Record<string, string> = {},
): Promise<StepResult> {
  return runAction({
    action: 'deploy',
    inputs: { target: 'local', ...e2eInputs(stage), ...extra },
    github: { sha, workspace: stage.repo, actor: 'octocat' },
    secrets: [new URL(stage.databaseUrl).password],
    timeoutMs: 150_000,
  });
}

/** Every path below the deploy directory (symlinks not followed), sorted: what a run left behind. */
export function releaseTree(stage: DeployStage): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() && !e.isSymbolicLink() ? [p, ...walk(p)] : [p];
    });
  return walk(stage.deployTo).sort();
}

/** The inputs that aim a deploy at the test bed's sshd with its key and host key (strict host checking). */
export function sshTargetInputs(sshd: SshServer): Record<string, string> {
  return {
    target: 'ssh',
    'ssh-host': `${sshd.host}:${sshd.port}`,
    'ssh-user': sshd.user,
    'ssh-private-key': sshd.privateKey,
    'ssh-known-hosts': sshd.knownHosts,
  };
}
