// End to end: the built dist/coverage-gate bundle run by the runner harness on a repository whose tests run under
// coverage.py (python3-coverage), as the seeds do before a release; on a pull request from a shallow checkout it
// fetches the base, computes changed-line coverage and keeps one comment on a GitHub API stand-in validated
// against @octokit/openapi.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runAction, type ActionRunOptions } from '../harness/index.js';
import { GitHistory } from '../stand-ins/git-history.js';
import { GitHubApiStandIn } from '../stand-ins/github-api.js';
import { preloadOpenApi } from '../stand-ins/github-openapi.js';

const ROOT = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/coverage-gate/python');
const DJANGO = join(ROOT, 'test/fixtures/django');
const PY = '/usr/bin/python3 -m coverage';
const TEST_COMMAND = `${PY} run --branch --source=shop -m unittest discover -s tests -t . && ${PY} xml -o coverage.xml && ${PY} json -o coverage.json`;
const TOKEN = 'ghs_coverageGateE2eToken0123456789';

const sh = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'CI',
      GIT_AUTHOR_EMAIL: 'ci@example.com',
      GIT_COMMITTER_NAME: 'CI',
      GIT_COMMITTER_EMAIL: 'ci@example.com',
    },
  });

let dir: string;
let origin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'coverage-gate-e2e-'));
  origin = join(dir, 'origin');
  cpSync(FIXTURE, origin, { recursive: true });
  sh(origin, 'init', '-q', '-b', 'main');
  sh(origin, 'add', '.');
  sh(origin, 'commit', '-q', '-m', 'shop');
  for (let i = 0; i < 3; i++) {
    writeFileSync(join(origin, `NOTES-${i}.md`), `${i}\n`);
    sh(origin, 'add', '.');
    sh(origin, 'commit', '-q', '-m', `main moves on ${i}`);
  }
  // The pull request adds a method no test calls.
  sh(origin, 'checkout', '-q', '-b', 'feature', 'HEAD~3');
  const stock = join(origin, 'shop/stock.py');
  writeFileSync(
    stock,
    `${readFileSync(stock, 'utf8')}\n    def clear(self):\n        self.items.clear()\n        return True\n`,
  );
  sh(origin, 'commit', '-q', '-am', 'Stock.clear');
  sh(origin, 'checkout', '-q', 'main');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh checkout as actions/checkout makes it: depth 1 of one branch. */
function checkout(branch: string): string {
  const workspace = mkdtempSync(join(dir, 'ws-'));
  sh(dir, 'clone', '-q', '--depth=1', '--branch', branch, `file://${origin}`, workspace);
  return workspace;
}

function gate(workspace: string, inputs: Record<string, string>, extra: Partial<ActionRunOptions> = {}) {
  return runAction({
    action: 'coverage-gate',
    inputs,
    github: { workspace, ...extra.github },
    timeoutMs: 90_000,
    ...extra,
  });
}

test('passes above the threshold with outputs equal to coverage.py’s totals', async () => {
  const workspace = checkout('main');
  const result = await gate(workspace, {
    command: TEST_COMMAND,
    reports: 'coverage.xml',
    threshold: '60',
    'badge-path': 'coverage.svg',
  });
  expect(result.exitCode).toBe(0);
  const totals = JSON.parse(readFileSync(join(workspace, 'coverage.json'), 'utf8')).totals;
  const covered = totals.covered_lines + totals.covered_branches;
  const total = totals.num_statements + totals.num_branches;
  expect(result.outputs).toMatchObject({
    covered: String(covered),
    total: String(total),
    metric: 'combined',
    passed: 'true',
    'diff-coverage': '',
  });
  expect(Number(result.outputs.coverage)).toBeCloseTo(totals.percent_covered, 1);
  expect(JSON.parse(result.outputs['report-json'])).toMatchObject({
    lines: { covered: totals.covered_lines, total: totals.num_statements },
  });
  expect(result.summary).toContain(
    `combined ${result.outputs.coverage} % = ${covered} / ${total} (lines ${totals.covered_lines}/${totals.num_statements} + branches ${totals.covered_branches}/${totals.num_branches}); threshold 60 %, rounding none → pass`,
  );
  expect(result.log).toContain('::group::Running');
  expect(result.annotations.filter((a) => a.level === 'error' || a.level === 'warning')).toEqual([]);
  expect(readFileSync(join(workspace, 'coverage.svg'), 'utf8')).toContain(`${result.outputs.coverage}%`);
}, 120_000);

