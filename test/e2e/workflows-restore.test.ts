// The reusable restore-database.yml, called from a workflow_dispatch form as the examples do, run by the local
// workflow runner against a real PostgreSQL: a mistyped confirmation changes nothing and fails the run; the typed
// database name restores the backup after a safety backup; a caller on push does not get to restore at all.
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir, runChecked } from '../testbed/process.js';
import { runWorkflow } from '../harness/workflow-runner.js';

let pg: PostgresServer;
let dir: string;
let backup: string;

beforeAll(async () => {
  pg = await startPostgres();
  dir = makeTempDir('workflow-restore');
  await pg.createDatabase('shop');
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita')", 'shop');
  backup = path.join(dir, 'shop_202612010300_1a2b3c4.dump');
  const args = ['-Fc', '-f', backup, '-h', pg.host, '-p', String(pg.port), '-U', pg.user, 'shop'];
  await runChecked(path.join(pg.binDir, 'pg_dump'), args, { env: { ...process.env, PGPASSWORD: pg.password } });
}, 60_000);

afterAll(async () => {
  await pg?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function caller(name: string, on: string): string {
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
    secrets:
      DATABASE_URL: \${{ secrets.DATABASE_URL }}
`,
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

const pizzas = async () => (await pg.sql('SELECT name FROM pizza ORDER BY name', 'shop')).trim().split('\n');

test('a mistyped confirmation fails the run and changes nothing', async () => {
  await pg.sql("INSERT INTO pizza VALUES ('hawaii')", 'shop');
  const run = await runWorkflow({
    workflow: caller('dispatch.yml', form),
    event: { name: 'workflow_dispatch', payload: { inputs: { backup, confirm: 'shopp' } } },
    inputs: { backup, confirm: 'shopp' },
    secrets: { DATABASE_URL: pg.url('shop') },
  });
  expect(run.conclusion).toBe('failure');
  const [restore] = run.jobs[0].called!;
  expect(restore.environment).toEqual({ name: 'production', url: '' });
  const step = restore.steps.find((s) => s.id === 'restore')!;
  expect(step.outcome).toBe('failure');
  expect(step.result!.annotations.map((a) => a.message).join('\n')).toMatch(/confirm/);
  expect(await pizzas()).toEqual(['hawaii', 'margherita']);
}, 120_000);

test('the typed database name restores the backup, after a safety backup', async () => {
  const run = await runWorkflow({
    workflow: caller('dispatch.yml', form),
    event: { name: 'workflow_dispatch', payload: { inputs: { backup, confirm: 'shop' } } },
    inputs: { backup, confirm: 'shop' },
    secrets: { DATABASE_URL: pg.url('shop') },
  });
  expect(run.conclusion).toBe('success');
  expect(run.jobs[0].outputs['restored-from']).toBe(backup);
  expect(run.jobs[0].outputs['safety-backup-path']).toMatch(/shop-before-restore_\d{12}_\w+\.dump$/);
  expect(await pizzas()).toEqual(['margherita']);
}, 120_000);

test('a caller on push cannot restore: the job is skipped', async () => {
  await pg.sql("INSERT INTO pizza VALUES ('regina')", 'shop');
  const run = await runWorkflow({
    workflow: caller('push.yml', '  push:\n    branches: [master]'),
    event: { name: 'push', payload: { ref: 'refs/heads/master' } },
    secrets: { DATABASE_URL: pg.url('shop') },
  });
  expect(run.triggered).toBe(true);
  expect(run.jobs[0].called).toEqual([expect.objectContaining({ id: 'restore', result: 'skipped', steps: [] })]);
  expect(await pizzas()).toEqual(['margherita', 'regina']);
}, 60_000);
