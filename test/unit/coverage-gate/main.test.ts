import { jest } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultEdges, type AnnotationProperties, type Edges } from '../../../actions/coverage-gate/edges.js';
import type { IssueComments } from '../../../actions/coverage-gate/comment.js';
import { gate, run } from '../../../actions/coverage-gate/main.js';
import { PYTHON_FIXTURE, copyFixture, coveragePy, coveragePyTotals, removeDir } from './tools.js';

interface Recorded {
  outputs: Record<string, string>;
  summary: string;
  log: string[];
  annotations: { level: string; message: string; properties?: AnnotationProperties }[];
  comments: { id: number; body: string }[];
}

function edgesFor(
  workspace: string,
  inputs: Record<string, string>,
  extra: Partial<Edges> = {},
  env: Record<string, string> = {},
) {
  const recorded: Recorded = { outputs: {}, summary: '', log: [], annotations: [], comments: [] };
  const base = defaultEdges();
  const comments: IssueComments = {
    list: async () => recorded.comments,
    create: async (body) => {
      recorded.comments.push({ id: recorded.comments.length + 1, body });
    },
    update: async (id, body) => {
      recorded.comments.find((c) => c.id === id)!.body = body;
    },
  };
  const edges: Edges = {
    ...base,
    runner: {
      input: (name) => (inputs[name] ?? DEFAULTS[name] ?? '').trim(),
      env: { GITHUB_WORKSPACE: workspace, GITHUB_REPOSITORY: 'octo/app', GITHUB_WORKFLOW: 'CI', ...env },
      info: (m) => recorded.log.push(m),
      warning: (message, properties) => recorded.annotations.push({ level: 'warning', message, properties }),
      notice: (message, properties) => recorded.annotations.push({ level: 'notice', message, properties }),
      startGroup: (name) => recorded.log.push(`::group::${name}`),
      endGroup: () => recorded.log.push('::endgroup::'),
      setOutput: (name, value) => {
        recorded.outputs[name] = value;
      },
      appendSummary: async (markdown) => {
        recorded.summary += markdown;
      },
    },
    readEvent: () => undefined,
    comments: () => comments,
    ...extra,
  };
  return { edges, recorded };
}

// The action.yml defaults, as the runner would pass them.
const DEFAULTS: Record<string, string> = {
  'working-directory': '.',
  reports: 'coverage.xml',
  format: 'auto',
  metric: 'auto',
  threshold: '90',
  rounding: 'none',
  precision: '2',
  annotate: 'true',
  'max-annotations': '10',
  comment: 'false',
  'comment-title': 'Coverage',
  'fail-on-error': 'true',
};

let workspace: string;
let expected: ReturnType<typeof coveragePyTotals>;
beforeAll(() => {
  // A repository whose tests ran under coverage.py: the seeds' `coverage run` then `coverage xml`.
  workspace = copyFixture(PYTHON_FIXTURE);
  coveragePy(workspace, ['run', '--branch', '--source=shop', '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.']);
  coveragePy(workspace, ['xml', '-o', 'coverage.xml']);
  coveragePy(workspace, ['json', '-o', 'coverage.json']);
  expected = coveragePyTotals(join(workspace, 'coverage.json'));
});
afterAll(() => removeDir(workspace));

const combined = () => ({
  covered: expected.covered_lines + expected.covered_branches!,
  total: expected.num_statements + expected.num_branches!,
});