test('fails below the threshold with the verdict in the error and the summary', async () => {
  const workspace = checkout('main');
  const result = await gate(workspace, {
    command: TEST_COMMAND,
    reports: 'coverage.xml\ncoverage.json',
    threshold: '90',
    rounding: 'coveragepy',
  });
  expect(result.exitCode).toBe(1);
  const errors = result.annotations.filter((a) => a.level === 'error');
  expect(errors).toHaveLength(1);
  expect(errors[0].message).toMatch(
    /^Coverage combined \d+\.\d\d % = \d+ \/ \d+ \(lines \d+\/\d+ \+ branches \d+\/\d+\); threshold 90 %, rounding coveragepy → fail\.$/,
  );
  expect(result.outputs.passed).toBe('false');
  expect(result.summary).toContain('## ❌ Coverage');
  expect(result.summary).toContain('| shop/stock.py |');
  expect(result.log).not.toMatch(/\n\s+at .*\.js:\d+/);
}, 120_000);

test('a failing test command fails the step before coverage is read', async () => {
  const workspace = checkout('main');
  const result = await gate(workspace, {
    command: `${PY} run -m unittest tests.test_missing_module`,
    reports: 'coverage.xml',
  });
  expect(result.exitCode).toBe(1);
  expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
    'The test command exited with code 1; coverage was not read.',
  ]);
  expect(result.outputs).toEqual({});
}, 60_000);

test.each([
  [{ reports: 'build/**/coverage.xml' }, `Input 'reports': 'build/**/coverage.xml' matches no file in`],
  [
    { threshold: '0.9' },
    "Input 'threshold' is a percentage from 0 to 100; '0.9' looks like a ratio (write 90 for 90 %).",
  ],
  [{ reports: 'shop/pricing.py' }, "Report 'shop/pricing.py': unknown format"],
])(
  'bad input %o: one clear error, nothing written',
  async (inputs, message) => {
    const workspace = checkout('main');
    writeFileSync(join(workspace, 'coverage.xml'), '<?xml version="1.0"?>\n<coverage>\n<packages>\n</package>\n');
    const result = await gate(workspace, { ...inputs });
    expect(result.exitCode).toBe(1);
    const errors = result.annotations.filter((a) => a.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toContain(message);
    expect(result.outputs).toEqual({});
    expect(result.summary).toBe('');
  },
  60_000,
);

test('malformed XML names the file and the line', async () => {
  const workspace = checkout('main');
  writeFileSync(join(workspace, 'coverage.xml'), '<?xml version="1.0"?>\n<coverage>\n<packages>\n</package>\n');
  const result = await gate(workspace, {});
  expect(result.exitCode).toBe(1);
  expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
    "Report 'coverage.xml' line 4: malformed XML: expected </packages> but found </package>",
  ]);
}, 60_000);

test('the seeds’ layout: a core package and two Django apps, three reports combined by counts', async () => {
  // core/ is a plain package, web/ and admin/ are the Django fixture project: the same app names in two folders.
  const workspace = mkdtempSync(join(dir, 'seeds-'));
  cpSync(FIXTURE, join(workspace, 'core'), { recursive: true });
  cpSync(DJANGO, join(workspace, 'web'), { recursive: true });
  cpSync(DJANGO, join(workspace, 'admin'), { recursive: true });
  const run = (folder: string, test: string) =>
    `(cd ${folder} && ${PY} run --branch ${test} && ${PY} xml -o ../reports/${folder}.xml && ${PY} json -o ../reports/${folder}.json)`;
  const command = [
    'mkdir -p reports',
    run('core', '--source=shop -m unittest discover -s tests -t .'),
    run('web', 'manage.py test --noinput'),
    run('admin', 'manage.py test --noinput orders'),
  ].join(' && ');
  const result = await gate(workspace, { command, reports: 'reports/*.xml', threshold: '50' }, { timeoutMs: 240_000 });
  expect(result.exitCode).toBe(0);
  const parts = ['core', 'web', 'admin'].map(
    (f) => JSON.parse(readFileSync(join(workspace, `reports/${f}.json`), 'utf8')).totals,
  );
  const sum = (key: string) => parts.reduce((total, t) => total + t[key], 0);
  expect(parts[2].covered_lines).toBeLessThan(parts[1].covered_lines);
  const lines = `${sum('covered_lines')}/${sum('num_statements')}`;
  const branches = `${sum('covered_branches')}/${sum('num_branches')}`;
  expect(result.summary).toContain(
    `= ${sum('covered_lines') + sum('covered_branches')} / ${sum('num_statements') + sum('num_branches')} (lines ${lines} + branches ${branches})`,
  );
  // Each report's relative paths were mapped to the repository through its <source>: none is left unmatched.
  expect(result.annotations.filter((a) => a.level === 'warning')).toEqual([]);
  expect(result.summary).toContain('| core/shop/stock.py |');
  expect(result.summary).toMatch(/\| admin\/pizzas\/[a-z_]+\.py \|/);
  expect(result.summary).toMatch(/\| web\/orders \|/);
}, 300_000);

