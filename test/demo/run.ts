// `npm run demo`: what runbook does for the sample Django app (test/fixtures/django), end to end on this machine.
//
// A server as the seeds run it is started privately (PostgreSQL, gunicorn under supervisord, nginx with the
// maintenance flag), release 1 is deployed, then a change goes the documented way: a commit on `staging` with a new
// migration, merged into `master`. The master push's job is replayed step by step through the runner harness,
// with the built dist/ bundles: tests under the coverage gate, the staging guard (against the local GitHub API
// stand-in), the deploy (pre-migration backup, maintenance, migrate, switch, reload, health gate), a smoke check of
// the live site, then the nightly backup and a restore drill into a scratch database. Each step's job summary is
// printed, and kept with the release folder and the backups in demo-output/ (replaced on each run, ignored by git).
// Nothing leaves the machine, and every service it started is stopped at the end.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Job, type JobStepOptions, type StepResult } from '../harness/index.js';
import { git, stageInputs, startStage, type DeployStage } from '../e2e/deploy-world.js';
import { GitHistory } from '../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { pushEvent } from '../stand-ins/github-events.js';
import { addMigration } from '../testbed/django-app.js';
import { Masker, liveLines, printSummary, say } from './terminal.js';

const REPO = 'ocpizza/site';
const TOKEN = 'ghs_demoTokenNeverPrinted0123456789';

const root = new URL('../..', import.meta.url).pathname;
const output = path.join(root, 'demo-output');
// provision.sh ends any failure with one line saying what to run; nothing needs adding to it.
const provisioned = spawnSync('bash', [path.join(root, '.ci/provision.sh')], { stdio: 'inherit' });
if (provisioned.status !== 0) {
  if (provisioned.error) console.error(`demo: could not run .ci/provision.sh (${provisioned.error.message})`);
  process.exit(1);
}
rmSync(output, { recursive: true, force: true });
mkdirSync(path.join(output, 'summaries'), { recursive: true });
let saved = 0;
/** Prints a step's summary and keeps its Markdown in demo-output/summaries/. */
function show(title: string, result: StepResult): void {
  printSummary(title, result);
  saved += 1;
  writeFileSync(path.join(output, 'summaries', `${saved}-${result.id}.md`), `<!-- ${title} -->\n${result.summary}`);
}

