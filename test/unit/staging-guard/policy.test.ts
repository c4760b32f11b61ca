import { ActionFailure } from '../../../actions/shared/errors.js';
import { explainRequestError, JOB_PERMISSIONS } from '../../../actions/staging-guard/github-gateway.js';
import {
  branchMatches,
  checkStateOf,
  closeWaiting,
  evaluateChecks,
  freshnessRule,
  isIgnored,
  pushOriginRule,
  sameRepositoryRule,
  sourceBranchRule,
  verdictOf,
  type CheckObservation,
  type CheckOptions,
  type NamePattern,
} from '../../../actions/staging-guard/policy.js';

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
const run = (
  name: string,
  status: string,
  conclusion: string | null,
  startedAt = '2026-11-27T09:00:00Z',
): CheckObservation => ({
  name,
  kind: 'check run',
  status,
  conclusion,
  url: `https://github.com/o/r/actions/runs/1/job/${name.length}`,
  startedAt,
});
const status = (name: string, state: string): CheckObservation => ({
  name,
  kind: 'status',
  status: state,
  conclusion: null,
  url: null,
  startedAt: '2026-11-27T09:00:00Z',
});
const names = (...list: string[]): NamePattern[] => list.map((name) => ({ kind: 'name', name }));
const options = (o: Partial<CheckOptions> = {}): CheckOptions => ({
  required: [],
  ignore: names('guard'),
  treatSkippedAsPass: false,
  treatNeutralAsPass: false,
  ...o,
});

describe('source rules', () => {
  const facts = {
    headRef: 'staging',
    headRepo: 'ocpizza/site',
    baseRepo: 'ocpizza/site',
    baseRef: 'master',
    allowedSources: ['staging'],
  };

  test('an allowed source from the same repository passes both rules', () => {
    expect(sourceBranchRule(facts).state).toBe('pass');
    expect(sameRepositoryRule(facts).state).toBe('pass');
  });

  test('another branch fails with the flow to follow', () => {
    const rule = sourceBranchRule({ ...facts, headRef: 'feature/menu' });
    expect(rule).toMatchObject({
      state: 'fail',
      reason: "'feature/menu' is not an allowed source for 'master' (allowed: staging)",
    });
    expect(rule.fix).toMatch(/Merge 'feature\/menu' into staging first/);
  });

  test("a fork's staging and a deleted fork fail", () => {
    expect(sameRepositoryRule({ ...facts, headRepo: 'mallory/site' }).reason).toMatch(
      /comes from the fork mallory\/site/,
    );
    expect(sameRepositoryRule({ ...facts, headRepo: null }).reason).toMatch(/comes from a deleted fork/);
  });

  test('branch patterns accept * and nothing else is special', () => {
    expect(branchMatches(['release/*'], 'release/2026.11')).toBe(true);
    expect(branchMatches(['release/*'], 'hotfix/1')).toBe(false);
    expect(branchMatches(['v1.0'], 'v100')).toBe(false);
    expect(branchMatches(['master', 'main'], 'main')).toBe(true);
  });
});

describe('freshness', () => {
  test('ahead only passes, behind fails with the commands', () => {
    expect(freshnessRule({ status: 'ahead', aheadBy: 1, behindBy: 0 }, 'staging', 'master').reason).toBe(
      "'staging' contains 'master' and is ahead by 1 commit",
    );
    const behind = freshnessRule({ status: 'behind', aheadBy: 0, behindBy: 3 }, 'staging', 'master');
    expect(behind).toMatchObject({
      state: 'fail',
      reason: expect.stringMatching(/^'staging' is behind 'master' by 3 commits/),
    });
    expect(behind.fix).toBe(
      'git fetch origin && git switch staging && git merge --no-edit origin/master && git push origin staging',
    );
    expect(freshnessRule({ status: 'diverged', aheadBy: 2, behindBy: 1 }, 'staging', 'main').reason).toMatch(
      /has diverged from 'main'/,
    );
  });
});

