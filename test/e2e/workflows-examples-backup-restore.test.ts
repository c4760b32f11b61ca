// The heroku-maintenance-backups example's nightly backup and restore, as the team copies them (`<owner>` filled in,
// pinned to @v1 of a clone of this repository), run by the local workflow runner: the 01:00 UTC schedule dumps the
// database, verifies it by a test restore and uploads it encrypted with db-backup's @actions/artifact client to the
// artifact service stand-in; a later workflow_dispatch restore downloads that artifact (actions/download-artifact,
// another run's, by run-id) from the same service and restores it only when the database name is typed.
import fs from 'node:fs';
import path from 'node:path';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow } from '../harness/workflow-runner.js';
import { startArtifactService, type ArtifactService } from '../stand-ins/artifact-service.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { exampleCaller, restoreOutcome } from '../support/workflow-examples.js';

const OWNER = 'ocpizza';
const PASSPHRASE = 'nightly passphrase 9c2d';
const TOKEN = 'ghs_e2eBackupRestoreToken5a7e1c3b9f';

let pg: PostgresServer;
let artifacts: ArtifactService;
let runbook: RepositorySnapshot;
let dir: string;
/** The nightly artifact's name, set by the first test. */
let nightlyFile = '';

beforeAll(async () => {
  [pg, artifacts] = await Promise.all([startPostgres(), startArtifactService()]);
  dir = makeTempDir('example-backup-restore');
  await pg.createDatabase('ocpizza');
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita'), ('regina')", 'ocpizza');
  runbook = snapshotRepository();
  runbook.tag('v1', runbook.commit('runbook under test'));
}, 120_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), artifacts?.stop()]);
  runbook?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const run = (workflow: string, name: string, payload: Record<string, unknown>, inputs?: Record<string, string>) =>
  runWorkflow({
    // The example's caller with `<owner>` filled in, as the team's copy says it.
    workflow: exampleCaller('heroku-maintenance-backups', workflow, dir, OWNER),
    event: { name, payload: { ...payload, repository: { full_name: `${OWNER}/ocpizza-api`, private: true } } },
    ...(inputs ? { inputs } : {}),
    secrets: { DATABASE_URL: pg.url('ocpizza'), BACKUP_PASSPHRASE: PASSPHRASE },
    // What the runner gives every step: the artifact service, as db-backup's client and the adapters see it.
    runnerEnv: { ACTIONS_RESULTS_URL: artifacts.resultsUrl, ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken },
    github: { repository: `${OWNER}/ocpizza-api`, token: TOKEN, ref: 'refs/heads/master' },
    repositories: { [`${OWNER}/runbook`]: runbook.dir },
  });

const pizzas = async () => (await pg.sql('SELECT name FROM pizza ORDER BY name', 'ocpizza')).trim().split('\n');

test('the 01:00 UTC schedule uploads a verified, encrypted backup to the artifact service', async () => {
  const result = await run('nightly-backup.yml', 'schedule', { schedule: '0 1 * * *' });
  expect(result.conclusion).toBe('success');
  const stored = artifacts.artifacts.filter((a) => a.finalized);
  expect(stored.map((a) => a.name)).toEqual([expect.stringMatching(/^ocpizza_\d{12}_\w+\.dump\.enc$/)]);
  expect(String(stored[0].id)).toBe(result.jobs[0].outputs['artifact-id']);
  expect(artifacts.violations).toEqual([]);
  nightlyFile = stored[0].name;
}, 300_000);

describe('restore.yml (workflow_dispatch) from that night', () => {
  beforeAll(async () => {
    if (!nightlyFile) throw new Error('the nightly backup did not run');
    // The day's damage the restore is for.
    await pg.sql("DELETE FROM pizza WHERE name = 'regina'; INSERT INTO pizza VALUES ('pineapple')", 'ocpizza');
  });

  test.each([
    ['a mistyped name', 'ocpizz'],
    ['no name', ''],
  ])(
    '%s is refused with one error naming confirm, and nothing changes',
    async (_, confirm) => {
      const inputs = { 'run-id': '4242', file: nightlyFile, confirm };
      const outcome = restoreOutcome(await run('restore.yml', 'workflow_dispatch', { inputs }, inputs));
      expect(outcome).toEqual({
        conclusion: 'failure',
        restore: 'failure',
        errors: [expect.stringMatching(/confirm/)],
      });
      expect(outcome.errors[0]).not.toMatch(/\n\s+at /);
      expect(await pizzas()).toEqual(['margherita', 'pineapple']);
    },
    180_000,
  );

  test('the typed database name restores the downloaded artifact, after a safety backup', async () => {
    const inputs = { 'run-id': '4242', file: nightlyFile, confirm: 'ocpizza' };
    const result = await run('restore.yml', 'workflow_dispatch', { inputs }, inputs);
    const [restore] = result.jobs[0].called!;
    // The download of the other run's artifact came from the service db-backup uploaded it to.
    expect(restore.steps.map((s) => [s.id, s.outcome, s.message])).toEqual([
      ['__run', 'success', undefined],
      ['__run_2', 'success', undefined],
      ['restore', 'success', undefined],
    ]);
    expect(result.conclusion).toBe('success');
    expect(result.jobs[0].outputs['restored-from'].endsWith(`/backups/${nightlyFile}`)).toBe(true);
    expect(result.jobs[0].outputs['safety-backup-path']).toMatch(/ocpizza-before-restore_\d{12}_\w+\.dump\.enc$/);
    expect(await pizzas()).toEqual(['margherita', 'regina']);
    expect(artifacts.calls).toEqual(expect.arrayContaining(['ListArtifacts', 'GetSignedArtifactURL', 'GetBlob']));
    expect(artifacts.violations).toEqual([]);
  }, 180_000);
});

test('upload-artifact in one job and download-artifact in the next use the same service', async () => {
  const workflow = path.join(dir, 'two-jobs.yml');
  fs.writeFileSync(
    workflow,
    `name: two jobs
on: push
permissions:
  contents: read
jobs:
  report:
    runs-on: ubuntu-24.04
    steps:
      - run: mkdir -p out && echo 'coverage 93 %' > out/coverage.txt
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: coverage-report
          path: out/coverage.txt
          retention-days: 3
  read:
    needs: report
    runs-on: ubuntu-24.04
    outputs:
      text: \${{ steps.read.outputs.text }}
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          name: coverage-report
          path: got
      - id: read
        run: echo "text=$(cat got/coverage.txt)" >> "$GITHUB_OUTPUT"
`,
  );
  const result = await runWorkflow({
    workflow,
    event: { name: 'push', payload: { ref: 'refs/heads/staging' } },
    runnerEnv: { ACTIONS_RESULTS_URL: artifacts.resultsUrl, ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken },
  });
  expect(result.conclusion).toBe('success');
  expect(result.jobs.find((j) => j.id === 'read')!.outputs).toEqual({ text: 'coverage 93 %' });
  const stored = artifacts.artifacts.find((a) => a.name === 'coverage-report');
  expect(stored).toMatchObject({ finalized: true, mimeType: 'application/zip' });
  expect(Date.parse(stored!.expiresAt!)).toBeGreaterThan(Date.now() + 2 * 86_400_000);
  expect(artifacts.violations).toEqual([]);
}, 120_000);
