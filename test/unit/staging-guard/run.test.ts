// The guard's orchestration run in-process with its edges injected: a real git history, the GitHub API stand-in
// (validated against @octokit/openapi), Octokit from @actions/github, and a recording runner.
import { getOctokit } from '@actions/github';
import { jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'yaml';
import { ActionFailure } from '../../../actions/shared/errors.js';
import { createGateway } from '../../../actions/staging-guard/github-gateway.js';
import {
  coreRunner,
  defaultEdges,
  guard,
  run,
  type GuardEdges,
  type Runner,
} from '../../../actions/staging-guard/main.js';
import { COMMENT_MARKER } from '../../../actions/staging-guard/summary.js';
import type { GitHistory } from '../../stand-ins/git-history.js';
import type { GitHubApiStandIn } from '../../stand-ins/github-api.js';
import { preloadOpenApi } from '../../stand-ins/github-openapi.js';
import { mergeGroupEvent, pullRequestEvent, pushEvent } from '../../stand-ins/github-events.js';
import {
  addGreenChecks,
  pullIntoMaster,
  REPO,
  useStagingRepo,
  type StagingRepo,
} from '../../support/staging-guard-world.js';
const TOKEN = 'ghs_unitTestToken0123456789abcdef';

const actionYml = parse(
  readFileSync(new URL('../../../actions/staging-guard/action.yml', import.meta.url), 'utf8'),
) as {
  inputs: Record<string, { default?: string }>;
};
const defaults = Object.fromEntries(Object.entries(actionYml.inputs).map(([k, v]) => [k, v.default ?? '']));

interface Recorded {
  runner: Runner;
  outputs: Record<string, string>;
  notices: string[];
  warnings: string[];
  infos: string[];
  summaries: string[];
  secrets: string[];
}

function recorder(): Recorded {
  const r: Recorded = {
    outputs: {},
    notices: [],
    warnings: [],
    infos: [],
    summaries: [],
    secrets: [],
  } as unknown as Recorded;
  r.runner = {
    info: (m) => r.infos.push(m),
    notice: (m) => r.notices.push(m),
    warning: (m) => r.warnings.push(m),
    setOutput: (n, v) => (r.outputs[n] = v),
    setSecret: (s) => r.secrets.push(s),
    writeSummary: async (md) => void r.summaries.push(md),
  };
  return r;
}

beforeAll(() => preloadOpenApi(), 60_000);

let repo: StagingRepo;
let git: GitHistory;
let api: GitHubApiStandIn;
let masterSha: string;
let stagingSha: string;
useStagingRepo({ token: TOKEN }, (r) => {
  repo = r;
  ({ git, api, masterSha, stagingSha } = r);
});

function edges(
  event: { name: string; payload: unknown },
  inputs: Record<string, string> = {},
  rec = recorder(),
): GuardEdges {
  const values: Record<string, string> = {
    ...defaults,
    'github-token': TOKEN,
    'poll-interval': '100ms',
    'wait-for-checks': '0',
    ...inputs,
  };
  return {
    inputs: (name) => values[name] ?? '',
    env: { GITHUB_REPOSITORY: REPO, GITHUB_JOB: 'guard' },
    event,
    gateway: (token, repository) => createGateway(getOctokit(token, { baseUrl: api.url }), repository),
    clock: () => Date.now(),
    sleep: (ms) => delay(ms),
    runner: rec.runner,
  };
}

function stagingPull(number = 7, headRef = 'staging', headRepo?: string | null) {
  api.addPull({ number, headRef, baseRef: 'master', headRepo });
  return pullIntoMaster(repo, { number, headRef, headSha: git.resolve(headRef)!, headRepo });
}

const greenChecks = (sha: string): void => addGreenChecks(api, sha);

/** A clock that moves only when the guard sleeps, and records each sleep. */
function fakeClock() {
  let now = Date.parse('2026-11-27T10:00:00Z');
  const sleeps: number[] = [];
  return {
    sleeps,
    edges: {
      clock: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    } satisfies Pick<GuardEdges, 'clock' | 'sleep'>,
  };
}

describe('pull requests into master', () => {
  test('staging → master with green checks is allowed, and the token is masked', async () => {
    greenChecks(stagingSha);
    const rec = recorder();
    const verdict = await guard(edges(stagingPull(), { 'required-checks': 'test\n/^cov/' }, rec));
    expect(verdict?.allowed).toBe(true);
    expect(rec.outputs).toEqual({ allowed: 'true', reasons: '[]' });
    expect(rec.secrets).toContain(TOKEN);
    expect(rec.summaries[0]).toContain('Staging guard: allowed');
    expect(rec.summaries[0]).toMatch(/\| check run 'test' \(GitHub Actions\) \| ✅ pass \|/);
    expect(rec.summaries[0]).not.toContain("'guard'");
    expect(api.requests.some((r) => r.authorization === `token ${TOKEN}`)).toBe(true);
  });

  test('on pull_request the guard warns that the pull request can edit it; on pull_request_target it does not', async () => {
    greenChecks(stagingSha);
    const rec = recorder();
    const event = stagingPull();
    await guard(edges({ ...event, name: 'pull_request' }, {}, rec));
    expect(rec.warnings).toEqual([
      expect.stringMatching(/^The staging guard runs on `pull_request`, .*Run the guard on `pull_request_target`/),
    ]);
    const target = recorder();
    await guard(edges(event, {}, target));
    expect(target.warnings).toEqual([]);
  });

  test('a feature branch is refused with the flow to follow', async () => {
    git.branch('feature/menu', 'staging');
    const sha = git.commit('feature/menu', 'New menu page');
    greenChecks(sha);
    const rec = recorder();
    await expect(guard(edges(stagingPull(8, 'feature/menu'), {}, rec))).rejects.toThrow(
      /source branch: 'feature\/menu' is not an allowed source for 'master' \(allowed: staging\)/,
    );
    expect(rec.outputs.allowed).toBe('false');
    expect(JSON.parse(rec.outputs.reasons)).toHaveLength(1);
  });

  test("a fork's staging is refused even though the branch name matches", async () => {
    git.branch('fork-staging', 'staging');
    const sha = git.commit('fork-staging', 'Sneaky change');
    api.addPull({
      number: 9,
      headRef: 'staging',
      headBranchInGit: 'fork-staging',
      headRepo: 'mallory/site',
      baseRef: 'master',
    });
    greenChecks(sha);
    const event = pullRequestEvent({
      repo: REPO,
      number: 9,
      headRef: 'staging',
      headSha: sha,
      headRepo: 'mallory/site',
      baseRef: 'master',
      baseSha: masterSha,
    });
    await expect(guard(edges({ name: 'pull_request', payload: event }))).rejects.toThrow(
      /comes from the fork mallory\/site/,
    );
    // Across the fork network the head is owner:branch, and the fork's history is compared like any other.
    expect(decodeURIComponent(api.requests.find((r) => r.path.includes('/compare/'))?.path ?? '')).toBe(
      `/repos/${REPO}/compare/master...mallory:staging`,
    );
  });

  test('staging behind master is refused with the commands that bring it up to date', async () => {
    git.commit('master', 'Hotfix on master');
    greenChecks(stagingSha);
    await expect(guard(edges(stagingPull()))).rejects.toThrow(
      "'staging' has diverged from 'master' and is behind 'master' by 1 commit: what was tested is not what would be merged\n  Fix: git fetch origin && git switch staging && git merge --no-edit origin/master && git push origin staging",
    );
    const compare = api.requests.find((r) => r.path.includes('/compare/'));
    expect(compare?.path).toBe(`/repos/${REPO}/compare/master...${stagingSha}`);
  });

  test('a failing check refuses, a missing required check refuses', async () => {
    api.addCheckRun(stagingSha, { name: 'test', conclusion: 'failure' });
    const rec = recorder();
    await expect(guard(edges(stagingPull(), { 'required-checks': 'test, e2e' }, rec))).rejects.toThrow(ActionFailure);
    const reasons = JSON.parse(rec.outputs.reasons) as string[];
    expect(reasons).toEqual([
      expect.stringMatching(/^check run 'test' \(GitHub Actions\): failure on [0-9a-f]{7}/),
      expect.stringMatching(/^required check 'e2e': no check run or status matching it/),
    ]);
    expect(rec.summaries[0]).toContain('❔ missing');
  });

  test('a check that is pending then green within the wait is allowed after polling', async () => {
    // Green from the second listing on, on a clock that only the guard's own sleeps move: the test sees the
    // same thing on a fast or a loaded machine.
    api.addCheckRun(stagingSha, { name: 'test', pendingForPolls: 1 });
    const clock = fakeClock();
    const rec = recorder();
    const verdict = await guard({
      ...edges(stagingPull(), { 'wait-for-checks': '20s', 'poll-interval': '15s' }, rec),
      ...clock.edges,
    });
    expect(verdict?.allowed).toBe(true);
    expect(rec.infos.filter((m) => /^Waiting for check run 'test'/.test(m))).toEqual([
      "Waiting for check run 'test' (GitHub Actions); 20s left of wait-for-checks.",
    ]);
    expect(clock.sleeps).toEqual([15_000]);
    expect(api.requests.filter((r) => r.path.endsWith('/check-runs'))).toHaveLength(2);
  });

  test('the last sleep of a wait is cut to what is left of it, and the wait ends on the clock', async () => {
    api.addCheckRun(stagingSha, { name: 'test', pendingForPolls: 5 });
    const clock = fakeClock();
    const result = guard({
      ...edges(stagingPull(), { 'wait-for-checks': '40s', 'poll-interval': '15s' }),
      ...clock.edges,
    });
    await expect(result).rejects.toThrow(/still in progress on [0-9a-f]{7}, after waiting 40s/);
    expect(clock.sleeps).toEqual([15_000, 15_000, 10_000]);
  });

  test('a wait that runs out refuses with the pending check named', async () => {
    api.addCheckRun(stagingSha, { name: 'test', pendingForMs: Infinity });
    await expect(guard(edges(stagingPull(), { 'wait-for-checks': '600ms', 'poll-interval': '200ms' }))).rejects.toThrow(
      /check run 'test' \(GitHub Actions\): still (queued|in progress) on [0-9a-f]{7}, after waiting \ds/,
    );
  });

  test('a pull request into a branch that is not protected is skipped with a notice', async () => {
    api.addPull({ number: 11, headRef: 'feature/menu', baseRef: 'staging' });
    const rec = recorder();
    const event = pullRequestEvent({
      repo: REPO,
      number: 11,
      headRef: 'feature/menu',
      headSha: stagingSha,
      baseRef: 'staging',
      baseSha: stagingSha,
    });
    await expect(guard(edges({ name: 'pull_request', payload: event }, {}, rec))).resolves.toBeUndefined();
    expect(rec.notices[0]).toMatch(/targets 'staging', which is not protected/);
    expect(rec.outputs.allowed).toBe('skipped');
  });

  test('paginates check runs and statuses across pages', async () => {
    for (let i = 0; i < 105; i++) api.addCheckRun(stagingSha, { name: `matrix ${String(i).padStart(3, '0')}` });
    for (let i = 0; i < 102; i++) api.addStatus(stagingSha, { context: `ci/${i}`, state: 'success' });
    api.addCheckRun(stagingSha, { name: 'matrix 104b', conclusion: 'timed_out' });
    const rec = recorder();
    await expect(guard(edges(stagingPull(), {}, rec))).rejects.toThrow(
      /check run 'matrix 104b' \(GitHub Actions\): timed_out/,
    );
    const pages = api.requests.filter((r) => r.path.endsWith('/check-runs')).map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2']);
    expect(api.requests.filter((r) => r.path.endsWith('/statuses')).map((r) => r.query.page ?? '1')).toEqual([
      '1',
      '2',
    ]);
    expect(rec.summaries[0]).toContain("status 'ci/101'");
  });
});

describe('comments', () => {
  test('the verdict comment is created once and then edited in place', async () => {
    greenChecks(stagingSha);
    api.addPull({ number: 7, headRef: 'staging', baseRef: 'master' });
    api.addComment(7, 'Looks good to me');
    const event = {
      name: 'pull_request',
      payload: pullRequestEvent({
        repo: REPO,
        number: 7,
        headRef: 'staging',
        headSha: stagingSha,
        baseRef: 'master',
        baseSha: masterSha,
      }),
    };
    await guard(edges(event, { comment: 'true' }));
    git.commit('master', 'Hotfix');
    await expect(guard(edges(event, { comment: 'true' }))).rejects.toThrow(/behind 'master'/);
    const comments = api.commentsOn(7);
    expect(comments).toHaveLength(2);
    expect(comments[1].body).toContain(COMMENT_MARKER);
    expect(comments[1].body).toContain('Staging guard: refused');
    expect(api.requests.map((r) => r.method).filter((m) => m !== 'GET')).toEqual(['POST', 'PATCH']);
  });

  test('a token that cannot comment leaves a warning and the verdict stands', async () => {
    greenChecks(stagingSha);
    api.deny('pull-requests:write');
    const rec = recorder();
    const verdict = await guard(edges(stagingPull(), { comment: 'true' }, rec));
    expect(verdict?.allowed).toBe(true);
    expect(rec.warnings[0]).toMatch(
      /comment was not posted: Could not comment on the pull request: GitHub answered 403 .*pull-requests: write/,
    );
  });
});

describe('permissions', () => {
  test.each([
    [
      'checks',
      /Could not list check runs: GitHub answered 403 \(Resource not accessible by integration\)\. The token lacks 'checks: read' \(GitHub accepts: checks=read\)/,
    ],
    ['statuses', /Could not read commit statuses: .*lacks 'statuses: read'/],
  ] as const)('a token without %s read gets one clear message', async (permission, message) => {
    greenChecks(stagingSha);
    api.deny(permission);
    await expect(guard(edges(stagingPull()))).rejects.toThrow(message);
  });

  test('a spent rate limit says when it resets', async () => {
    api.setRateLimitRemaining(0);
    await expect(guard(edges(stagingPull()))).rejects.toThrow(
      /rate limit for this token is spent\. It resets at \d{4}-/,
    );
  });
});

describe('merge groups', () => {
  test('a merge group for a staging pull request is judged on the group head', async () => {
    api.addPull({ number: 12, headRef: 'staging', baseRef: 'master' });
    git.branch('gh-readonly-queue/master/pr-12', 'master');
    const head = git.merge('gh-readonly-queue/master/pr-12', 'staging');
    greenChecks(head);
    const rec = recorder();
    const payload = mergeGroupEvent({
      repo: REPO,
      baseRef: 'master',
      baseSha: masterSha,
      headSha: head,
      pullNumber: 12,
    });
    const verdict = await guard(edges({ name: 'merge_group', payload }, { 'required-checks': 'test' }, rec));
    expect(verdict?.allowed).toBe(true);
    expect(api.requests.some((r) => r.path === `/repos/${REPO}/commits/${head}/check-runs`)).toBe(true);
    expect(rec.summaries[0]).toContain('merge group for pull request #12 (staging → master)');
  });

  test('a merge group whose branch does not name its pull request is refused', async () => {
    greenChecks(stagingSha);
    const payload = mergeGroupEvent({
      repo: REPO,
      baseRef: 'master',
      baseSha: masterSha,
      headSha: stagingSha,
      pullNumber: 1,
    });
    payload.merge_group.head_ref = 'refs/heads/gh-readonly-queue/master/hand-made';
    await expect(guard(edges({ name: 'merge_group', payload }))).rejects.toThrow(
      /no pull request of the merge group was found: its branch does not name one/,
    );
  });

  test('a merge group into a branch that is not protected is skipped', async () => {
    const rec = recorder();
    const payload = mergeGroupEvent({
      repo: REPO,
      baseRef: 'staging',
      baseSha: masterSha,
      headSha: stagingSha,
      pullNumber: 1,
    });
    await guard(edges({ name: 'merge_group', payload }, {}, rec));
    expect(rec.notices[0]).toMatch(/the merge group targets 'staging', which is not protected/);
    expect(api.requests).toHaveLength(0);
  });

  /** The merge group of one pull request from `source`, as the queue builds it with the merge method, green. */
  function queueOf(number: number, source: string) {
    const queue = `gh-readonly-queue/master/pr-${number}`;
    git.branch(queue, 'master');
    const head = git.merge(queue, source, `Merge pull request #${number} from ocpizza/${source}`);
    greenChecks(head);
    return mergeGroupEvent({ repo: REPO, baseRef: 'master', baseSha: masterSha, headSha: head, pullNumber: number });
  }

  /** A queue of feature/x (#21), then staging (#22): the branch is named after #22, the last one. */
  function queueOfTwo(method: 'merge' | 'squash') {
    git.branch('feature/x', 'master');
    git.commit('feature/x', 'Add a coupon field');
    api.addPull({ number: 21, headRef: 'feature/x', baseRef: 'master' });
    api.addPull({ number: 22, headRef: 'staging', baseRef: 'master' });
    const queue = 'gh-readonly-queue/master/pr-22';
    git.branch(queue, 'master');
    let head: string;
    if (method === 'merge') {
      git.merge(queue, 'feature/x', 'Merge pull request #21 from ocpizza/feature/x');
      head = git.merge(queue, 'staging', 'Merge pull request #22 from ocpizza/staging');
    } else {
      git.commit(queue, 'Add a coupon field (#21)');
      head = git.commit(queue, 'Release the new menu (#22)');
    }
    greenChecks(head);
    return mergeGroupEvent({ repo: REPO, baseRef: 'master', baseSha: masterSha, headSha: head, pullNumber: 22 });
  }

  test.each(['merge', 'squash'] as const)(
    'every pull request of a group is judged, not only the last one (%s method)',
    async (method) => {
      const rec = recorder();
      const run = guard(edges({ name: 'merge_group', payload: queueOfTwo(method) }, {}, rec));
      await expect(run).rejects.toThrow(/source branch of #21: 'feature\/x' is not an allowed source/);
      expect(rec.summaries[0]).toContain('merge group for pull requests #21, #22 into master');
      expect(rec.summaries[0]).toMatch(/\| source branch of #22 \| ✅ pass \|/);
    },
  );

  test('commits of staging itself that name other pull requests do not join the group', async () => {
    // staging's history carries "Merge pull request #5 from ocpizza/feature/y" (into staging): not in the queue.
    git.branch('feature/y', 'staging');
    git.commit('feature/y', 'y');
    git.merge('staging', 'feature/y', 'Merge pull request #5 from ocpizza/feature/y');
    api.addPull({
      number: 5,
      headRef: 'feature/y',
      baseRef: 'staging',
      state: 'closed',
      mergedAt: '2026-11-27T08:00:00Z',
    });
    api.addPull({ number: 23, headRef: 'staging', baseRef: 'master' });
    const payload = queueOf(23, 'staging');
    const verdict = await guard(edges({ name: 'merge_group', payload }));
    expect(verdict?.allowed).toBe(true);
    expect(verdict?.rules.map((r) => r.rule)).toContain('source branch');
  });

  test('a merge group for a feature pull request is refused', async () => {
    git.branch('feature/x', 'master');
    git.commit('feature/x', 'x');
    api.addPull({ number: 13, headRef: 'feature/x', baseRef: 'master' });
    const payload = queueOf(13, 'feature/x');
    await expect(guard(edges({ name: 'merge_group', payload }))).rejects.toThrow(
      /'feature\/x' is not an allowed source/,
    );
  });
});

describe('pushes', () => {
  test('the merge of a staging pull request pushed to master came through the flow', async () => {
    greenChecks(stagingSha);
    const merge = git.merge('master', 'staging');
    api.addPull({
      number: 7,
      headRef: 'staging',
      headSha: stagingSha,
      baseRef: 'master',
      mergeCommitSha: merge,
      mergedAt: '2026-11-27T09:30:00Z',
    });
    const rec = recorder();
    const payload = pushEvent({ repo: REPO, branch: 'master', before: masterSha, after: merge });
    const verdict = await guard(edges({ name: 'push', payload }, {}, rec));
    expect(verdict?.rules[0].reason).toMatch(/is the merge of pull request #7 from 'staging'/);
    expect(api.requests.some((r) => r.path === `/repos/${REPO}/commits/${stagingSha}/check-runs`)).toBe(true);
  });

  test('a fast-forward of staging to master came through the flow; checks started by the push do not count', async () => {
    api.addCheckRun(stagingSha, { name: 'test', startedAt: '2026-11-27T09:00:00Z' });
    // Started by the push to master itself (after pushed_at): not evidence, and still running.
    api.addCheckRun(stagingSha, { name: 'deploy', pendingForMs: Infinity, startedAt: '2026-11-27T10:00:05Z' });
    const after = git.fastForward('master', 'staging');
    const payload = pushEvent({
      repo: REPO,
      branch: 'master',
      before: masterSha,
      after,
      pushedAt: Date.parse('2026-11-27T10:00:00Z') / 1000,
    });
    const verdict = await guard(edges({ name: 'push', payload }));
    expect(verdict?.allowed).toBe(true);
    expect(verdict?.rules.map((r) => r.rule)).toEqual(['came through the flow', "check run 'test' (GitHub Actions)"]);
  });

  test('an allowed source that does not exist yet is passed over', async () => {
    api.addCheckRun(stagingSha, { name: 'test', startedAt: '2026-11-27T09:00:00Z' });
    const after = git.fastForward('master', 'staging');
    const payload = pushEvent({
      repo: REPO,
      branch: 'master',
      before: masterSha,
      after,
      pushedAt: Date.parse('2026-11-27T10:00:00Z') / 1000,
    });
    const verdict = await guard(edges({ name: 'push', payload }, { 'allowed-sources': 'release, staging' }));
    expect(verdict?.rules[0].reason).toMatch(/is a commit of 'staging'/);
    expect(
      api.requests.filter((r) => r.path.includes('/compare/')).map((r) => r.path.split('/compare/')[1].split('...')[0]),
    ).toEqual(['release', 'staging']);
  });

  test('a direct push to master is flagged loudly', async () => {
    const before = masterSha;
    const after = git.commit('master', 'Quick fix straight on prod');
    const rec = recorder();
    const payload = pushEvent({ repo: REPO, branch: 'master', before, after, pusher: 'root-admin', forced: true });
    await expect(guard(edges({ name: 'push', payload }, {}, rec))).rejects.toThrow(
      /a direct push or an admin bypass happened: [0-9a-f]{7} on 'master', pushed by root-admin \(a force push\), is neither the merge of a pull request from staging nor a commit of it/,
    );
    expect(rec.outputs.allowed).toBe('false');
  });

  test('a merged pull request from a feature branch does not make a push legitimate', async () => {
    git.branch('feature/y', 'master');
    const featureSha = git.commit('feature/y', 'y');
    const merge = git.merge('master', 'feature/y');
    api.addPull({
      number: 21,
      headRef: 'feature/y',
      headSha: featureSha,
      baseRef: 'master',
      mergeCommitSha: merge,
      mergedAt: '2026-11-27T09:30:00Z',
    });
    const payload = pushEvent({ repo: REPO, branch: 'master', before: masterSha, after: merge });
    await expect(guard(edges({ name: 'push', payload }))).rejects.toThrow(
      /the flow was bypassed: [0-9a-f]{7} on 'master' is the merge of pull request #21 from 'feature\/y' of ocpizza\/site, which is not an allowed source \(staging\)/,
    );
  });

  test('a push to staging is not guarded: CI there is the validation', async () => {
    const rec = recorder();
    const payload = pushEvent({ repo: REPO, branch: 'staging', before: masterSha, after: stagingSha });
    await expect(guard(edges({ name: 'push', payload }, {}, rec))).resolves.toBeUndefined();
    expect(rec.notices[0]).toMatch(/CI on staging is the validation/);
    expect(rec.outputs.allowed).toBe('true');
    expect(api.requests).toHaveLength(0);
  });

  test('a push to another branch, and an unhandled event, skip with a notice', async () => {
    const rec = recorder();
    await guard(
      edges(
        { name: 'push', payload: pushEvent({ repo: REPO, branch: 'docs', before: masterSha, after: stagingSha }) },
        {},
        rec,
      ),
    );
    await guard(edges({ name: 'schedule', payload: {} }, {}, rec));
    expect(rec.notices).toEqual([
      expect.stringMatching(/'docs' is neither protected .* nor an allowed source/),
      expect.stringMatching(/the 'schedule' event is not one the guard judges/),
    ]);
    expect(api.requests).toHaveLength(0);
  });
});

describe('default edges', () => {
  test('read the event from GITHUB_EVENT_PATH and talk to the runner through workflow commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'guard-event-'));
    try {
      const path = join(dir, 'event.json');
      writeFileSync(path, JSON.stringify({ action: 'opened', number: 3 }));
      const real = defaultEdges({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: path });
      expect(real.event).toEqual({ name: 'pull_request', payload: { action: 'opened', number: 3 } });
      expect(defaultEdges({}).event).toEqual({ name: '', payload: {} });
      expect(typeof real.clock()).toBe('number');
      await real.sleep(1);
      expect(await real.gateway(TOKEN, { owner: 'o', repo: 'r' })).toHaveProperty('checks');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const summary = process.env.GITHUB_STEP_SUMMARY;
    delete process.env.GITHUB_STEP_SUMMARY;
    try {
      coreRunner.info('judging');
      coreRunner.notice('skipped');
      coreRunner.warning('careful');
      coreRunner.setSecret('s3cret-value');
      await coreRunner.writeSummary('# nothing to write to');
    } finally {
      spy.mockRestore();
      if (summary !== undefined) process.env.GITHUB_STEP_SUMMARY = summary;
    }
    expect(written.join('')).toMatch(
      /judging\n[^]*::notice::skipped[^]*::warning::careful[^]*::add-mask::s3cret-value/,
    );
  });
});

describe('run', () => {
  test('a refusal becomes one failed step through runAction', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await run(
        edges(
          { name: 'pull_request', payload: { action: 'opened', number: 5, pull_request: { number: 5 } } },
          { 'allowed-sources': '' },
        ),
      );
    } finally {
      spy.mockRestore();
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
    expect(written.join('')).toMatch(/::error::Input 'allowed-sources' must name at least one branch/);
  });
});