describe('checks', () => {
  test('check states follow the conclusion; statuses follow their state', () => {
    expect(checkStateOf(run('t', 'completed', 'success'))).toBe('pass');
    expect(checkStateOf(run('t', 'in_progress', null))).toBe('pending');
    expect(checkStateOf(run('t', 'completed', 'skipped'))).toBe('skipped');
    expect(checkStateOf(run('t', 'completed', 'neutral'))).toBe('neutral');
    for (const bad of ['failure', 'cancelled', 'timed_out', 'action_required', 'stale', 'startup_failure']) {
      expect(checkStateOf(run('t', 'completed', bad))).toBe('fail');
    }
    expect(checkStateOf(status('ci', 'success'))).toBe('pass');
    expect(checkStateOf(status('ci', 'pending'))).toBe('pending');
    expect(checkStateOf(status('ci', 'error'))).toBe('fail');
  });

  test('the guard itself and its matrix legs are ignored', () => {
    const done = (name: string) => run(name, 'completed', 'success');
    expect(isIgnored(done('guard'), names('guard'))).toBe(true);
    expect(isIgnored(done('guard (ubuntu)'), names('guard'))).toBe(true);
    expect(isIgnored(done('guardian'), names('guard'))).toBe(false);
    expect(isIgnored(done('Staging guard'), [{ kind: 'regex', regex: /guard$/i, source: '/guard$/i' }])).toBe(true);
  });

  test('all green passes; a re-run in the same workflow run replaces the run it repeats', () => {
    const result = evaluateChecks(
      SHA,
      [
        run('test', 'completed', 'failure', '2026-11-27T08:00:00Z'),
        run('test', 'completed', 'success', '2026-11-27T09:00:00Z'),
        status('coverage', 'success'),
        run('guard', 'in_progress', null),
      ],
      options({ required: [{ kind: 'regex', regex: /^cov/, source: '/^cov/' }] }),
    );
    expect(result.waiting).toBe(false);
    expect(result.rules.map((r) => [r.rule, r.state])).toEqual([
      ["status 'coverage'", 'pass'],
      ["check run 'test'", 'pass'],
    ]);
  });

  test('skipped and neutral fail only when required, unless counted as a pass', () => {
    const checks = [
      run('deploy', 'completed', 'skipped'),
      run('lint', 'completed', 'neutral'),
      run('test', 'completed', 'success'),
    ];
    const loose = evaluateChecks(SHA, checks, options());
    expect(verdictOf(loose.rules).allowed).toBe(true);
    expect(loose.rules[0].reason).toMatch(/skipped on a1b2c3d; not required, so not counted/);

    const strict = evaluateChecks(SHA, checks, options({ required: names('deploy', 'lint') }));
    expect(strict.rules.filter((r) => r.state === 'fail').map((r) => r.fix)).toEqual([
      expect.stringMatching(/treat-skipped-as-pass: true/),
      expect.stringMatching(/treat-neutral-as-pass: true/),
    ]);

    const counted = evaluateChecks(
      SHA,
      checks,
      options({ required: names('deploy', 'lint'), treatSkippedAsPass: true, treatNeutralAsPass: true }),
    );
    expect(verdictOf(counted.rules).allowed).toBe(true);
    expect(counted.rules[0].reason).toMatch(/counted as a pass \(treat-skipped-as-pass\)/);
  });

  test('pending and missing keep the guard waiting, and say so once the wait is over', () => {
    const result = evaluateChecks(SHA, [run('test', 'queued', null)], options({ required: names('e2e') }));
    expect(result.waiting).toBe(true);
    expect(result.rules.map((r) => r.state)).toEqual(['pending', 'missing']);
    const closed = closeWaiting(result.rules, 90_000);
    expect(closed[0].reason).toBe('still queued on a1b2c3d, after waiting 90s');
    expect(closeWaiting(result.rules, 0)).toEqual(result.rules);
  });

  test('no check at all is not a validation', () => {
    const result = evaluateChecks(SHA, [run('guard', 'in_progress', null)], options());
    expect(result.rules).toEqual([expect.objectContaining({ rule: 'checks', state: 'missing' })]);
    expect(verdictOf(result.rules).allowed).toBe(false);
  });

  test('a failing status shows its state', () => {
    const result = evaluateChecks(SHA, [status('ci/travis', 'failure')], options());
    expect(result.rules[0]).toMatchObject({ state: 'fail', reason: 'failure on a1b2c3d' });
  });
});

