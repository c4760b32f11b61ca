import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { subjectOf } from '../../../actions/staging-guard/event.js';
import { readInputs } from '../../../actions/staging-guard/inputs.js';
import { renderComment, renderVerdict, COMMENT_MARKER } from '../../../actions/staging-guard/summary.js';

const actionYml = parse(
  readFileSync(new URL('../../../actions/staging-guard/action.yml', import.meta.url), 'utf8'),
) as {
  inputs: Record<string, { default?: string }>;
};
const defaults = Object.fromEntries(Object.entries(actionYml.inputs).map(([k, v]) => [k, v.default ?? '']));
const read = (values: Record<string, string>, env: NodeJS.ProcessEnv = { GITHUB_JOB: 'guard' }) => {
  const all: Record<string, string> = { ...defaults, 'github-token': 'ghs_x', ...values };
  return readInputs((name) => all[name] ?? '', env);
};

describe('inputs', () => {
  test('the action.yml defaults give the documented behaviour', () => {
    const inputs = read({});
    expect(inputs.protected).toEqual(['master', 'main']);
    expect(inputs['allowed-sources']).toEqual(['staging']);
    expect(inputs['required-checks']).toEqual([]);
    expect(inputs['wait-for-checks']).toBe(600_000);
    expect(inputs['poll-interval']).toBe(15_000);
    expect(inputs['treat-skipped-as-pass']).toBe(false);
    expect(inputs['ignore-checks']).toEqual([{ kind: 'name', name: 'guard' }]);
    expect(inputs.comment).toBe(false);
  });

  test('required checks take names and regular expressions, commas inside a regex kept', () => {
    const inputs = read({ 'required-checks': 'test, lint\n/^e2e \\((py|pg),(3\\.11)\\)$/i' });
    expect(inputs['required-checks'].map((p) => (p.kind === 'name' ? p.name : p.source))).toEqual([
      'test',
      'lint',
      '/^e2e \\((py|pg),(3\\.11)\\)$/i',
    ]);
    const regex = inputs['required-checks'][2];
    expect(regex.kind === 'regex' && regex.regex.test('E2E (pg,3.11)')).toBe(true);
  });

  test('a required check can be pinned to the app that must make it, names and regular expressions alike', () => {
    const inputs = read({ 'required-checks': 'test@github-actions\n/^lint/i@Super-Linter\ne2e' });
    expect(inputs['required-checks']).toEqual([
      { kind: 'name', name: 'test', app: 'github-actions' },
      { kind: 'regex', regex: /^lint/i, source: '/^lint/i', app: 'super-linter' },
      { kind: 'name', name: 'e2e' },
    ]);
  });

  test('wait-for-checks 0 means no wait; other durations parse', () => {
    expect(read({ 'wait-for-checks': '0' })['wait-for-checks']).toBe(0);
    expect(read({ 'wait-for-checks': '0s' })['wait-for-checks']).toBe(0);
    expect(read({ 'wait-for-checks': '1m30s' })['wait-for-checks']).toBe(90_000);
  });

  test('ignore-checks adds to the job id, without repeating it', () => {
    expect(read({ 'ignore-checks': 'Staging guard, guard' })['ignore-checks']).toEqual([
      { kind: 'name', name: 'Staging guard' },
      { kind: 'name', name: 'guard' },
    ]);
    expect(read({}, {})['ignore-checks']).toEqual([]);
  });

  test.each([
    [
      { 'allowed-sources': '' },
      "Input 'allowed-sources' must name at least one branch that may be merged into a protected branch (comma or newline separated), such as 'staging'; got an empty value.",
    ],
    [{ 'allowed-sources': ' , \n' }, /Input 'allowed-sources' must name at least one branch/],
    [
      { 'required-checks': '/te(st/' },
      /^Input 'required-checks' has a malformed regular expression '\/te\(st\/' \(.*\); write a check name, or a valid regular expression between slashes/,
    ],
    [
      { 'ignore-checks': '/guard' },
      /^Input 'ignore-checks' has '\/guard', which starts like a regular expression but does not end with '\/'/,
    ],
    [{ 'github-token': '' }, /^Input 'github-token' is required: pass a token that can read checks and statuses/],
    [{ protected: '' }, /^Input 'protected' must name at least one branch/],
    [
      { 'wait-for-checks': 'soon' },
      "Input 'wait-for-checks' must be 0 (do not wait) or a duration such as 30s, 10m or 1h (a bare number is seconds); got 'soon'.",
    ],
    [{ 'poll-interval': '0' }, /^Input 'poll-interval' must be a duration above zero/],
    [{ comment: 'yes' }, "Input 'comment' must be true or false; got 'yes'."],
  ])('bad input %p gives one clear error', (values, message) => {
    let error: unknown;
    try {
      read(values);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('events', () => {
  test('pull_request actions the guard judges, and those it skips', () => {
    const payload = (action: string) => ({ action, number: 4, pull_request: { number: 4, base: { ref: 'master' } } });
    expect(subjectOf('pull_request', payload('synchronize'))).toEqual({
      kind: 'pull request',
      number: 4,
      baseRef: 'master',
    });
    expect(subjectOf('pull_request_target', payload('edited'))).toMatchObject({ kind: 'pull request' });
    expect(subjectOf('pull_request', payload('closed'))).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/'closed' is not one/),
    });
    expect(subjectOf('pull_request', { action: 'opened' })).toMatchObject({ kind: 'skip' });
  });

  test('merge_group finds its pull request in the queue branch name', () => {
    const subject = subjectOf('merge_group', {
      merge_group: {
        head_ref: 'refs/heads/gh-readonly-queue/main/pr-42-0123abcd',
        head_sha: 'h',
        base_sha: 'b',
        base_ref: 'refs/heads/main',
      },
    });
    expect(subject).toEqual({ kind: 'merge group', baseRef: 'main', headSha: 'h', baseSha: 'b', pullNumber: 42 });
    expect(subjectOf('merge_group', { merge_group: { head_ref: 'refs/heads/odd' } })).toMatchObject({
      pullNumber: null,
    });
  });

  test('push: branches only, deletions skipped, pushed_at in seconds or ISO', () => {
    const sha = 'f'.repeat(40);
    expect(subjectOf('push', { ref: 'refs/tags/v1', after: sha })).toMatchObject({ kind: 'skip' });
    expect(subjectOf('push', { ref: 'refs/heads/master', after: '0'.repeat(40) })).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/deleted/),
    });
    expect(
      subjectOf('push', { ref: 'refs/heads/master', after: sha, repository: { pushed_at: 1_795_000_000 } }),
    ).toMatchObject({
      kind: 'push',
      branch: 'master',
      pusher: 'unknown',
      pushedAt: new Date(1_795_000_000_000).toISOString(),
    });
    expect(
      subjectOf('push', {
        ref: 'refs/heads/master',
        after: sha,
        repository: { pushed_at: '2026-11-27T10:00:00Z' },
        sender: { login: 'bob' },
      }),
    ).toMatchObject({
      pushedAt: '2026-11-27T10:00:00Z',
      pusher: 'bob',
    });
    expect(subjectOf('push', { ref: 'refs/heads/master', after: sha })).toMatchObject({ pushedAt: null });
  });

  test('other events skip', () => {
    expect(subjectOf('workflow_dispatch', null)).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/'workflow_dispatch' event/),
    });
  });
});

