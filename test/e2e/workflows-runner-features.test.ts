// The local workflow runner, second part: strategy.matrix (include/exclude, fail-fast, the matrix context), services
// mapped to the test bed's real PostgreSQL and MariaDB clusters (job.services.<id>.ports), `uses: ./` (the root
// composite, its coverage stage for real), github.event.inputs of a dispatch, and the local equivalents of
// actions/checkout (a clone of a local repository at the ref), setup-python (Debian's python3) and
// upload-artifact/download-artifact (a directory store). What they do not implement is refused by name.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startMariaDB, type MariaDBServer } from '../testbed/mariadb.js';
import { startPostgres, type PostgresServer } from '../testbed/postgres.js';
import { makeTempDir } from '../testbed/process.js';
import { runWorkflow, UnsupportedWorkflowError, type RunWorkflowOptions } from '../harness/workflow-runner.js';

let dir: string;
let pg: PostgresServer;
let maria: MariaDBServer;

beforeAll(async () => {
  dir = makeTempDir('workflow-features');
  [pg, maria] = await Promise.all([startPostgres(), startMariaDB()]);
}, 180_000);

afterAll(async () => {
  await Promise.all([pg?.stop(), maria?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function workflowFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const push = { name: 'push', payload: { ref: 'refs/heads/staging' } };
const run = (workflow: string, extra: Partial<RunWorkflowOptions> = {}) =>
  runWorkflow({ workflow, event: push, services: { postgres: pg, mysql: maria }, ...extra });
const outputsOf = (result: Awaited<ReturnType<typeof runWorkflow>>, job: string) =>
  result.jobs.find((j) => j.id === job)!.outputs;

test('a matrix runs each combination with its matrix context; fail-fast cancels the rest', async () => {
  const matrix = (failFast: boolean) =>
    workflowFile(
      `matrix-${failFast}.yml`,
      `on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    strategy:
      fail-fast: ${failFast}
      matrix:
        database: [postgresql, mysql]
        python: ['3.11', '3.12']
        exclude:
          - { database: mysql, python: '3.11' }
        include:
          - { database: mysql, client: mariadb }
    outputs:
      last: \${{ steps.one.outputs.seen }}
    steps:
      - id: one
        env:
          DATABASE: \${{ matrix.database }}
          PYTHON: \${{ matrix.python }}
          CLIENT: \${{ matrix.client || 'psql' }}
          INDEX: \${{ strategy.job-index }}/\${{ strategy.job-total }}
        run: |
          echo "seen=$INDEX $DATABASE $PYTHON $CLIENT" >>"$GITHUB_OUTPUT"
          [ "$PYTHON" != 3.12 ] || [ "$DATABASE" != postgresql ]
  after:
    needs: test
    if: always()
    runs-on: ubuntu-24.04
    outputs:
      result: \${{ steps.r.outputs.result }}
    steps:
      - id: r
        env:
          RESULT: \${{ needs.test.result }}
        run: echo "result=$RESULT" >>"$GITHUB_OUTPUT"
`,
    );
  const patient = await run(matrix(false));
  const job = patient.jobs[0];
  expect(job.combinations!.map((c) => [c.matrix, c.result])).toEqual([
    [{ database: 'postgresql', python: '3.11' }, 'success'],
    [{ database: 'postgresql', python: '3.12' }, 'failure'],
    [{ database: 'mysql', python: '3.12', client: 'mariadb' }, 'success'],
  ]);
  expect(job.result).toBe('failure');
  expect(job.outputs).toEqual({ last: '2/3 mysql 3.12 mariadb' });
  expect(outputsOf(patient, 'after')).toEqual({ result: 'failure' });

  const fast = await run(matrix(true));
  expect(fast.jobs[0].combinations!.map((c) => c.result)).toEqual(['success', 'failure', 'cancelled']);
  expect(fast.conclusion).toBe('failure');
}, 120_000);

test('services: PostgreSQL and MySQL images are the test bed clusters, on the ports job.services names', async () => {
  const workflow = workflowFile(
    'services.yml',
    `on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_PASSWORD: postgres
          POSTGRES_DB: app
        ports: ['5432']
        options: --health-cmd "pg_isready -U postgres" --health-interval 5s
      mysql:
        image: mysql:8.0
        env:
          MYSQL_ROOT_PASSWORD: mysql
          MYSQL_DATABASE: app
        ports: ['3306/tcp']
      redis:
        image: \${{ false && 'redis:7' || '' }}
    outputs:
      postgres: \${{ steps.pg.outputs.answer }}
      mysql: \${{ steps.my.outputs.answer }}
    steps:
      - id: pg
        env:
          PGPASSWORD: postgres
          PORT: \${{ job.services.postgres.ports['5432'] }}
        run: |
          echo "answer=$(psql -h 127.0.0.1 -p "$PORT" -U postgres -d app -Atc 'SELECT current_user || current_database()')" >>"$GITHUB_OUTPUT"
      - id: my
        env:
          MYSQL_PWD: mysql
          PORT: \${{ job.services.mysql.ports['3306'] }}
        run: |
          echo "answer=$(mariadb -h 127.0.0.1 -P "$PORT" -u root -N -e 'SELECT DATABASE()' app)" >>"$GITHUB_OUTPUT"
`,
  );
  const result = await run(workflow);
  expect(result.conclusion).toBe('success');
  expect(outputsOf(result, 'test')).toEqual({ postgres: 'postgresapp', mysql: 'app' });

  const fixed = workflowFile(
    'fixed-port.yml',
    `on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    services:
      postgres:
        image: postgres:16
        env: { POSTGRES_PASSWORD: postgres }
        ports: ['5432:5432']
    steps:
      - run: echo
`,
  );
  await expect(run(fixed)).rejects.toThrow(/fixes the host port.*write '5432' and read job\.services\.postgres\.ports/);
  await expect(
    run(workflowFile('redis.yml', fs.readFileSync(fixed, 'utf8').replace('postgres:16', 'redis:7'))),
  ).rejects.toThrow(
    new UnsupportedWorkflowError(
      "jobs.test.services.postgres: image 'redis:7' has no local equivalent (postgres, mysql, mariadb)",
    ),
  );
}, 120_000);

test('uses: ./ runs the root composite; a dispatch gives github.event.inputs as strings', async () => {
  const workflow = workflowFile(
    'root.yml',
    `on:
  workflow_dispatch:
    inputs:
      threshold: { type: number, default: 90 }
      comment: { type: boolean, default: false }
permissions: {}
jobs:
  release:
    runs-on: ubuntu-24.04
    outputs:
      coverage: \${{ steps.pipeline.outputs.coverage }}
      passed: \${{ steps.pipeline.outputs.passed }}
      raw: \${{ steps.raw.outputs.raw }}
    steps:
      - id: raw
        env:
          EVENT: \${{ github.event.inputs.threshold }}-\${{ github.event.inputs.comment }}
          TYPED: \${{ inputs.comment == false }}
        run: echo "raw=$EVENT $TYPED" >>"$GITHUB_OUTPUT"
      - id: pipeline
        uses: ./
        with:
          test-command: printf 'TN:\\nSF:app.py\\nDA:1,1\\nDA:2,1\\nDA:3,1\\nDA:4,0\\nend_of_record\\n' > lcov.info
          coverage-reports: lcov.info
          coverage-threshold: \${{ inputs.threshold }}
`,
  );
  const event = { name: 'workflow_dispatch', payload: { ref: 'refs/heads/master' } };
  const passed = await runWorkflow({ workflow, event, inputs: { threshold: 75 } });
  expect(outputsOf(passed, 'release')).toEqual({ coverage: '75.00', passed: 'true', raw: '75-false true' });
  const failed = await runWorkflow({ workflow, event, inputs: { threshold: 90 } });
  expect(failed.conclusion).toBe('failure');
  expect(outputsOf(failed, 'release')).toMatchObject({ coverage: '75.00', passed: 'false' });
}, 120_000);

test('checkout clones a local repository at the ref; setup-python is Debian’s; artifacts go from job to job', async () => {
  // The caller's repository: two commits and a tag, as a team's repository would have them.
  const repo = path.join(dir, 'shop');
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], {
      cwd: repo,
      encoding: 'utf8',
    }).trim();
  fs.mkdirSync(repo);
  git('init', '--quiet', '--initial-branch=master');
  fs.writeFileSync(path.join(repo, 'manage.py'), 'print("first")\n');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'first');
  git('tag', 'v1.0.0');
  fs.writeFileSync(path.join(repo, 'manage.py'), 'print("second")\n');
  git('commit', '--quiet', '-am', 'second');
  const head = git('rev-parse', 'HEAD');
  const workflow = workflowFile(
    'checkout.yml',
    `on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    outputs:
      shallow: \${{ steps.facts.outputs.shallow }}
      python: \${{ steps.python.outputs.python-version }}
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          ref: v1.0.0
          path: old
          fetch-depth: 0
      - id: python
        uses: actions/setup-python@e797f83bcb11b83ae66e0230d6156d7c80228e7c # v6.0.0
        with:
          python-version: '3.12'
      - id: facts
        run: |
          mkdir -p out/logs
          python manage.py >out/logs/now.txt
          python old/manage.py >out/logs/old.txt
          echo "shallow=$(git rev-list --count HEAD) $(git -C old rev-list --count HEAD) $(git -C old tag) $(command -v pip)" >>"$GITHUB_OUTPUT"
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: logs
          path: out/**/*.txt
          if-no-files-found: error
  use:
    needs: build
    runs-on: ubuntu-24.04
    outputs:
      logs: \${{ steps.read.outputs.logs }}
    steps:
      - uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          name: logs
          path: got
      - id: read
        run: echo "logs=$(cat got/logs/now.txt) $(cat got/logs/old.txt)" >>"$GITHUB_OUTPUT"
      - id: missing
        uses: actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093 # v4.3.0
        with:
          name: coverage-badge
`,
  );
  const artifacts = path.join(dir, 'artifacts');
  const result = await runWorkflow({
    workflow,
    event: { name: 'push', payload: { ref: 'refs/heads/master', after: head } },
    github: { repository: 'ocpizza/shop', sha: head },
    repositoryDir: repo,
    artifacts,
  });
  const python = execFileSync('/usr/bin/python3', ['-c', 'import platform; print(platform.python_version())'], {
    encoding: 'utf8',
  }).trim();
  expect(outputsOf(result, 'build').shallow).toMatch(/^1 1 v1\.0\.0 \/.*\/setup-python\/bin\/pip$/);
  expect(outputsOf(result, 'build').python).toBe(python);
  const setup = result.jobs[0].steps[2].result!;
  expect(setup.annotations.map((a) => a.message)).toContain(
    `python-version 3.12 was asked; this runner has Debian's Python ${python}`,
  );
  expect(fs.readFileSync(path.join(artifacts, 'logs', 'logs', 'now.txt'), 'utf8')).toBe('second\n');
  expect(outputsOf(result, 'use').logs).toBe('second first');
  expect(result.jobs[1].steps[2]).toMatchObject({
    outcome: 'failure',
    message: 'Artifact not found for name: coverage-badge',
  });

  const token = workflowFile(
    'token.yml',
    fs.readFileSync(workflow, 'utf8').replace('ref: v1.0.0', 'ref: v1.0.0\n          token: ${{ github.token }}'),
  );
  await expect(
    runWorkflow({
      workflow: token,
      event: push,
      github: { repository: 'ocpizza/shop', sha: head },
      repositoryDir: repo,
    }),
  ).rejects.toThrow(
    new UnsupportedWorkflowError(
      "jobs.build.steps[1]: actions/checkout input 'token' is not supported by the local runner",
    ),
  );
}, 120_000);
