// `on:` filters and `strategy.matrix` as GitHub's documentation describes them (the filter pattern cheat sheet, the
// include/exclude examples of "Running variations of jobs in a workflow"), checked on the documentation's own cases.
import {
  expandMatrix,
  filterMatches,
  triggeredBy,
  UnsupportedWorkflowError,
  WorkflowError,
} from '../../harness/workflow-triggers.js';

const push = (ref: string, files?: string[]) => ({
  name: 'push',
  payload: {
    ref,
    ...(files ? { commits: [{ added: files.slice(0, 1), modified: files.slice(1), removed: [] }] } : {}),
  },
});
const pr = (base: string, files: string[] = []) => ({
  name: 'pull_request',
  payload: { action: 'opened', pull_request: { base: { ref: base } }, changed_files_list: files },
});

test('the filter pattern cheat sheet', () => {
  expect(filterMatches(['feature/*'], 'feature/my-branch')).toBe(true);
  expect(filterMatches(['feature/*'], 'feature/your/branch')).toBe(false);
  expect(filterMatches(['feature/**'], 'feature/your/branch')).toBe(true);
  expect(filterMatches(['v2*'], 'v2.0')).toBe(true);
  expect(filterMatches(['v[12].[0-9]+.[0-9]+'], 'v1.10.1')).toBe(true);
  expect(filterMatches(['v[12].[0-9]+.[0-9]+'], 'v3.0.0')).toBe(false);
  expect(filterMatches(['**.js'], 'app/index.js')).toBe(true);
  expect(filterMatches(['*.js'], 'app/index.js')).toBe(false);
  expect(filterMatches(['docs/**'], 'docs/a/b.md')).toBe(true);
  // Order matters: the last matching pattern decides.
  expect(filterMatches(['releases/**-alpha', '!releases/**'], 'releases/1-alpha')).toBe(false);
  expect(filterMatches(['!releases/**', 'releases/**-alpha'], 'releases/1-alpha')).toBe(true);
});

test('push: branches-ignore, tags, tags-ignore and which kind of ref a filter admits', () => {
  const doc = (push: object) => ({ on: { push } });
  expect(triggeredBy(doc({ 'branches-ignore': ['wip/**'] }), push('refs/heads/wip/x'))).toBe(false);
  expect(triggeredBy(doc({ 'branches-ignore': ['wip/**'] }), push('refs/heads/staging'))).toBe(true);
  expect(triggeredBy(doc({ tags: ['v*.*.*'] }), push('refs/tags/v1.2.3'))).toBe(true);
  expect(triggeredBy(doc({ tags: ['v*.*.*'] }), push('refs/tags/v1'))).toBe(false);
  expect(triggeredBy(doc({ 'tags-ignore': ['v0*'] }), push('refs/tags/v0.1.0'))).toBe(false);
  // Only tags filtered: a branch push does not run it; only branches filtered: a tag push does not.
  expect(triggeredBy(doc({ tags: ['v*'] }), push('refs/heads/master'))).toBe(false);
  expect(triggeredBy(doc({ branches: ['master'] }), push('refs/tags/v1'))).toBe(false);
  expect(triggeredBy(doc({}), push('refs/tags/v1'))).toBe(true);
  expect(() => triggeredBy(doc({ branches: ['a'], 'branches-ignore': ['b'] }), push('refs/heads/a'))).toThrow(
    WorkflowError,
  );
});

test('paths and paths-ignore read the files of the push commits, or of the pull request', () => {
  const doc = (filter: object) => ({ on: { push: filter, pull_request: filter } });
  const onlyDocs = ['docs/index.md', 'docs/guide/deploy.md'];
  expect(triggeredBy(doc({ paths: ['**.py'] }), push('refs/heads/staging', onlyDocs))).toBe(false);
  expect(triggeredBy(doc({ paths: ['**.py'] }), push('refs/heads/staging', [...onlyDocs, 'shop/views.py']))).toBe(true);
  expect(triggeredBy(doc({ 'paths-ignore': ['docs/**'] }), push('refs/heads/staging', onlyDocs))).toBe(false);
  expect(triggeredBy(doc({ 'paths-ignore': ['docs/**'] }), push('refs/heads/x', ['docs/a.md', 'README.md']))).toBe(
    true,
  );
  expect(triggeredBy(doc({ branches: ['master'], paths: ['shop/**'] }), pr('master', ['shop/models.py']))).toBe(true);
  expect(triggeredBy(doc({ branches: ['master'], paths: ['shop/**'] }), pr('master', ['README.md']))).toBe(false);
  // Path filters are not evaluated for tags.
  expect(triggeredBy(doc({ tags: ['v*'], paths: ['shop/**'] }), push('refs/tags/v1', ['README.md']))).toBe(true);
  // A push that does not list its files cannot be filtered by path: an error, not a guess.
  expect(() => triggeredBy(doc({ paths: ['**.py'] }), push('refs/heads/staging'))).toThrow(/must list its files/);
});

test('a filter the runner does not know is refused by name', () => {
  expect(() => triggeredBy({ on: { push: { branch: ['master'] } } }, push('refs/heads/master'))).toThrow(
    new UnsupportedWorkflowError('on.push.branch is not supported by the local runner yet'),
  );
});

test('a matrix expands as the documentation’s include and exclude examples', () => {
  expect(expandMatrix({ os: ['ubuntu', 'windows'], version: [10, 12] }, 'jobs.t')).toEqual([
    { os: 'ubuntu', version: 10 },
    { os: 'ubuntu', version: 12 },
    { os: 'windows', version: 10 },
    { os: 'windows', version: 12 },
  ]);
  // "Expanding or adding matrix configurations"
  expect(
    expandMatrix(
      {
        fruit: ['apple', 'pear'],
        animal: ['cat', 'dog'],
        include: [
          { color: 'green' },
          { color: 'pink', animal: 'cat' },
          { fruit: 'apple', shape: 'circle' },
          { fruit: 'banana' },
          { fruit: 'banana', animal: 'cat' },
        ],
      },
      'jobs.t',
    ),
  ).toEqual([
    { fruit: 'apple', animal: 'cat', color: 'pink', shape: 'circle' },
    { fruit: 'apple', animal: 'dog', color: 'green', shape: 'circle' },
    { fruit: 'pear', animal: 'cat', color: 'pink' },
    { fruit: 'pear', animal: 'dog', color: 'green' },
    { fruit: 'banana' },
    { fruit: 'banana', animal: 'cat' },
  ]);
  // "Excluding matrix configurations"
  expect(
    expandMatrix(
      {
        os: ['macos', 'windows'],
        version: [12, 14, 16],
        environment: ['staging', 'production'],
        exclude: [
          { os: 'macos', version: 12, environment: 'production' },
          { os: 'windows', version: 16 },
        ],
      },
      'jobs.t',
    ),
  ).toHaveLength(12 - 1 - 2);
  expect(() => expandMatrix({ python: [] }, 'jobs.t.strategy')).toThrow(
    new WorkflowError("jobs.t.strategy: matrix vector 'python' does not contain any values"),
  );
  expect(() => expandMatrix('${{ fromJSON(needs.a.outputs.m) }}', 'jobs.t.strategy')).toThrow(UnsupportedWorkflowError);
});
