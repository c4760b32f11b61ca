// runbook's release.yml, run by the local workflow runner on a push to master (a merged pull request from staging),
// in a clone of this repository whose commits are the working tree, against the GitHub API stand-in (every request
// and answer checked against @octokit/openapi). The stand-in writes tags into the clone, so what a caller pinned to
// `@v1` runs afterwards is what the release moved v1 to.
//
// - 1.1.0 (smoke-check's verdict line now counts the checks, dist rebuilt) merged: v1.1.0 tagged at the merge, a
//   release with CHANGELOG.md's 1.1.0 section, v1 moved; a caller `uses: ocpizza/runbook/actions/smoke-check@v1` saw
//   1.0.0's verdict line before the run and sees 1.1.0's after.
// - The same merge's run again: no second release, nothing moves; a release deleted meanwhile is written again.
// - A merge that keeps 1.1.0 (a README fix): succeeds, releases nothing, says so.
// - 1.2.0 with a source change whose dist was not rebuilt: the run fails at the freshness check and tags nothing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { snapshotRepository, type RepositorySnapshot } from '../harness/repository-snapshot.js';
import { runWorkflow, type WorkflowRun } from '../harness/workflow-runner.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { GitHistory } from '../stand-ins/git-history.js';
import { pushEvent } from '../stand-ins/github-events.js';
import { preloadOpenApi } from '../stand-ins/github-openapi.js';
import { makeTempDir } from '../testbed/process.js';

const REPO = 'ocpizza/runbook';
const TOKEN = 'ghs_e2eReleaseWorkflowToken7c1d9a3e5b';
const ROOT = new URL('../../', import.meta.url).pathname;

let repo: RepositorySnapshot;
let api: GitHubApiStandIn;
let site: Server;
let siteUrl: string;
let dir: string;
/** dist/smoke-check built once from 1.1.0's source, copied into every commit that carries 1.1.0. */
let built110: string;
let released100: string;
let pullNumber = 20;

const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=Ada Baker', '-c', 'user.email=ada@ocpizza.example', ...args], {
    cwd: repo.dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
