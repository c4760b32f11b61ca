// `npm run demo`: what runbook does for the sample Django app (test/fixtures/django), end to end on this machine.
//
// A server as the seeds run it is started privately (PostgreSQL, gunicorn under supervisord, nginx with the
// maintenance flag), release 1 is deployed, then a change goes the documented way: a commit on `staging` with a new
// migration, merged into `master`. The master push's job is replayed step by step through the runner harness,
// with the built dist/ bundles: tests under the coverage gate, the staging guard (against the local GitHub API
// stand-in), the deploy (pre-migration backup, maintenance, migrate, switch, reload, health gate), a smoke check of
// the live site, then the nightly backup and a restore drill into a scratch database. Each step's job summary is
// printed. Nothing leaves the machine, and everything it started is stopped at the end.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Job, type StepResult } from '../harness/index.js';
import { git, stageInputs, startStage, type DeployStage } from '../e2e/deploy-world.js';
import { GitHistory } from '../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { pushEvent } from '../stand-ins/github-events.js';
import { addMigration } from '../testbed/django-app.js';
import { printSummary } from './terminal.js';

const REPO = 'ocpizza/site';
const TOKEN = 'ghs_demoTokenNeverPrinted0123456789';

const root = new URL('../..', import.meta.url).pathname;
execFileSync('bash', [path.join(root, '.ci/provision.sh')], { stdio: 'inherit' });

let stage: DeployStage | undefined;
let api: GitHubApiStandIn | undefined;
let failed = false;
try {
  console.log('Starting a private server: PostgreSQL, gunicorn under supervisord, nginx …');
  stage = await startStage();
  const repo = stage.repo;
  git(repo, 'branch', '-m', 'master');
  const password = new URL(stage.databaseUrl).password;
  const secrets = [password, TOKEN];
  const deployInputs = { target: 'local', ...stageInputs(stage) };

  // Release 1 is what serves before the change.
  const v1 = git(repo, 'rev-parse', 'HEAD');
  const bootstrap = new Job({ secrets, github: { workspace: repo, sha: v1, repository: REPO, actor: 'ada-baker' } });
  const first = await bootstrap.step('deploy', { action: 'deploy', inputs: deployInputs, timeoutMs: 240_000 });
  await bootstrap.finish();
  bootstrap.dispose();
  if (first.exitCode !== 0) {
    printSummary('deploy of release 1', first);
    throw new Error('the first deploy failed');
  }
  console.log(`Release 1 (${v1.slice(0, 7)}) serves at ${stage.nginx.url}`);

  // The change, the documented way: staging first, then a merge into master.
  git(repo, 'switch', '-q', '-c', 'staging');
  addMigration(repo, 'add-field');
  const stagingHead = stage.commit('orders: a note on each order');
  git(repo, 'switch', '-q', 'master');
  git(repo, 'merge', '-q', '--no-ff', '-m', 'Merge pull request #12 from ocpizza/staging', 'staging');
  const merge = git(repo, 'rev-parse', 'HEAD');
  console.log(
    `staging (${stagingHead.slice(0, 7)}) merged into master as ${merge.slice(0, 7)}: replaying the push job`,
  );

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
        job.step('coverage', {
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
    ['staging guard', () => job.step('guard', { action: 'staging-guard', inputs: { 'wait-for-checks': '0' } })],
    [
      'deploy',
      () =>
        job.step('deploy', { action: 'deploy', inputs: { ...deployInputs, maintenance: 'auto' }, timeoutMs: 240_000 }),
    ],
    [
      'smoke check of the live site',
      () =>
        job.step('smoke', {
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
        job.step('backup', {
          action: 'db-backup',
          inputs: {
            'database-url': stage!.databaseUrl,
            directory: path.join(stage!.dir, 'backups'),
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
        return job.step('drill', {
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
    const result = await (typeof step === 'function' ? step() : step);
    printSummary(title, result);
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
process.exit(failed ? 1 : 0);
