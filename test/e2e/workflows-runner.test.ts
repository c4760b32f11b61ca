// The local workflow runner (first part): a workflow is validated by GitHub's parser, matched against the event,
// and its jobs run in `needs` order with `if:`, outputs, environment and env, `run:` steps and `uses: ./actions/x`
// (the built smoke-check bundle against a local HTTP server). What it cannot run yet is refused by name.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../testbed/process.js';
import { runWorkflow, UnsupportedWorkflowError, WorkflowError } from '../harness/workflow-runner.js';

const sha = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
let site: { status: number; commit: string };
let server: http.Server;
let port: number;
let dir: string;

beforeAll(async () => {
  dir = makeTempDir('workflow-runner');
  server = http.createServer((_, response) => {
    response.writeHead(site.status, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ status: 'ok', commit: site.commit }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

function workflowFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const pipeline = () =>
  workflowFile(
    'pipeline.yml',
    `name: pipeline
on:
  push:
    branches: [staging, 'release/**']
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-24.04
    outputs:
      branch: \${{ steps.who.outputs.branch }}
    steps:
      - id: who
        env:
          REF_NAME: \${{ github.ref_name }}
        run: echo "branch=$REF_NAME" >> "$GITHUB_OUTPUT"
  check:
    needs: build
    if: needs.build.outputs.branch == 'staging'
    runs-on: ubuntu-24.04
    environment:
      name: staging
      url: http://127.0.0.1:\${{ env.PORT }}/
    env:
      PORT: '${port}'
    outputs:
      healthy: \${{ steps.smoke.outputs.healthy }}
    steps:
      - id: smoke
        uses: ./actions/smoke-check
        with:
          urls: http://127.0.0.1:\${{ env.PORT }}/health
          expect-version: \${{ github.sha }}
          version-from: json:$.commit
          deadline: 20s
      - if: failure()
        run: echo "the smoke check failed" >> "$GITHUB_STEP_SUMMARY"
  after-failure:
    needs: check
    if: failure()
    runs-on: ubuntu-24.04
    steps:
      - run: echo "rolling back"
  report:
    needs: [build, check]
    if: always()
    runs-on: ubuntu-24.04
    outputs:
      line: \${{ steps.line.outputs.line }}
    steps:
      - id: line
        env:
          HEALTHY: \${{ needs.check.outputs.healthy }}
          RESULT: \${{ needs.check.result }}
        run: echo "line=check $RESULT, healthy '$HEALTHY'" >> "$GITHUB_OUTPUT"
`,
  );

const push = (branch: string) => ({ name: 'push', payload: { ref: `refs/heads/${branch}`, after: sha } });
const summary = (run: Awaited<ReturnType<typeof runWorkflow>>) =>
  Object.fromEntries(run.jobs.map((job) => [job.id, job.result]));

test('a push to staging runs the jobs in needs order, with outputs and the environment', async () => {
  site = { status: 200, commit: sha };
  const run = await runWorkflow({ workflow: pipeline(), event: push('staging'), github: { sha } });
  expect(run.triggered).toBe(true);
  expect(run.jobs.map((j) => j.id)).toEqual(['build', 'check', 'after-failure', 'report']);
  expect(summary(run)).toEqual({ build: 'success', check: 'success', 'after-failure': 'skipped', report: 'success' });
  expect(run.jobs[0].outputs).toEqual({ branch: 'staging' });
  expect(run.jobs[1].outputs).toEqual({ healthy: 'true' });
  expect(run.jobs[1].environment).toEqual({ name: 'staging', url: `http://127.0.0.1:${port}/` });
  expect(run.jobs[1].steps.map((s) => s.outcome)).toEqual(['success', 'skipped']);
  expect(run.jobs[3].outputs).toEqual({ line: "check success, healthy 'true'" });
  expect(run.conclusion).toBe('success');
}, 120000);

test('a failing step fails its job, skips what needs it, and runs the failure() and always() jobs', async () => {
  site = { status: 500, commit: sha };
  const run = await runWorkflow({ workflow: pipeline(), event: push('staging'), github: { sha } });
  expect(summary(run)).toEqual({ build: 'success', check: 'failure', 'after-failure': 'success', report: 'success' });
  expect(run.jobs[1].steps.map((s) => s.outcome)).toEqual(['failure', 'success']);
  expect(run.jobs[3].outputs).toEqual({ line: "check failure, healthy 'false'" });
  expect(run.conclusion).toBe('failure');
}, 120000);

test('on: filters the branches; a false if: skips a job without running it', async () => {
  expect(await runWorkflow({ workflow: pipeline(), event: push('master') })).toEqual({
    triggered: false,
    jobs: [],
    conclusion: 'success',
  });
  site = { status: 500, commit: sha };
  const release = await runWorkflow({ workflow: pipeline(), event: push('release/1.2'), github: { sha } });
  expect(summary(release)).toEqual({
    build: 'success',
    check: 'skipped',
    'after-failure': 'skipped',
    report: 'success',
  });
  expect(release.jobs[3].outputs).toEqual({ line: "check skipped, healthy ''" });
}, 120000);

test('what it cannot run yet is refused by name, and an invalid workflow by GitHub’s parser', async () => {
  const container = workflowFile(
    'container.yml',
    `on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    container: python:3.12
    steps:
      - run: echo
`,
  );
  await expect(runWorkflow({ workflow: container, event: push('staging') })).rejects.toThrow(
    new UnsupportedWorkflowError('jobs.test.container is not supported by the local runner yet'),
  );
  const checkout = workflowFile(
    'checkout.yml',
    `on: push
permissions: {}
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0
        with:
          submodules: true
      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3
`,
  );
  await expect(runWorkflow({ workflow: checkout, event: push('staging') })).rejects.toThrow(
    "jobs.test.steps[0]: actions/checkout input 'submodules' is not supported by the local runner",
  );
  const cache = workflowFile(
    'cache.yml',
    fs.readFileSync(checkout, 'utf8').replace(/ {6}- uses: actions\/checkout[^]*?true\n/, ''),
  );
  await expect(runWorkflow({ workflow: cache, event: push('staging') })).rejects.toThrow(
    /jobs\.test\.steps\[0\] uses 'actions\/cache@5a3ec84eff668545956fd18022155c47e93e2684': only \.\/, \.\/actions\/<name>/,
  );
  const invalid = workflowFile('invalid.yml', 'on: push\njobs:\n  test:\n    steps:\n      - run: echo\n');
  await expect(runWorkflow({ workflow: invalid, event: push('staging') })).rejects.toThrow(WorkflowError);
});
