// A caller pinned to @v1 runs what the tag v1 holds, not the working tree: in a clone of this repository, v1 on a
// commit whose dist/db-backup was never built fails the backup; v1 moved to a commit with the built dist backs up
// the test bed's PostgreSQL, through a step `uses: <owner>/runbook/actions/db-backup@v1`. (The job form,
// `uses: <owner>/runbook/.github/workflows/<w>.yml@v1`, runs in workflows-nightly-backup.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow, UnsupportedWorkflowError, WorkflowError } from '../harness/workflow-runner.js';

let pg: PostgresServer;
let repo: RepositorySnapshot;
let dir: string;
let good: string;
let broken: string;

beforeAll(async () => {
  pg = await startPostgres();
  await pg.createDatabase('shop');
  await pg.sql("CREATE TABLE pizza (name text); INSERT INTO pizza VALUES ('margherita')", 'shop');
  dir = makeTempDir('workflow-pinned');
  repo = snapshotRepository();
  // A release made before dist was built: the bundle is missing from the tag.
  broken = repo.commit('db-backup without its bundle', (tree) =>
    fs.rmSync(path.join(tree, 'dist', 'db-backup'), { recursive: true }),
  );
  good = repo.commit('db-backup built');
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  repo?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const caller = (uses: string) => {
  const file = path.join(dir, `${uses.includes('workflows') ? 'job' : 'step'}.yml`);
  fs.writeFileSync(
    file,
    uses.includes('workflows')
      ? `on: push
permissions:
  contents: read
jobs:
  backup:
    uses: ${uses}
    permissions:
      contents: read
    with:
      keep-days: 3
    secrets:
      DATABASE_URL: \${{ secrets.DATABASE_URL }}
`
      : `on: push
permissions:
  contents: read
jobs:
  backup:
    runs-on: ubuntu-24.04
    steps:
      - id: backup
        uses: ${uses}
        with:
          database-url: \${{ secrets.DATABASE_URL }}
          directory: ${path.join(dir, 'backups')}
`,
  );
  return file;
};

const run = (uses: string, repository = 'ocpizza/runbook') =>
  runWorkflow({
    workflow: caller(uses),
    event: { name: 'push', payload: { ref: 'refs/heads/master', repository: { private: true } } },
    secrets: { DATABASE_URL: pg.url('shop') },
    repositoryDir: repo.dir,
    github: { sha: good, repository },
  });

test('a step pinned to @v1 runs the tag: a tag without the built dist fails, the built one backs up', async () => {
  repo.tag('v1', broken);
  // GitHub fails such a step for its missing main file; the harness refuses to start it, naming the file.
  await expect(run('ocpizza/runbook/actions/db-backup@v1')).rejects.toThrow(
    /dist\/db-backup\/index\.js does not exist/,
  );

  repo.tag('v1', good);
  const passed = await run('ocpizza/runbook/actions/db-backup@v1');
  expect(passed.conclusion).toBe('success');
  const made = passed.jobs[0].steps[0].result!.outputs.path;
  expect(path.basename(made)).toMatch(new RegExp(`^shop_\\d{12}_${good.slice(0, 7)}\\.dump$`));
  expect(fs.existsSync(made)).toBe(true);
}, 180_000);

test('an unknown ref or another repository is an error, not a skip', async () => {
  await expect(run('ocpizza/runbook/actions/db-backup@v9')).rejects.toThrow(WorkflowError);
  await expect(run('someone/else/actions/db-backup@v1')).rejects.toThrow(UnsupportedWorkflowError);
}, 60_000);