test('a passing gate sets the outputs from the counts, writes the summary and the badge', async () => {
  const { edges, recorded } = edgesFor(workspace, {
    threshold: '50',
    'badge-path': 'badges/coverage.svg',
    reports: 'coverage.xml\ncoverage.json',
  });
  const result = await gate(edges);
  const c = combined();
  expect(result.passed).toBe(true);
  expect(recorded.outputs).toMatchObject({
    covered: String(c.covered),
    total: String(c.total),
    metric: 'combined',
    passed: 'true',
    'diff-coverage': '',
  });
  expect(recorded.outputs.coverage).toBe((Math.floor((10000 * c.covered) / c.total) / 100).toFixed(2));
  expect(JSON.parse(recorded.outputs['report-json'])).toMatchObject({
    lines: { covered: expected.covered_lines, total: expected.num_statements },
    branches: { covered: expected.covered_branches, total: expected.num_branches },
    passed: true,
  });
  expect(recorded.summary).toContain(
    `combined ${recorded.outputs.coverage} % = ${c.covered} / ${c.total} (lines ${expected.covered_lines}/${expected.num_statements} + branches ${expected.covered_branches}/${expected.num_branches}); threshold 50 %, rounding none → pass`,
  );
  expect(recorded.summary).toContain('| shop/stock.py |');
  expect(readFileSync(join(workspace, 'badges/coverage.svg'), 'utf8')).toContain(`${recorded.outputs.coverage}%`);
  expect(recorded.annotations.filter((a) => a.level === 'warning')).toEqual([]);
});

test('below the threshold the step fails with the verdict, after writing the summary', async () => {
  const { edges, recorded } = edgesFor(workspace, { threshold: '95', rounding: 'coveragepy' });
  await expect(gate(edges)).rejects.toThrow(
    /^Coverage combined \d+\.\d\d % = \d+ \/ \d+ .*threshold 95 %, rounding coveragepy → fail\.$/,
  );
  expect(recorded.outputs.passed).toBe('false');
  expect(recorded.summary).toContain('## ❌ Coverage');

  // run() turns it into one ::error:: and exit code 1, without a stack.
  const exitCode = process.exitCode;
  const writes: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    writes.push(String(chunk));
    return true;
  });
  try {
    await run(edges);
    expect(process.exitCode).toBe(1);
  } finally {
    spy.mockRestore();
    process.exitCode = exitCode;
  }
  expect(writes.join('')).toMatch(/::error::Coverage combined .* → fail\./);
  expect(writes.join('')).not.toMatch(/at .*\.ts:\d+/);
});

test('with fail-on-error false a failing gate only warns', async () => {
  const { edges, recorded } = edgesFor(workspace, { threshold: '95', 'fail-on-error': 'false' });
  const result = await gate(edges);
  expect(result.passed).toBe(false);
  expect(recorded.annotations.at(-1)?.message).toMatch(/fail-on-error is false, so the step passes/);
});

test('the command runs first, grouped; its failure fails the step before coverage is read', async () => {
  const ok = edgesFor(workspace, { command: 'echo tests ran > ran.txt', threshold: '10' });
  await gate(ok.edges);
  expect(existsSync(join(workspace, 'ran.txt'))).toBe(true);
  expect(ok.recorded.log.slice(0, 2)).toEqual(['::group::Running echo tests ran > ran.txt', '::endgroup::']);

  const failing = edgesFor(workspace, { command: 'exit 3', reports: 'never-written.xml' });
  await expect(gate(failing.edges)).rejects.toThrow('The test command exited with code 3; coverage was not read.');
  expect(failing.recorded.outputs).toEqual({});
});

