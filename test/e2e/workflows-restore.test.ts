// The reusable restore-database.yml, called from a workflow_dispatch form as the examples do, run by the local
// workflow runner against a real PostgreSQL: a mistyped confirmation changes nothing and fails the run; the typed
// database name restores the backup after a safety backup, which outlives the job: uploaded to the artifact service
// stand-in (a later run downloads it) and, with safety-bucket, copied into the S3 stand-in, from where it undoes the
// restore; a caller on push does not get to restore at all.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startArtifactService, type ArtifactService } from '../stand-ins/artifact-service.js';
import { startS3Service, type S3Service } from '../stand-ins/s3-service.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir, runChecked } from '../testbed/process.js';
import { runWorkflow } from '../harness/workflow-runner.js';

let pg: PostgresServer;
let artifacts: ArtifactService;
let s3: S3Service;
let dir: string;
let backup: string;

beforeAll(async () => {
  [pg, artifacts, s3] = await Promise.all([startPostgres(), startArtifactService(), startS3Service()]);
  s3.createBucket('ocpizza-backups');
  dir = makeTempDir('workflow-restore');
  await pg.createDatabase('shop');
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita')", 'shop');
  backup = path.join(dir, 'shop_202612010300_1a2b3c4.dump');
  const args = ['-Fc', '-f', backup, '-h', pg.host, '-p', String(pg.port), '-U', pg.user, 'shop'];
  await runChecked(path.join(pg.binDir, 'pg_dump'), args, { env: { ...process.env, PGPASSWORD: pg.password } });
}, 60_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), artifacts?.stop(), s3?.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

function caller(name: string, on: string, more = { with: '', secrets: '' }): string {
  const file = path.join(dir, name);
  fs.writeFileSync(
    file,
    `name: restore database
on:
${on}
permissions:
  contents: read
jobs:
  restore:
    uses: ./.github/workflows/restore-database.yml
    permissions:
      contents: read
      actions: read
    with:
      environment: production
      backup: \${{ inputs.backup || 'latest' }}
      confirm: \${{ inputs.confirm || 'shop' }}
      storage: runner
${more.with}    secrets:
      DATABASE_URL: \${{ secrets.DATABASE_URL }}
${more.secrets}`,
  );
  return file;
}

const form = `  workflow_dispatch:
    inputs:
      backup:
        description: Backup to restore
        required: true
      confirm:
        description: Type the database name; its data will be ERASED
        required: true`;

/** A dispatch as GitHub sends it (the payload says the repository is private), on a runner with an artifact service. */
const dispatch = (workflow: string, inputs: Record<string, string>, secrets: Record<string, string> = {}) =>
  runWorkflow({
    workflow,
    event: { name: 'workflow_dispatch', payload: { inputs, repository: { full_name: 'ocpizza/shop', private: true } } },
    inputs,
    secrets: { DATABASE_URL: pg.url('shop'), ...secrets },
    runnerEnv: { ACTIONS_RESULTS_URL: artifacts.resultsUrl, ACTIONS_RUNTIME_TOKEN: artifacts.runtimeToken },
    github: { repository: 'ocpizza/shop', token: 'ghs_e2eRestoreSafetyToken0f3b9c2d7a' },
  });

const pizzas = async () => (await pg.sql('SELECT name FROM pizza ORDER BY name', 'shop')).trim().split('\n');

test('a mistyped confirmation fails the run and changes nothing', async () => {
  await pg.sql("INSERT INTO pizza VALUES ('hawaii')", 'shop');
  const run = await dispatch(caller('dispatch.yml', form), { backup, confirm: 'shopp' });
  expect(run.conclusion).toBe('failure');
  const [restore] = run.jobs[0].called!;
  expect(restore.environment).toEqual({ name: 'production', url: '' });
  const step = restore.steps.find((s) => s.id === 'restore')!;
  expect(step.outcome).toBe('failure');
  expect(step.result!.annotations.map((a) => a.message).join('\n')).toMatch(/confirm/);
  expect(await pizzas()).toEqual(['hawaii', 'margherita']);
  expect(artifacts.artifacts).toEqual([]);
}, 120_000);

/** The pizzas a custom archive holds, read by restoring it into a scratch database. */
async function pizzasIn(archive: string): Promise<string[]> {
  const scratch = `scratch_${path.basename(archive).replace(/\W/g, '_')}`.slice(0, 60);
  await pg.createDatabase(scratch);
  const args = ['--no-owner', '-h', pg.host, '-p', String(pg.port), '-U', pg.user, '-d', scratch, archive];
  await runChecked(path.join(pg.binDir, 'pg_restore'), args, { env: { ...process.env, PGPASSWORD: pg.password } });
  return (await pg.sql('SELECT name FROM pizza ORDER BY name', scratch)).trim().split('\n');
}