describe('a pull request from a shallow checkout', () => {
  let api: GitHubApiStandIn;
  let history: GitHistory;
  beforeAll(() => preloadOpenApi(), 60_000);
  beforeEach(async () => {
    history = GitHistory.create();
    api = await GitHubApiStandIn.start({ owner: 'ocpizza', repo: 'shop', git: history, token: TOKEN });
    api.addPull({ number: 7, headRef: 'feature', headSha: history.resolve('master'), baseRef: 'master' });
  });
  afterEach(async () => {
    await api.stop();
    history.remove();
    api.assertValid();
  });

  const pr = (workspace: string, inputs: Record<string, string>) =>
    gate(
      workspace,
      { command: TEST_COMMAND, threshold: '60', comment: 'true', ...inputs },
      {
        event: {
          name: 'pull_request',
          payload: { pull_request: { number: 7, base: { ref: 'main' }, head: { ref: 'feature' } } },
        },
        github: {
          workspace,
          repository: 'ocpizza/shop',
          apiUrl: api.url,
          token: TOKEN,
          baseRef: 'main',
          headRef: 'feature',
          workflow: 'CI',
        },
        secrets: [TOKEN],
      },
    );

  test('changed-line coverage, annotations on the new lines, one comment updated in place', async () => {
    const workspace = checkout('feature');
    const first = await pr(workspace, { 'diff-threshold': '80' });
    expect(first.exitCode).toBe(1);
    // The def line runs when the class is defined; its body never does.
    expect(first.outputs['diff-coverage']).toBe('33.33');
    expect(first.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
      'Coverage of changed lines 33.33 % = 1 / 3; threshold 80 % → fail.',
    ]);
    const warnings = first.annotations.filter((a) => a.level === 'warning');
    expect(warnings.map((a) => [a.message, a.properties.file, a.properties.line, a.properties.endLine])).toEqual([
      ['Lines 29-30 are changed but not covered by tests.', 'shop/stock.py', '29', '30'],
    ]);
    expect(first.summary).toContain('### Changed lines (origin/main...HEAD)');
    const comments = api.commentsOn(7);
    expect(comments).toHaveLength(1);
    expect(comments[0].body).toMatch(/^<!-- runbook\/coverage-gate: CI \/ Coverage -->\n## ❌ Coverage/);
    expect(comments[0].body).toContain('| shop/stock.py | 1/3 | 29-30 |');

    const second = await pr(workspace, { 'diff-threshold': '0' });
    expect(second.exitCode).toBe(0);
    expect(api.commentsOn(7)).toHaveLength(1);
    expect(api.commentsOn(7)[0].body).toContain('## ✅ Coverage');
  }, 180_000);

  test('a fork’s read-only token degrades the comment to a notice', async () => {
    api.deny('pull-requests:write');
    const workspace = checkout('feature');
    const result = await pr(workspace, {});
    expect(result.exitCode).toBe(0);
    expect(api.commentsOn(7)).toEqual([]);
    expect(result.annotations.filter((a) => a.level === 'notice').map((a) => a.message)).toEqual([
      expect.stringMatching(
        /may not comment on pull request #7 .*pull requests from forks get a read-only token\. The report is in the job summary\./,
      ),
    ]);
    expect(result.summary).toContain('## ✅ Coverage');
  }, 120_000);
});