describe('checks of the same name from different sources', () => {
  const actions = { app: 'github-actions', appName: 'GitHub Actions' };
  const from = (check: CheckObservation, source: Partial<CheckObservation>): CheckObservation => ({
    ...check,
    ...source,
  });
  const failedTest = from(run('test', 'completed', 'failure', '2026-11-27T08:00:00Z'), { ...actions, suite: 1 });
  const required = options({ required: names('test') });

  test('a later green run from another app does not hide a failed run: both are shown, with their app', () => {
    const other = from(run('test', 'completed', 'success', '2026-11-27T09:00:00Z'), {
      app: 'quick-ci',
      appName: 'Quick CI',
      suite: 2,
    });
    const result = evaluateChecks(SHA, [failedTest, other], required);
    expect(result.rules.map((r) => [r.rule, r.state])).toEqual([
      ["check run 'test' (GitHub Actions)", 'fail'],
      ["check run 'test' (Quick CI)", 'pass'],
    ]);
    expect(verdictOf(result.rules).allowed).toBe(false);
  });

  test('a second workflow with a job named test does not hide the first one, but a re-run of it does', () => {
    const otherWorkflow = from(run('test', 'completed', 'success', '2026-11-27T09:00:00Z'), { ...actions, suite: 2 });
    const twoWorkflows = evaluateChecks(SHA, [failedTest, otherWorkflow], required);
    expect(twoWorkflows.rules.map((r) => [r.rule, r.state])).toEqual([
      ["check run 'test' (GitHub Actions, check suite 1)", 'fail'],
      ["check run 'test' (GitHub Actions, check suite 2)", 'pass'],
    ]);
    const reRun = from(run('test', 'completed', 'success', '2026-11-27T09:00:00Z'), { ...actions, suite: 1 });
    const reRan = evaluateChecks(SHA, [failedTest, reRun], required);
    expect(reRan.rules.map((r) => [r.rule, r.state])).toEqual([["check run 'test' (GitHub Actions)", 'pass']]);
  });

  test('a status posted by someone else does not replace a failed status; a newer one by its creator does', () => {
    const failed = from(status('ci/test', 'failure'), { app: 'ci-bot', startedAt: '2026-11-27T08:00:00Z' });
    const forged = from(status('ci/test', 'success'), { app: 'mallory' });
    expect(evaluateChecks(SHA, [failed, forged], options()).rules.map((r) => [r.rule, r.state])).toEqual([
      ["status 'ci/test' (by ci-bot)", 'fail'],
      ["status 'ci/test' (by mallory)", 'pass'],
    ]);
    const fixed = from(status('ci/test', 'success'), { app: 'ci-bot' });
    expect(verdictOf(evaluateChecks(SHA, [failed, fixed], options()).rules).allowed).toBe(true);
  });

  test('a check run and a status of the same name are two checks', () => {
    const result = evaluateChecks(
      SHA,
      [from(status('test', 'error'), { app: 'ci-bot' }), from(run('test', 'completed', 'success'), actions)],
      required,
    );
    expect(result.rules.map((r) => [r.rule, r.state])).toEqual([
      ["check run 'test' (GitHub Actions)", 'pass'],
      ["status 'test' (by ci-bot)", 'fail'],
    ]);
  });

  test('a required check pinned to an app is satisfied only by that app', () => {
    const pinned = options({ required: [{ kind: 'name', name: 'test', app: 'github-actions' }] });
    const other = from(run('test', 'completed', 'success'), { app: 'quick-ci', appName: 'Quick CI', suite: 2 });
    const result = evaluateChecks(SHA, [other, from(status('test', 'success'), { app: 'github-actions' })], pinned);
    expect(result.rules.find((r) => r.state !== 'pass')).toMatchObject({
      rule: "required check 'test@github-actions'",
      state: 'missing',
      reason: expect.stringMatching(/only from another source: check run 'test' \(Quick CI\), status 'test'/),
    });
    const ours = from(run('test', 'completed', 'success'), { ...actions, suite: 3 });
    expect(verdictOf(evaluateChecks(SHA, [other, ours], pinned).rules).allowed).toBe(true);
  });

  test('names and apps from the API are printed neutralised', () => {
    const hostile = from(run('test\n::error::FORGED', 'completed', 'failure'), {
      app: 'x',
      appName: 'Evil ##[add-mask]App',
    });
    const [rule] = evaluateChecks(SHA, [hostile], options()).rules;
    expect(rule.rule).toBe("check run 'test\\n::error::FORGED' (Evil #\\u0023[add-mask]App)");
    expect(rule.fix).not.toMatch(/\n/);
  });
});