const tagged = (tag: string) => {
  try {
    return git('rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`);
  } catch {
    return undefined;
  }
};

function setVersion(tree: string, version: string, notes: string) {
  for (const file of ['package.json', 'package-lock.json']) {
    const json = JSON.parse(fs.readFileSync(path.join(tree, file), 'utf8'));
    json.version = version;
    if (json.packages?.['']) json.packages[''].version = version;
    fs.writeFileSync(path.join(tree, file), JSON.stringify(json, null, 2) + '\n');
  }
  const changelog = path.join(tree, 'CHANGELOG.md');
  fs.writeFileSync(
    changelog,
    fs.readFileSync(changelog, 'utf8').replace('\n## 1.0.0\n', `\n## ${version}\n\n${notes}\n\n## 1.0.0\n`),
  );
}

const VERDICT_OLD = "lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'}`, '');";
const VERDICT_NEW =
  "lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'} (${passed}/${report.results.length})`, '');";
const NOTES_110 = '- `smoke-check`: the verdict line of the job summary counts the checks that passed.';

/** 1.1.0 as its pull request holds it: the version, its changelog section, the source change and its built dist. */
function release110(tree: string) {
  setVersion(tree, '1.1.0', NOTES_110);
  const summary = path.join(tree, 'actions', 'smoke-check', 'summary.ts');
  const source = fs.readFileSync(summary, 'utf8');
  expect(source).toContain(VERDICT_OLD);
  fs.writeFileSync(summary, source.replace(VERDICT_OLD, VERDICT_NEW));
  if (!built110) {
    // Built in the clone's tree with a hard-linked copy of this checkout's node_modules (a symlink would make ncc
    // name modules by their real path, which a build in the release's checkout does not), removed before the commit.
    execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules')]);
    try {
      execFileSync(process.execPath, [path.join(tree, '.ci', 'build.mjs'), 'smoke-check'], {
        cwd: tree,
        stdio: 'pipe',
      });
    } finally {
      fs.rmSync(path.join(tree, 'node_modules'), { recursive: true, force: true });
    }
    built110 = path.join(dir, 'dist-smoke-check-1.1.0');
    fs.cpSync(path.join(tree, 'dist', 'smoke-check'), built110, { recursive: true });
  } else {
    fs.rmSync(path.join(tree, 'dist', 'smoke-check'), { recursive: true });
    fs.cpSync(built110, path.join(tree, 'dist', 'smoke-check'), { recursive: true });
  }
}

/**
 * A commit on staging (the working tree plus `change`), CI green on it, and its pull request merged into master
 * as GitHub merges one: a merge commit whose tree is staging's. Returns the merge and master before it.
 */
function mergeFromStaging(title: string, change: (tree: string) => void) {
  const before = git('rev-parse', 'master');
  const head = repo.commit(title, change);
  const merge = git(
    'commit-tree',
    `${head}^{tree}`,
    '-p',
    before,
    '-p',
    head,
    '-m',
    `Merge pull request #${++pullNumber} from ${REPO.split('/')[0]}/staging\n\n${title}`,
  );
  git('update-ref', 'refs/heads/master', merge, before);
  api.addCheckRun(head, { name: 'ci' });
  api.addPull({
    number: pullNumber,
    headRef: 'staging',
    headSha: head,
    baseRef: 'master',
    state: 'closed',
    mergeCommitSha: merge,
    mergedAt: new Date().toISOString(),
    title,
  });
  return { before, merge };
}

/** Each step's outcome and the end of its log, for a failure message. */
const explain = (run: WorkflowRun) =>
  run.jobs
    .flatMap((j) =>
      j.steps.map((s) => `${j.id}/${s.id}: ${s.outcome} ${s.message ?? ''}\n${(s.result?.log ?? '').slice(-800)}`),
    )
    .join('\n');

const release = async ({ before, merge }: { before: string; merge: string }, expected: 'success' | 'failure') => {
  const run = await runWorkflow({
    workflow: '.github/workflows/release.yml',
    event: { name: 'push', payload: pushEvent({ repo: REPO, branch: 'master', before, after: merge }) },
    repositoryDir: repo.dir,
    github: { repository: REPO, sha: merge, ref: 'refs/heads/master', apiUrl: api.url, token: TOKEN },
  });
  if (run.conclusion !== expected) throw new Error(`release.yml: ${run.conclusion}, not ${expected}\n${explain(run)}`);
  return run;
};

/** A caller's workflow pinned to @v1, checking the test's site; returns its job summary. */
async function callerAtV1(): Promise<string> {
  const file = path.join(dir, 'caller.yml');
  fs.writeFileSync(
    file,
    `on: push
permissions:
  contents: read
jobs:
  smoke:
    runs-on: ubuntu-24.04
    steps:
      - uses: ${REPO}/actions/smoke-check@v1
        with:
          urls: ${siteUrl}/health
`,
  );
  const run = await runWorkflow({
    workflow: file,
    event: { name: 'push', payload: { ref: 'refs/heads/master', repository: { private: true } } },
    repositoryDir: repo.dir,
    github: { repository: REPO, sha: git('rev-parse', 'master'), ref: 'refs/heads/master' },
  });
  expect(run.conclusion).toBe('success');
  return run.jobs[0].steps[0].result!.summary;
}

const releaseStep = (run: WorkflowRun) => run.jobs.find((j) => j.id === 'release')!;
const writes = () => api.requests.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  preloadOpenApi();
  dir = makeTempDir('workflow-release');
  repo = snapshotRepository();
  // runbook 1.0.0 as released: master, v1.0.0 and v1 on it; staging continues from it.
  git('checkout', '--quiet', '-B', 'staging');
  released100 = repo.commit('runbook 1.0.0');
  git('branch', '--force', 'master', released100);
  repo.tag('v1.0.0', released100);
  repo.tag('v1', released100);
  api = await GitHubApiStandIn.start({
    owner: 'ocpizza',
    repo: 'runbook',
    git: GitHistory.open(repo.dir),
    token: TOKEN,
  });
  site = createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok' }));
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await new Promise((resolve) => site?.close(resolve));
  repo?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

let merge110: { before: string; merge: string };

test('a merge of 1.1.0 tags v1.1.0, writes its release from CHANGELOG.md and moves v1: @v1 callers run 1.1.0', async () => {
  // Before the release, a caller pinned to @v1 runs 1.0.0: the verdict line without the count.
  expect(await callerAtV1()).toMatch(/^## Smoke check: healthy ✅\n/m);

  merge110 = mergeFromStaging('smoke-check: the verdict counts the checks', release110);
  const run = await release(merge110, 'success');
  expect(run.jobs.map((j) => [j.id, j.result])).toEqual([
    ['guard', 'success'],
    ['release', 'success'],
  ]);
  expect(releaseStep(run).steps.map((s) => s.outcome)).toEqual(Array(6).fill('success'));
  expect(tagged('v1.1.0')).toBe(merge110.merge);
  expect(tagged('v1')).toBe(merge110.merge);
  expect(tagged('v1.0.0')).toBe(released100);
  expect(api.releases).toEqual([
    expect.objectContaining({ tagName: 'v1.1.0', name: 'v1.1.0', targetCommitish: merge110.merge, body: NOTES_110 }),
  ]);
  // The version tag, the release, then the major tag: @v1 reaches 1.1.0 only once it is released.
  expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([
    'POST /repos/ocpizza/runbook/git/refs',
    'POST /repos/ocpizza/runbook/releases',
    'PATCH /repos/ocpizza/runbook/git/refs/tags/v1',
  ]);
  expect(writes().every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  expect(releaseStep(run).steps.at(-1)!.result!.summary).toContain('`v1` now points at ' + merge110.merge);
  api.assertValid();

  // The same caller, unchanged, now runs what v1 holds: 1.1.0's verdict line.
  expect(await callerAtV1()).toMatch(/^## Smoke check: healthy ✅ \(1\/1\)\n/m);
}, 900_000);

test('the same merge released again writes no second release; a deleted release is written again', async () => {
  const before = api.releases.length;
  const again = await release(merge110, 'success');
  expect(again.conclusion).toBe('success');
  // Tagged at this very merge: nothing installed or built, the release found, v1 set where it already is.
  expect(releaseStep(again).steps.map((s) => s.outcome)).toEqual([
    'success',
    'success',
    'skipped',
    'skipped',
    'skipped',
    'success',
  ]);
  expect(api.releases).toHaveLength(before);
  expect(releaseStep(again).steps.at(-1)!.result!.log).toContain('The release v1.1.0 exists already.');
  expect(tagged('v1')).toBe(merge110.merge);

  // A run that tagged but failed before the release (here: the release deleted) is completed by a re-run.
  api.deleteRelease('v1.1.0');
  const rerun = await release(merge110, 'success');
  expect(rerun.conclusion).toBe('success');
  expect(api.releases).toEqual([expect.objectContaining({ tagName: 'v1.1.0', body: NOTES_110 })]);
  api.assertValid();
}, 300_000);

test('a merge that keeps a released version releases nothing and says so', async () => {
  const writesBefore = writes().length;
  const docs = mergeFromStaging('README: a typo', (tree) => {
    release110(tree);
    fs.appendFileSync(path.join(tree, 'README.md'), '\n');
  });
  const run = await release(docs, 'success');
  expect(run.conclusion).toBe('success');
  const version = releaseStep(run).steps[1];
  expect(version.result!.annotations).toEqual([
    expect.objectContaining({
      level: 'notice',
      message: expect.stringContaining(
        `v1.1.0 is already released (on ${merge110.merge}): this merge releases nothing`,
      ),
    }),
  ]);
  expect(
    releaseStep(run)
      .steps.slice(2)
      .map((s) => s.outcome),
  ).toEqual(Array(4).fill('skipped'));
  expect(writes()).toHaveLength(writesBefore);
  expect(tagged('v1')).toBe(merge110.merge);
  api.assertValid();
}, 300_000);

test('1.2.0 whose dist/ was not rebuilt fails the freshness check and tags nothing', async () => {
  const writesBefore = writes().length;
  const releasesBefore = api.releases.length;
  const stale = mergeFromStaging('smoke-check: a wording, dist not rebuilt', (tree) => {
    release110(tree);
    setVersion(tree, '1.2.0', '- `smoke-check`: a wording.');
    const summary = path.join(tree, 'actions', 'smoke-check', 'summary.ts');
    fs.writeFileSync(summary, fs.readFileSync(summary, 'utf8').replace('checks passed in', 'checks passed within'));
  });
  const run = await release(stale, 'failure');
  expect(run.conclusion).toBe('failure');
  const steps = releaseStep(run).steps;
  expect(steps.map((s) => s.outcome)).toEqual(['success', 'success', 'success', 'success', 'failure', 'skipped']);
  expect(steps[4].result!.annotations).toEqual([
    expect.objectContaining({
      level: 'error',
      message: expect.stringContaining('dist/ differs from a fresh build of this commit: nothing is tagged'),
    }),
  ]);
  expect(steps[4].result!.log).toContain('dist/smoke-check/index.js');
  expect(tagged('v1.2.0')).toBeUndefined();
  expect(tagged('v1')).toBe(merge110.merge);
  expect(writes()).toHaveLength(writesBefore);
  expect(api.releases).toHaveLength(releasesBefore);
  api.assertValid();
}, 900_000);