test('the typed database name restores the backup, after a safety backup that a later run downloads', async () => {
  const run = await dispatch(caller('dispatch.yml', form), { backup, confirm: 'shop' });
  expect(run.conclusion).toBe('success');
  const outputs = run.jobs[0].outputs;
  expect(outputs['restored-from']).toBe(backup);
  const safetyName = path.basename(outputs['safety-backup-path']);
  expect(safetyName).toMatch(/^shop-before-restore_\d{12}_\w+\.dump$/);
  expect(await pizzas()).toEqual(['margherita']);
  // The runner's copy went with the job; the artifact service holds it, named after the file.
  const stored = artifacts.artifacts.filter((a) => a.finalized);
  expect(stored.map((a) => [a.name, String(a.id)])).toEqual([[safetyName, outputs['safety-artifact-id']]]);
  expect(Date.parse(stored[0].expiresAt!)).toBeGreaterThan(Date.now() + 13 * 86_400_000);
  const step = run.jobs[0].called![0].steps.find((s) => s.id === 'restore')!;
  expect(step.result!.summary).toContain(`| Safety backup artifact | [\`${safetyName}\`](`);

  // A later run of the same repository downloads it (another run's artifact, by run-id) and gets the data as it
  // was before the restore, 'hawaii' included.
  const kept = path.join(dir, 'downloaded');
  const fetch = path.join(dir, 'fetch.yml');
  fs.writeFileSync(
    fetch,
    `name: fetch the safety backup
on:
  workflow_dispatch:
    inputs:
      name: { description: Artifact name, required: true }
      keep: { description: Where to copy it, required: true }
permissions:
  contents: read
jobs:
  fetch:
    runs-on: ubuntu-24.04
    permissions:
      actions: read
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          name: \${{ inputs.name }}
          run-id: '1'
          github-token: \${{ github.token }}
          path: got
      - env:
          KEEP: \${{ inputs.keep }}
        run: mkdir -p "$KEEP" && cp got/* "$KEEP"/
`,
  );
  const fetched = await dispatch(fetch, { name: safetyName, keep: kept });
  expect(fetched.conclusion).toBe('success');
  expect(fs.readdirSync(kept)).toEqual([safetyName]);
  expect(await pizzasIn(path.join(kept, safetyName))).toEqual(['hawaii', 'margherita']);
  expect(artifacts.violations).toEqual([]);
}, 180_000);

test('with safety-bucket the safety backup is also in the bucket, from where a second dispatch undoes the restore', async () => {
  await pg.sql("INSERT INTO pizza VALUES ('napoli')", 'shop');
  const s3With = {
    // This caller keeps the safety backup in the bucket only.
    with: `      safety-artifact: false
      safety-bucket: s3://ocpizza-backups/before-restore
      s3-endpoint: ${s3.endpoint}
      s3-region: ${s3.region}
`,
    secrets: `      S3_ACCESS_KEY_ID: \${{ secrets.S3_ACCESS_KEY_ID }}
      S3_SECRET_ACCESS_KEY: \${{ secrets.S3_SECRET_ACCESS_KEY }}
`,
  };
  const keys = { S3_ACCESS_KEY_ID: s3.accessKeyId, S3_SECRET_ACCESS_KEY: s3.secretAccessKey };
  const workflow = caller('dispatch-bucket.yml', form, s3With);
  const run = await dispatch(workflow, { backup, confirm: 'shop' }, keys);
  expect(run.conclusion).toBe('success');
  expect(await pizzas()).toEqual(['margherita']);
  const url = run.jobs[0].outputs['safety-backup-url'];
  const name = path.basename(run.jobs[0].outputs['safety-backup-path']);
  expect(url).toBe(`s3://ocpizza-backups/before-restore/${name}`);
  const object = s3.read('ocpizza-backups', `before-restore/${name}`);
  const digest = createHash('sha256').update(object).digest('hex');
  expect(s3.read('ocpizza-backups', `before-restore/${name}.sha256`).toString()).toBe(`${digest}  ${name}\n`);
  const step = run.jobs[0].called![0].steps.find((s) => s.id === 'restore')!;
  expect(step.result!.summary).toContain(`| Safety backup in the bucket | \`${url}\``);
  expect(step.result!.masks).toContain(s3.secretAccessKey);
  const printed = step.result!.log.split('\n').filter((line) => !line.startsWith('::add-mask::'));
  expect([...printed, step.result!.summary].join('\n')).not.toContain(s3.secretAccessKey);

  // Restoring the wrong backup is undone from the bucket copy (checked against its SHA-256 on the way back).
  const undo = await dispatch(workflow, { backup: url, confirm: 'shop' }, keys);
  expect(undo.conclusion).toBe('success');
  expect(undo.jobs[0].outputs['restored-from']).toBe(url);
  expect(await pizzas()).toEqual(['margherita', 'napoli']);
  expect(artifacts.artifacts.filter((a) => a.name.includes('before-restore'))).toHaveLength(1);
}, 240_000);

test('a caller on push cannot restore: the job is skipped', async () => {
  await pg.sql("INSERT INTO pizza VALUES ('regina')", 'shop');
  const before = await pizzas();
  const run = await runWorkflow({
    workflow: caller('push.yml', '  push:\n    branches: [master]'),
    event: { name: 'push', payload: { ref: 'refs/heads/master' } },
    secrets: { DATABASE_URL: pg.url('shop') },
  });
  expect(run.triggered).toBe(true);
  expect(run.jobs[0].called).toEqual([expect.objectContaining({ id: 'restore', result: 'skipped', steps: [] })]);
  expect(before).toContain('regina');
  expect(await pizzas()).toEqual(before);
}, 60_000);