let stage: DeployStage | undefined;
let api: GitHubApiStandIn | undefined;
let failed = false;
try {
  say('Starting a private server: PostgreSQL, gunicorn under supervisord, nginx');
  stage = await startStage({
    deployTo: path.join(output, 'srv', 'ocpizza'),
    progress: (what) => say(`  starting ${what}`),
  });
  const repo = stage.repo;
  git(repo, 'branch', '-m', 'master');
  const password = new URL(stage.databaseUrl).password;
  const secrets = [password, TOKEN];
  const deployInputs = { target: 'local', ...stageInputs(stage) };
  const masker = new Masker(secrets);
  /** Runs a step, showing its phases as they start and end. */
  const run = (job: Job, id: string, options: JobStepOptions) =>
    job.step(id, { ...options, onLine: liveLines(masker) });

  // Release 1 is what serves before the change.
  const v1 = git(repo, 'rev-parse', 'HEAD');
  const bootstrap = new Job({ secrets, github: { workspace: repo, sha: v1, repository: REPO, actor: 'ada-baker' } });
  say(`Deploying release 1 (${v1.slice(0, 7)}): the virtualenv is built once, which takes the longest`);
  const first = await run(bootstrap, 'deploy', { action: 'deploy', inputs: deployInputs, timeoutMs: 240_000 });
  await bootstrap.finish();
  bootstrap.dispose();
  if (first.exitCode !== 0) {
    show('deploy of release 1', first);
    throw new Error('the first deploy failed');
  }
  say(`Release 1 (${v1.slice(0, 7)}) serves at ${stage.nginx.url}`);

  // The change, the documented way: staging first, then a merge into master.
  git(repo, 'switch', '-q', '-c', 'staging');
  addMigration(repo, 'add-field');
  const stagingHead = stage.commit('orders: a note on each order');
  git(repo, 'switch', '-q', 'master');
  git(repo, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #12 from ocpizza/staging', 'staging');
  const merge = git(repo, 'rev-parse', 'HEAD');
  say(`staging (${stagingHead.slice(0, 7)}) merged into master as ${merge.slice(0, 7)}: replaying the push job`);

  // The GitHub API stand-in knows the pull request and the checks CI ran on staging.
  api = await GitHubApiStandIn.start({ owner: 'ocpizza', repo: 'site', git: GitHistory.open(repo), token: TOKEN });
  api.addCheckRun(stagingHead, { name: 'tests' });
  api.addCheckRun(stagingHead, { name: 'coverage' });
  api.addPull({
    number: 12,
    headRef: 'staging',
    headSha: stagingHead,
    baseRef: 'master',
    state: 'closed',
    mergeCommitSha: merge,
    mergedAt: new Date().toISOString(),
    title: 'orders: a note on each order',
  });

  const job = new Job({
    secrets,
    github: { workspace: repo, sha: merge, ref: 'refs/heads/master', repository: REPO, apiUrl: api.url, token: TOKEN },
    event: { name: 'push', payload: pushEvent({ repo: REPO, branch: 'master', before: v1, after: merge }) },
  });
  const steps: [string, Promise<StepResult> | (() => Promise<StepResult>)][] = [
    [
      'tests under the coverage gate',
      () =>
        run(job, 'coverage', {
          action: 'coverage-gate',
          inputs: {
            command:
              '/usr/bin/python3 -m coverage run --branch manage.py test --noinput -v 0 && /usr/bin/python3 -m coverage xml -q -o coverage.xml',
            reports: 'coverage.xml',
            threshold: '90',
          },
          env: { DATABASE_URL: `sqlite:///${path.join(stage!.dir, 'tests.sqlite3')}`, PYTHONDONTWRITEBYTECODE: '1' },
          timeoutMs: 240_000,
        }),
    ],
    ['staging guard', () => run(job, 'guard', { action: 'staging-guard', inputs: { 'wait-for-checks': '0' } })],
    [
      'deploy',
      () =>
        run(job, 'deploy', { action: 'deploy', inputs: { ...deployInputs, maintenance: 'auto' }, timeoutMs: 240_000 }),
    ],
    [
      'smoke check of the live site',
      () =>
        run(job, 'smoke', {
          action: 'smoke-check',
          inputs: {
            checks: [
              `- url: ${stage!.nginx.url}/health`,
              `  expect-version: ${merge}`,
              `  version-from: json:$.commit`,
              `- url: ${stage!.nginx.url}/`,
              `  body-contains: Margherita`,
              `- url: ${stage!.nginx.url}/version`,
              `  body-contains: commit=${merge}`,
            ].join('\n'),
            deadline: '30s',
          },
        }),
    ],
    [
      'nightly backup (OCPDB_YYYYMMDDHHMM, 14 days kept)',
      () =>
        run(job, 'backup', {
          action: 'db-backup',
          inputs: {
            'database-url': stage!.databaseUrl,
            directory: path.join(output, 'backups'),
            prefix: 'OCPDB',
            'keep-days': '14',
          },
        }),
    ],
    [
      'restore drill into a scratch database',
      async () => {
        await stage!.pg.createDatabase('ocpizza_drill');
        const drill = new URL(stage!.databaseUrl);
        drill.pathname = '/ocpizza_drill';
        return run(job, 'drill', {
          action: 'db-restore',
          inputs: {
            backup: '${{ steps.backup.outputs.path }}',
            'database-url': drill.href,
            confirm: 'ocpizza_drill',
            'skip-safety-backup': 'true',
          },
        });
      },
    ],
  ];
  for (const [title, step] of steps) {
    say(`${title} …`);
    const result = await (typeof step === 'function' ? step() : step);
    show(title, result);
    if (result.exitCode !== 0) {
      failed = true;
      break;
    }
  }
  await job.finish();
  job.dispose();
  if (!failed) {
    const health = await stage.health();
    console.log(`\n${stage.nginx.url}/health now answers ${health.status}: ${JSON.stringify(health.body)}`);
    console.log('\nPipeline: 6 steps, all green.');
  }
} catch (error) {
  failed = true;
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await api?.stop();
  await stage?.stop();
}
console.log(
  [
    `\nKept in ${output}/ (replaced by the next run; the services are stopped):`,
    `  summaries/      each step's job summary, as Markdown (GitHub shows it on the run's page)`,
    `  srv/ocpizza/    the release folder: releases/, current, shared/ (.env, the pre-migration backup)`,
    `  backups/        the nightly backup the restore drill read`,
  ].join('\n'),
);
process.exit(failed ? 1 : 0);
