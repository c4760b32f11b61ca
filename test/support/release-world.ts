// The world of runbook's release.yml tests (test/e2e/workflows-release*.test.ts): a clone of this repository whose
// commits are the working tree, with runbook 1.0.0 released in it (master, v1.0.0 and v1 on one commit, staging
// continuing from it); the GitHub API stand-in serving that clone (it writes the tags the run creates into it); the
// local workflow runner running release.yml on a push to master; a site for a caller's smoke check.
//
// The scenarios are split over two files because each run that releases a new version does what release.yml does
// on GitHub: an offline `npm ci` and a whole `npm run build` in a fresh checkout (minutes under load). With the two
// runs in two files, jest's two workers run them side by side instead of one after the other in one file.
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

export const REPO = 'ocpizza/runbook';
export const TOKEN = 'ghs_e2eReleaseWorkflowToken7c1d9a3e5b';

export const VERDICT_OLD = "lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'}`, '');";
export const VERDICT_NEW =
  "lines.push(`## Smoke check: ${report.healthy ? 'healthy ✅' : 'unhealthy ❌'} (${passed}/${report.results.length})`, '');";
export const NOTES_110 = '- `smoke-check`: the verdict line of the job summary counts the checks that passed.';

/** Sets package.json's and package-lock.json's version and adds the version's section to CHANGELOG.md. */
export function setVersion(tree: string, version: string, notes: string) {
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

/** smoke-check's verdict line counts the checks (1.1.0's source change); dist/ is left as it is. */
export function changeVerdictSource(tree: string) {
  const summary = path.join(tree, 'actions', 'smoke-check', 'summary.ts');
  const source = fs.readFileSync(summary, 'utf8');
  expect(source).toContain(VERDICT_OLD);
  fs.writeFileSync(summary, source.replace(VERDICT_OLD, VERDICT_NEW));
}

/** Each step's outcome and the end of its log, for a failure message. */
const explain = (run: WorkflowRun) =>
  run.jobs
    .flatMap((j) =>
      j.steps.map((s) => `${j.id}/${s.id}: ${s.outcome} ${s.message ?? ''}\n${(s.result?.log ?? '').slice(-800)}`),
    )
    .join('\n');

export const releaseStep = (run: WorkflowRun) => run.jobs.find((j) => j.id === 'release')!;

export interface ReleaseWorld {
  repo: RepositorySnapshot;
  api: GitHubApiStandIn;
  /** A temporary folder, removed after the file. */
  dir: string;
  /** runbook 1.0.0's commit: master, v1.0.0 and v1 before any release of the test. */
  released100: string;
  git(...args: string[]): string;
  /** The commit a tag points at, undefined without the tag. */
  tagged(tag: string): string | undefined;
  /** The stand-in's requests that write (not GET). */
  writes(): GitHubApiStandIn['requests'];
  /**
   * A commit on staging (the working tree plus `change`), CI green on it, and its pull request merged into master
   * as GitHub merges one: a merge commit whose tree is staging's. Returns the merge and master before it.
   */
  mergeFromStaging(title: string, change: (tree: string) => void): { before: string; merge: string };
  /** release.yml on the push of that merge to master; throws (with each step's log) unless it ends as `expected`. */
  release(push: { before: string; merge: string }, expected: 'success' | 'failure'): Promise<WorkflowRun>;
  /** A caller's workflow pinned to @v1, checking the world's site; returns its job summary. */
  callerAtV1(): Promise<string>;
}

/** Sets up the world in beforeAll and removes it in afterAll; `use` receives it once it is ready. */
export function useReleaseWorld(use: (world: ReleaseWorld) => void): void {
  let repo: RepositorySnapshot | undefined;
  let api: GitHubApiStandIn | undefined;
  let site: Server | undefined;
  let dir: string | undefined;

  beforeAll(async () => {
    preloadOpenApi();
    dir = makeTempDir('workflow-release');
    const snapshot = snapshotRepository();
    repo = snapshot;
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Ada Baker', '-c', 'user.email=ada@ocpizza.example', ...args], {
        cwd: snapshot.dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    // runbook 1.0.0 as released: master, v1.0.0 and v1 on it; staging continues from it.
    git('checkout', '--quiet', '-B', 'staging');
    const released100 = snapshot.commit('runbook 1.0.0');
    git('branch', '--force', 'master', released100);
    snapshot.tag('v1.0.0', released100);
    snapshot.tag('v1', released100);
    const stand = await GitHubApiStandIn.start({
      owner: 'ocpizza',
      repo: 'runbook',
      git: GitHistory.open(snapshot.dir),
      token: TOKEN,
    });
    api = stand;
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok' }));
    });
    site = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const folder = dir;
    let pullNumber = 20;

    const writes = () => stand.requests.filter((r) => r.method !== 'GET');
    use({
      repo: snapshot,
      api: stand,
      dir: folder,
      released100,
      git,
      writes,
      tagged(tag) {
        try {
          return git('rev-parse', '--verify', '--quiet', `refs/tags/${tag}^{commit}`);
        } catch {
          return undefined;
        }
      },
      mergeFromStaging(title, change) {
        const before = git('rev-parse', 'master');
        const head = snapshot.commit(title, change);
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
        stand.addCheckRun(head, { name: 'ci' });
        stand.addPull({
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
      },
      async release({ before, merge }, expected) {
        const run = await runWorkflow({
          workflow: '.github/workflows/release.yml',
          event: { name: 'push', payload: pushEvent({ repo: REPO, branch: 'master', before, after: merge }) },
          repositoryDir: snapshot.dir,
          github: { repository: REPO, sha: merge, ref: 'refs/heads/master', apiUrl: stand.url, token: TOKEN },
        });
        if (run.conclusion !== expected)
          throw new Error(`release.yml: ${run.conclusion}, not ${expected}\n${explain(run)}`);
        return run;
      },
      async callerAtV1() {
        const file = path.join(folder, 'caller.yml');
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
          repositoryDir: snapshot.dir,
          github: { repository: REPO, sha: git('rev-parse', 'master'), ref: 'refs/heads/master' },
        });
        expect(run.conclusion).toBe('success');
        return run.jobs[0].steps[0].result!.summary;
      },
    });
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    if (site) await new Promise((resolve) => site!.close(resolve));
    repo?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
}