test.each([
  [{ reports: 'missing.xml' }, `Input 'reports': no such file 'missing.xml' (looked in`],
  [{ reports: 'out/**/*.xml' }, `Input 'reports': 'out/**/*.xml' matches no file in`],
  [
    { threshold: '0.9' },
    "Input 'threshold' is a percentage from 0 to 100; '0.9' looks like a ratio (write 90 for 90 %).",
  ],
  [{ threshold: '120' }, "Input 'threshold' must be a percentage from 0 to 100 such as 90 or 87.5; got '120'."],
  [
    { metric: 'lines' },
    "Input 'metric' must be one of auto, line, branch, combined, statements, functions; got 'lines'.",
  ],
  [{ rounding: 'up' }, "Input 'rounding' must be one of none, coveragepy, istanbul, floor; got 'up'."],
  [{ 'path-thresholds': 'web/**' }, "Input 'path-thresholds' takes one 'glob: percent' per line"],
  [{ 'max-decrease': 'lots', baseline: 'coverage.xml' }, "Input 'max-decrease' must be percentage points"],
  [{ reports: '' }, "Input 'reports' is required"],
  [
    { 'diff-base': '--output=/tmp/x' },
    "Input 'diff-base' takes a branch, remote branch or commit such as origin/main or a sha; got '--output=/tmp/x'.",
  ],
  [{ 'diff-base': 'main..evil' }, "Input 'diff-base' takes a branch"],
  [{ reports: 'shop/pricing.py' }, "Report 'shop/pricing.py': unknown format"],
  [
    { reports: 'coverage.xml', format: 'lcov' },
    "Report 'coverage.xml' line 1: malformed LCOV: unknown record '<?xml version=\"1.0\" ?>'",
  ],
])('bad input %o is one clear error', async (inputs, message) => {
  const { edges, recorded } = edgesFor(workspace, inputs);
  await expect(gate(edges)).rejects.toThrow(message);
  expect(recorded.outputs).toEqual({});
});

test('a report listing no files is an error, not 100 %', async () => {
  writeFileSync(join(workspace, 'empty.xml'), '<?xml version="1.0"?>\n<coverage><packages/></coverage>\n');
  const { edges } = edgesFor(workspace, { reports: 'empty.xml' });
  await expect(gate(edges)).rejects.toThrow("Report 'empty.xml': lists no source files");
});