describe('output paths stay in the workspace', () => {
  const REPORT = 'TN:\nSF:shop/pricing.py\nDA:1,1\nDA:2,1\nend_of_record\n';
  let outside: string;
  beforeEach(() => {
    outside = mkdtempSync(join(dir, 'outside-'));
  });

  test.each([['../coverage.svg'], ['badges/../../coverage.svg']])(
    'badge-path %s is refused before the tests run, and nothing is written',
    async (badge) => {
      const workspace = mkdtempSync(join(outside, 'ws-'));
      writeFileSync(join(workspace, 'lcov.info'), REPORT);
      const result = await gate(workspace, { command: 'touch ran', reports: 'lcov.info', 'badge-path': badge });
      expect(result.exitCode).toBe(1);
      expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
        `Input 'badge-path' must be a file path inside the workspace (or an absolute path to write elsewhere on purpose); '${badge}' is outside it.`,
      ]);
      expect(readdirSync(outside).sort()).toEqual([basename(workspace)]);
      expect(readdirSync(workspace)).toEqual(['lcov.info']);
    },
    60_000,
  );

  test('a symbolic link in the checkout does not carry the badge out', async () => {
    const workspace = mkdtempSync(join(dir, 'ws-'));
    writeFileSync(join(workspace, 'lcov.info'), REPORT);
    symlinkSync(outside, join(workspace, 'badges'));
    symlinkSync(join(outside, 'profile'), join(workspace, 'coverage.svg'));
    for (const badge of ['badges/coverage.svg', 'coverage.svg']) {
      const result = await gate(workspace, { reports: 'lcov.info', 'badge-path': badge });
      expect(result.exitCode).toBe(1);
      expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
        `Input 'badge-path': '${badge}' leads outside the workspace through a symbolic link; refusing to write it.`,
      ]);
    }
    expect(readdirSync(outside)).toEqual([]);
  }, 60_000);

  test('an absolute path elsewhere is written: that is a choice', async () => {
    const workspace = mkdtempSync(join(dir, 'ws-'));
    writeFileSync(join(workspace, 'lcov.info'), REPORT);
    const result = await gate(workspace, { reports: 'lcov.info', 'badge-path': join(outside, 'badge.svg') });
    expect(result.exitCode).toBe(0);
    expect(readFileSync(join(outside, 'badge.svg'), 'utf8')).toContain('100.00%');
  }, 60_000);
});

test('two coverage-summary.json files of one file: a warning that names coverage-final.json', async () => {
  const workspace = mkdtempSync(join(dir, 'ws-'));
  const summary = (covered: number) =>
    JSON.stringify({
      total: { lines: { total: 10, covered, skipped: 0, pct: covered * 10 } },
      'src/cart.js': { lines: { total: 10, covered, skipped: 0, pct: covered * 10 } },
    });
  mkdirSync(join(workspace, 'src'));
  writeFileSync(join(workspace, 'src/cart.js'), 'module.exports = {};\n');
  writeFileSync(join(workspace, 'unit-summary.json'), summary(6));
  writeFileSync(join(workspace, 'e2e-summary.json'), summary(7));
  const result = await gate(workspace, { reports: 'unit-summary.json, e2e-summary.json', threshold: '50' });
  expect(result.exitCode).toBe(0);
  const warnings = result.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/more than one coverage-summary\.json \(src\/cart\.js\).*Give coverage-final\.json/);
  expect(result.summary).toContain('Give coverage-final.json');
}, 60_000);

test('an 8 MB LCOV line is one clear error, quoting none of it', async () => {
  const workspace = mkdtempSync(join(dir, 'ws-'));
  writeFileSync(join(workspace, 'lcov.info'), `TN:\nSF:${'a/'.repeat(4 << 20)}x.py\nDA:1,1\nend_of_record\n`);
  const result = await gate(workspace, { reports: 'lcov.info' });
  expect(result.exitCode).toBe(1);
  expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
    "Report 'lcov.info': line 2 is longer than 1 MiB",
  ]);
}, 60_000);

test('metric: functions on coverage.py Cobertura is refused instead of passing at 0 of 0', async () => {
  const workspace = checkout('main');
  const result = await gate(workspace, { command: TEST_COMMAND, reports: 'coverage.xml', metric: 'functions' });
  expect(result.exitCode).toBe(1);
  expect(result.annotations.filter((a) => a.level === 'error').map((a) => a.message)).toEqual([
    "Input 'metric' is functions, but the reports (cobertura) measure no functions; they have: line, branch, combined. Set 'metric' to one of those (or auto).",
  ]);
  expect(result.outputs).toEqual({});
}, 120_000);
