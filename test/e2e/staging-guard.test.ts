// The built staging guard (dist/staging-guard) run the way the runner runs it, against the GitHub API stand-in
// (every response validated against @octokit/openapi) over real git histories. GITHUB_API_URL points at the
// stand-in under /api/v3, as on GitHub Enterprise Server. The token is a declared secret in every run.
import { jest } from '@jest/globals';
import { errorMessages as errors, runAction, type ActionRunOptions, type StepResult } from '../harness/index.js';
import type { GitHistory } from '../stand-ins/git-history.js';
import type { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { preloadOpenApi } from '../stand-ins/github-openapi.js';
import { mergeGroupEvent, pushEvent } from '../stand-ins/github-events.js';
import { injectedCommands } from '../support/workflow-command-lines.js';
import {
  addGreenChecks,
  pullIntoMaster,
  REPO,
  useStagingRepo,
  type StagingRepo,
} from '../support/staging-guard-world.js';

const TOKEN = 'ghs_e2eStagingGuardToken7f3a9c1d5e';

// Each run starts Node 24 on a shared 2-core machine; waits in two scenarios add a few seconds.
jest.setTimeout(90_000);
beforeAll(() => preloadOpenApi(), 60_000);

let repo: StagingRepo;
let git: GitHistory;
let api: GitHubApiStandIn;
let masterSha: string;
let stagingSha: string;
useStagingRepo({ token: TOKEN, prefix: '/api/v3' }, (r) => {
  repo = r;
  ({ git, api, masterSha, stagingSha } = r);
});

function guard(
  event: { name: string; payload: unknown },
  inputs: Record<string, string> = {},
  github: ActionRunOptions['github'] = {},
) {
  return runAction({
    action: 'staging-guard',
    inputs: { 'wait-for-checks': '0', ...inputs },
    secrets: [TOKEN],
    event,
    github: { repository: REPO, apiUrl: api.url, token: TOKEN, job: 'guard', ...github },
    timeoutMs: 60_000,
  });
}

const pullEvent = (number: number, headRef: string, headSha: string, headRepo?: string | null) =>
  pullIntoMaster(repo, { number, headRef, headSha, headRepo });
const greenChecks = (sha: string): void => addGreenChecks(api, sha);

function expectRefused(result: StepResult, message: RegExp): void {
  expect(result.exitCode).not.toBe(0);
  expect(result.outputs.allowed).toBe('false');
  expect(errors(result)).toEqual([expect.stringMatching(message)]);
  expect(result.summary).toContain('Staging guard: refused');
  expect(result.log).not.toMatch(/\n\s+at \S+ \(/);
}

test('staging → master with green checks is allowed, and the verdict is commented on the pull request', async () => {
  greenChecks(stagingSha);
  api.addPull({ number: 7, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(7, 'staging', stagingSha), {
    'required-checks': 'test\n/^coverage\\//',
    comment: 'true',
  });
  expect(result.exitCode).toBe(0);
  expect(result.outputs).toEqual({ allowed: 'true', reasons: '[]' });
  expect(result.summary).toContain('### ✅ Staging guard: allowed');
  expect(result.summary).toMatch(
    /\| up to date with base \| ✅ pass \| 'staging' contains 'master' and is ahead by 2 commits \|/,
  );
  expect(result.summary).toContain("| status 'coverage/90' (by ci-bot) | ✅ pass |");
  // Its own check run (job id 'guard', still in progress) is left out rather than waited for.
  expect(result.summary).not.toContain("'guard'");
  expect(errors(result)).toEqual([]);
  expect(result.masks).toContain(TOKEN);
  expect(api.commentsOn(7)).toEqual([
    expect.objectContaining({ body: expect.stringContaining('Staging guard: allowed') }),
  ]);
  // Requests went to the Enterprise-style API root, authenticated with the token.
  expect(api.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  expect(api.requests.find((r) => r.path.endsWith('/check-runs'))?.query).toEqual({
    filter: 'all',
    per_page: '100',
  });
});

test('feature → master is refused', async () => {
  git.branch('feature/menu', 'staging');
  const sha = git.commit('feature/menu', 'New menu page');
  greenChecks(sha);
  api.addPull({ number: 8, headRef: 'feature/menu', baseRef: 'master' });
  const result = await guard(pullEvent(8, 'feature/menu', sha));
  expectRefused(result, /source branch: 'feature\/menu' is not an allowed source for 'master' \(allowed: staging\)/);
  expect(JSON.parse(result.outputs.reasons)).toEqual([expect.stringMatching(/^source branch: /)]);
});

test("a fork's staging is refused", async () => {
  git.branch('mallory-staging', 'staging');
  const sha = git.commit('mallory-staging', 'Harmless-looking change');
  greenChecks(sha);
  api.addPull({
    number: 9,
    headRef: 'staging',
    headBranchInGit: 'mallory-staging',
    headRepo: 'mallory/site',
    baseRef: 'master',
  });
  // As the README recommends: pull_request_target, so that the fork cannot edit the guard that judges it.
  const result = await guard({ ...pullEvent(9, 'staging', sha, 'mallory/site'), name: 'pull_request_target' });
  expectRefused(
    result,
    /same repository: the head branch 'staging' comes from the fork mallory\/site, not from ocpizza\/site/,
  );
});

test('staging behind master is refused with the commands that bring it up to date', async () => {
  git.commit('master', 'Hotfix straight on master');
  git.commit('master', 'Second hotfix');
  greenChecks(stagingSha);
  api.addPull({ number: 10, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(10, 'staging', stagingSha));
  expectRefused(
    result,
    /'staging' has diverged from 'master' and is behind 'master' by 2 commits[^]*Fix: git fetch origin && git switch staging && git merge --no-edit origin\/master && git push origin staging/,
  );
});

test('a failing check refuses', async () => {
  api.addCheckRun(stagingSha, { name: 'test', conclusion: 'failure' });
  api.addCheckRun(stagingSha, { name: 'lint' });
  api.addPull({ number: 11, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(11, 'staging', stagingSha));
  expectRefused(
    result,
    /check run 'test' \(GitHub Actions\): failure on [0-9a-f]{7} \(https:\/\/github\.com\/ocpizza\/site\/actions\/runs\//,
  );
  expect(result.summary).toContain("| check run 'lint' (GitHub Actions) | ✅ pass |");
});

test('a missing required check refuses', async () => {
  greenChecks(stagingSha);
  api.addPull({ number: 12, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(12, 'staging', stagingSha), { 'required-checks': 'test, e2e (postgres)' });
  expectRefused(
    result,
    /required check 'e2e \(postgres\)': no check run or status matching it was reported on [0-9a-f]{7}/,
  );
  expect(result.summary).toContain('❔ missing');
});

test('a check pending then green within the wait is allowed', async () => {
  // Green from the guard's second look on: driven by its polls, not by how fast this machine starts the bundle.
  api.addCheckRun(stagingSha, { name: 'test', pendingForPolls: 1 });
  api.addPull({ number: 13, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(13, 'staging', stagingSha), {
    'wait-for-checks': '45s',
    'poll-interval': '500ms',
  });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.allowed).toBe('true');
  expect(result.log).toMatch(/Waiting for check run 'test' \(GitHub Actions\); \d+s left of wait-for-checks/);
  expect(api.requests.filter((r) => r.path.endsWith('/check-runs'))).toHaveLength(2);
});

test('a wait that times out refuses with the check still pending', async () => {
  api.addCheckRun(stagingSha, { name: 'test', pendingForMs: Infinity });
  api.addPull({ number: 14, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(14, 'staging', stagingSha), {
    'wait-for-checks': '2s',
    'poll-interval': '500ms',
  });
  expectRefused(
    result,
    /check run 'test' \(GitHub Actions\): still (queued|in progress) on [0-9a-f]{7}, after waiting \ds/,
  );
  expect(result.summary).toContain('⏳ pending');
});

describe('a failed check cannot be hidden by another of the same name', () => {
  const QUICK_CI = { slug: 'quick-ci', name: 'Quick CI', id: 90210 };

  test('a later green `test` from another app, or from a second workflow, leaves the failed one failing', async () => {
    api.addCheckRun(stagingSha, { name: 'test', conclusion: 'failure', startedAt: '2026-11-27T08:00:00Z' });
    api.addCheckRun(stagingSha, { name: 'test', app: QUICK_CI, startedAt: '2026-11-27T09:00:00Z' });
    api.addCheckRun(stagingSha, { name: 'test', startedAt: '2026-11-27T09:30:00Z' });
    api.addStatus(stagingSha, { context: 'coverage/90', state: 'failure', createdAt: '2026-11-27T08:00:00Z' });
    api.addStatus(stagingSha, {
      context: 'coverage/90',
      state: 'success',
      creator: 'mallory',
      createdAt: '2026-11-27T09:00:00Z',
    });
    api.addPull({ number: 30, headRef: 'staging', baseRef: 'master' });
    const result = await guard(pullEvent(30, 'staging', stagingSha), { 'required-checks': 'test' });
    expect(result.exitCode).toBe(1);
    expect(result.outputs.allowed).toBe('false');
    expect(JSON.parse(result.outputs.reasons)).toEqual([
      expect.stringMatching(/^status 'coverage\/90' \(by ci-bot\): failure on/),
      expect.stringMatching(/^check run 'test' \(GitHub Actions, check suite \d+\): failure on/),
    ]);
    // The summary names where each check came from.
    expect(result.summary).toMatch(/\| check run 'test' \(Quick CI\) \| ✅ pass \|/);
    expect(result.summary).toMatch(/\| status 'coverage\/90' \(by mallory\) \| ✅ pass \|/);
  });

  test('a required check pinned to an app is not satisfied by another app', async () => {
    api.addCheckRun(stagingSha, { name: 'test', app: QUICK_CI });
    api.addPull({ number: 31, headRef: 'staging', baseRef: 'master' });
    const result = await guard(pullEvent(31, 'staging', stagingSha), { 'required-checks': 'test@github-actions' });
    expectRefused(
      result,
      /required check 'test@github-actions': no check run or status matching it was reported on [0-9a-f]{7} \(only from another source: check run 'test' \(Quick CI\)\)/,
    );
  });
});

test('check names and app names from the API cannot become workflow commands', async () => {
  const app = { slug: 'evil-ci', name: 'Evil ##[add-mask]Healthy CI', id: 66601 };
  api.addCheckRun(stagingSha, { name: 'test\n::error title=FORGED::all checks failed', conclusion: 'failure' });
  api.addCheckRun(stagingSha, { name: 'lint\r::stop-commands::FORGEDTOKEN', app });
  api.addStatus(stagingSha, { context: '::add-mask::allowed', state: 'success' });
  api.addPull({ number: 32, headRef: 'staging', baseRef: 'master' });
  const result = await guard(pullEvent(32, 'staging', stagingSha));
  expect(result.exitCode).toBe(1);
  // The step's own refusal is the one error annotation, and nothing was masked or stopped.
  expect(errors(result)).toEqual([expect.stringMatching(/^Staging guard refused pull request #32/)]);
  expect(result.masks).toEqual([TOKEN]);
  const own = /^::error::Staging guard refused(?!.*##\[)/;
  const ownMask = `::add-mask::${TOKEN}`;
  expect(injectedCommands(result.log).filter((line) => !own.test(line) && line !== ownMask)).toEqual([]);
  expect(result.summary).toContain("check run 'test\\n::error title=FORGED::all checks failed' (GitHub Actions)");
});

test('a direct push to master is flagged', async () => {
  const after = git.commit('master', 'Quick fix on prod');
  const result = await guard(
    {
      name: 'push',
      payload: pushEvent({ repo: REPO, branch: 'master', before: masterSha, after, pusher: 'root-admin' }),
    },
    {},
    { ref: 'refs/heads/master', sha: after },
  );
  expectRefused(
    result,
    /came through the flow: a direct push or an admin bypass happened: [0-9a-f]{7} on 'master', pushed by root-admin/,
  );
});

test('the push of a merged staging pull request to master passes', async () => {
  greenChecks(stagingSha);
  const merge = git.merge('master', 'staging');
  api.addPull({
    number: 15,
    headRef: 'staging',
    headSha: stagingSha,
    baseRef: 'master',
    mergeCommitSha: merge,
    mergedAt: '2026-11-27T09:30:00Z',
  });
  const result = await guard({
    name: 'push',
    payload: pushEvent({ repo: REPO, branch: 'master', before: masterSha, after: merge }),
  });
  expect(result.exitCode).toBe(0);
  expect(result.summary).toMatch(/is the merge of pull request #15 from 'staging'/);
});

test('a merge_group event is judged on the merge group head', async () => {
  api.addPull({ number: 16, headRef: 'staging', baseRef: 'master' });
  git.branch('gh-readonly-queue/master/pr-16', 'master');
  const head = git.merge('gh-readonly-queue/master/pr-16', 'staging');
  greenChecks(head);
  const payload = mergeGroupEvent({ repo: REPO, baseRef: 'master', baseSha: masterSha, headSha: head, pullNumber: 16 });
  const result = await guard({ name: 'merge_group', payload }, { 'required-checks': 'test' });
  expect(result.exitCode).toBe(0);
  expect(result.summary).toContain('merge group for pull request #16 (staging → master)');
  expect(api.requests.some((r) => r.path === `/repos/${REPO}/compare/${masterSha}...${head}`)).toBe(true);
});

test('a feature pull request queued ahead of staging in the same merge group is refused', async () => {
  git.branch('feature/x', 'master');
  git.commit('feature/x', 'Add a coupon field');
  api.addPull({ number: 21, headRef: 'feature/x', baseRef: 'master' });
  api.addPull({ number: 22, headRef: 'staging', baseRef: 'master' });
  git.branch('gh-readonly-queue/master/pr-22', 'master');
  git.merge('gh-readonly-queue/master/pr-22', 'feature/x', 'Merge pull request #21 from ocpizza/feature/x');
  const head = git.merge('gh-readonly-queue/master/pr-22', 'staging', 'Merge pull request #22 from ocpizza/staging');
  greenChecks(head);
  // GitHub names the queue branch after the last pull request of the group: #22, from staging.
  const payload = mergeGroupEvent({ repo: REPO, baseRef: 'master', baseSha: masterSha, headSha: head, pullNumber: 22 });
  const result = await guard({ name: 'merge_group', payload });
  expectRefused(result, /source branch of #21: 'feature\/x' is not an allowed source for 'master'/);
  expect(result.summary).toContain('merge group for pull requests #21, #22 into master');
});

test('a token without checks: read gets one clear error', async () => {
  greenChecks(stagingSha);
  api.addPull({ number: 17, headRef: 'staging', baseRef: 'master' });
  api.deny('checks');
  const result = await guard(pullEvent(17, 'staging', stagingSha));
  expect(result.exitCode).not.toBe(0);
  expect(errors(result)).toEqual([
    expect.stringMatching(/^Could not list check runs: GitHub answered 403 .* The token lacks 'checks: read'/),
  ]);
});

test('an event the guard does not handle skips with a notice', async () => {
  const result = await guard({ name: 'schedule', payload: { schedule: '0 3 * * *' } });
  expect(result.exitCode).toBe(0);
  expect(result.outputs.allowed).toBe('skipped');
  expect(result.annotations.filter((a) => a.level === 'notice').map((a) => a.message)).toEqual([
    expect.stringMatching(/Staging guard skipped: the 'schedule' event is not one the guard judges/),
  ]);
  expect(api.requests).toHaveLength(0);
});

test.each([
  [{ 'allowed-sources': '' }, /^Input 'allowed-sources' must name at least one branch/],
  [{ 'required-checks': 'test\n/e2e (/' }, /^Input 'required-checks' has a malformed regular expression '\/e2e \(\/'/],
  [{ 'github-token': '' }, /^Input 'github-token' is required/],
])('bad input %p: one clear error, no stack, nothing asked of GitHub', async (inputs, message) => {
  const result = await guard(pullEvent(18, 'staging', stagingSha), inputs);
  expect(result.exitCode).not.toBe(0);
  expect(errors(result)).toEqual([expect.stringMatching(message)]);
  expect(result.log).not.toMatch(/\n\s+at \S+ \(/);
  expect(result.outputs).toEqual({});
  expect(api.requests).toHaveLength(0);
});