test('a pull request: changed lines, annotations, sticky comment, and a fork’s read-only token', async () => {
  const event = { pull_request: { number: 7, base: { ref: 'main' } } };
  const diff = `+++ b/shop/stock.py\n@@ -9,0 +10,1 @@\n+x\n@@ -22,0 +23,4 @@\n+a\n+b\n+c\n+d\n+++ b/shop/pricing.py\n@@ -1,0 +3,1 @@\n+x\n`;
  const calls: string[][] = [];
  const git: Edges['git'] = async (args) => {
    calls.push(args);
    if (args[0] === 'diff') return { code: 0, stdout: diff, stderr: '' };
    if (args[0] === 'rev-parse' && args[1] === '--is-shallow-repository')
      return { code: 0, stdout: 'false\n', stderr: '' };
    return { code: 0, stdout: '', stderr: '' };
  };
  const { edges, recorded } = edgesFor(
    workspace,
    { threshold: '50', 'diff-threshold': '60', comment: 'true', 'github-token': 'ghs_x' },
    { git, readEvent: () => event },
  );
  // Changed and measured: pricing.py 3 (covered), stock.py 10 and 23-26 (not covered).
  await expect(gate(edges)).rejects.toThrow('Coverage of changed lines 16.66 % = 1 / 6; threshold 60 % → fail.');
  expect(calls.at(-1)).toEqual([
    'diff',
    '--unified=0',
    '--no-color',
    '--no-ext-diff',
    '--diff-filter=AMRC',
    '-M',
    'origin/main...HEAD',
  ]);
  expect(recorded.outputs['diff-coverage']).toBe('16.66');
  expect(recorded.annotations.filter((a) => a.level === 'warning')).toEqual([
    {
      level: 'warning',
      message: 'Lines 23-26 are changed but not covered by tests.',
      properties: { title: 'Uncovered change', file: 'shop/stock.py', startLine: 23, endLine: 26 },
    },
    {
      level: 'warning',
      message: 'Line 10 is changed but not covered by tests.',
      properties: { title: 'Uncovered change', file: 'shop/stock.py', startLine: 10, endLine: 10 },
    },
  ]);
  expect(recorded.comments).toHaveLength(1);
  expect(recorded.comments[0].body).toMatch(/^<!-- runbook\/coverage-gate: CI \/ Coverage -->\n## ❌ Coverage/);
  expect(recorded.comments[0].body).toContain('| shop/stock.py | 0/5 | 10, 23-26 |');

  // Run again: the same comment is updated, not duplicated.
  await expect(gate(edges)).rejects.toThrow();
  expect(recorded.comments).toHaveLength(1);

  const forbidden = Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
  const fork = edgesFor(
    workspace,
    { threshold: '50', comment: 'true', 'github-token': 'ghs_x' },
    {
      git,
      readEvent: () => event,
      comments: () => ({ list: async () => Promise.reject(forbidden), create: async () => {}, update: async () => {} }),
    },
  );
  await gate(fork.edges);
  expect(fork.recorded.annotations.find((a) => a.level === 'notice')?.message).toMatch(
    /may not comment on pull request #7 \(Resource not accessible by integration\); pull requests from forks get a read-only token/,
  );
});

test('no diff without a base; a git failure only warns unless diff-threshold needs it', async () => {
  const plain = edgesFor(workspace, { threshold: '50', 'diff-threshold': '80' });
  await gate(plain.edges);
  expect(plain.recorded.annotations[0].message).toMatch(/applies to pull requests/);

  const broken: Edges['git'] = async () => ({ code: 128, stdout: '', stderr: 'fatal: not a git repository' });
  const warned = edgesFor(workspace, { threshold: '50', 'diff-base': 'origin/main' }, { git: broken });
  await gate(warned.edges);
  expect(warned.recorded.annotations[0].message).toMatch(
    /No changed-line coverage: cannot find or fetch the diff base 'origin\/main': fatal: not a git repository/,
  );
  const needed = edgesFor(
    workspace,
    { threshold: '50', 'diff-base': 'origin/main', 'diff-threshold': '80' },
    { git: broken },
  );
  await expect(gate(needed.edges)).rejects.toThrow(/Changed-line coverage needs the diff/);
});

test('baseline, per-path thresholds, unmatched paths and the working directory', async () => {
  mkdirSync(join(workspace, 'old'), { recursive: true });
  // A baseline where everything was covered: any drop beyond max-decrease fails.
  writeFileSync(
    join(workspace, 'old/lcov.info'),
    'SF:shop/pricing.py\nDA:1,1\nDA:2,1\nend_of_record\nSF:/elsewhere/vendor.py\nDA:1,1\nend_of_record\n',
  );
  const { edges, recorded } = edgesFor(workspace, {
    threshold: '10',
    metric: 'line',
    baseline: 'old/lcov.info',
    'max-decrease': '5',
    'path-thresholds': 'shop/pricing.py: 50\nshop/stock.py = 99',
  });
  await expect(gate(edges)).rejects.toThrow(
    /Coverage of shop\/stock\.py: line .* threshold 99 % → fail\. Coverage dropped by/,
  );
  expect(recorded.summary).toContain('### Path thresholds');
  expect(recorded.summary).toContain('Baseline: 100.00 %');
  expect(recorded.annotations.some((a) => /not in the repository/.test(a.message))).toBe(false);

  const sub = edgesFor(workspace, {
    'working-directory': 'shop',
    reports: '../coverage.xml',
    threshold: '10',
    'source-roots': '..',
  });
  await gate(sub.edges);
  expect(sub.recorded.summary).toContain('| shop/stock.py |');

  writeFileSync(join(workspace, 'foreign.info'), 'SF:/opt/build/lib/thing.js\nDA:1,1\nend_of_record\n');
  const foreign = edgesFor(workspace, { reports: 'foreign.info', threshold: '10' });
  await gate(foreign.edges);
  expect(foreign.recorded.annotations[0].message).toMatch(
    /1 file\(s\) named in the reports are not in the repository.*\/opt\/build\/lib\/thing\.js/,
  );
});