describe('summary', () => {
  test('a table row per rule; pipes and line breaks cannot break the table; commands are code', () => {
    const verdict = {
      allowed: false,
      reasons: [],
      rules: [
        {
          rule: "check run 'a|b'",
          state: 'fail' as const,
          reason: 'line one\nline two',
          fix: 'git fetch origin && git push',
        },
        { rule: 'checks', state: 'missing' as const, reason: 'none', fix: 'Run the tests.' },
      ],
    };
    const md = renderVerdict(verdict, { subject: 'pull request #3 (staging → master)', sha: 'abcdef0123' });
    expect(md).toContain('### ❌ Staging guard: refused');
    expect(md).toContain("| check run 'a\\|b' | ❌ fail | line one line two | `git fetch origin && git push` |");
    expect(md).toContain('| checks | ❔ missing | none | Run the tests. |');
    expect(renderComment(verdict, { subject: 'x', sha: 'abcdef0' }).startsWith(COMMENT_MARKER)).toBe(true);
  });

  test("a comment stays under GitHub's 65536-character limit", () => {
    const rules = Array.from({ length: 900 }, (_, i) => ({
      rule: `check run 'e2e (shard ${i} of 900, postgres 15, python 3.11)'`,
      state: 'pass' as const,
      reason: 'succeeded on abcdef0',
      fix: '',
    }));
    const body = renderComment({ allowed: true, reasons: [], rules }, { subject: 'x', sha: 'abcdef0' });
    expect(body.length).toBeLessThanOrEqual(65_000);
    expect(body).toMatch(/… 900 rules in all; the job summary has the whole table\.\n$/);
    expect(
      renderVerdict({ allowed: true, reasons: [], rules }, { subject: 'x', sha: 'abcdef0' }).length,
    ).toBeGreaterThan(65_000);
    // A refusal whose failing rule sorts last still shows it in the cut comment.
    const failing = [
      ...rules,
      { rule: "check run 'zz lint'", state: 'fail' as const, reason: 'failed on abcdef0', fix: '' },
    ];
    const refused = renderComment(
      { allowed: false, reasons: ['lint failed'], rules: failing },
      { subject: 'x', sha: 'abcdef0' },
    );
    expect(refused.length).toBeLessThanOrEqual(65_000);
    expect(refused).toContain("| check run 'zz lint' | ❌ fail | failed on abcdef0 |");
  });
});