describe('verdict', () => {
  test('allowed only when every rule passes, and never on no rules', () => {
    expect(verdictOf([]).allowed).toBe(false);
    const verdict = verdictOf([
      { rule: 'a', state: 'pass', reason: 'ok', fix: '' },
      { rule: 'b', state: 'pending', reason: 'still running', fix: 'wait' },
    ]);
    expect(verdict).toMatchObject({ allowed: false, reasons: ['b: still running'] });
  });
});

describe('push origin', () => {
  const facts = { branch: 'master', sha: SHA, pusher: 'ada', forced: false, allowedSources: ['staging'] };
  test('a merge of a staging pull request and a commit of staging pass', () => {
    expect(
      pushOriginRule(
        { via: { kind: 'pull request', number: 4, headRef: 'staging', headSha: SHA }, refusedPulls: [] },
        facts,
      ).state,
    ).toBe('pass');
    expect(pushOriginRule({ via: { kind: 'contained', source: 'staging' }, refusedPulls: [] }, facts).reason).toBe(
      "a1b2c3d is a commit of 'staging'",
    );
  });

  test('a direct push and a bypassed merge fail, each with its own story', () => {
    expect(pushOriginRule({ via: null, refusedPulls: [] }, facts).reason).toMatch(
      /^a direct push or an admin bypass happened/,
    );
    const bypass = pushOriginRule(
      { via: null, refusedPulls: [{ number: 3, headRef: 'staging', headRepo: null }] },
      facts,
    );
    expect(bypass.reason).toMatch(/pull request #3 from 'staging' of a deleted fork/);
    expect(bypass.fix).toMatch(/git revert -m 1/);
  });
});

describe('request errors', () => {
  const httpError = (status: number, message: string, headers: Record<string, string> = {}) =>
    Object.assign(new Error(message), { status, response: { headers } });

  test('404 is read as a missing permission too, since GitHub hides private resources that way', () => {
    const error = explainRequestError(
      httpError(404, 'Not Found - https://docs.github.com/rest/checks/runs'),
      'list check runs',
      'checks: read',
    );
    expect(error).toBeInstanceOf(ActionFailure);
    expect(error.message).toBe(
      `Could not list check runs: GitHub answered 404 (Not Found). The token lacks 'checks: read'. Give the job \`permissions:\` with ${JOB_PERMISSIONS}, or pass a token that has them in github-token.`,
    );
  });

  test('other statuses and non-HTTP errors keep their message', () => {
    expect(explainRequestError(httpError(502, 'Bad Gateway'), 'read commit statuses', 'statuses: read').message).toBe(
      'Could not read commit statuses: GitHub answered 502 (Bad Gateway).',
    );
    expect(
      explainRequestError(new Error('connect ECONNREFUSED 127.0.0.1:9'), 'list check runs', 'checks: read').message,
    ).toBe('Could not list check runs: connect ECONNREFUSED 127.0.0.1:9');
    expect(
      explainRequestError(httpError(429, 'Too Many Requests', { 'x-ratelimit-remaining': '0' }), 'x', 'y').message,
    ).toBe('Could not x: the GitHub API rate limit for this token is spent.');
  });
});
