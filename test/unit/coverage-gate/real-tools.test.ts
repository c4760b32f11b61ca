import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluateGate } from '../../../actions/coverage-gate/gate.js';
import { readReport } from '../../../actions/coverage-gate/formats/read-report.js';
import { coveragePyDisplay, coveragePyPercent, parseDecimal } from '../../../actions/coverage-gate/rounding.js';
import { mergeReports, metricCount, modelTotals, type CoverageTotals } from '../../../actions/coverage-gate/totals.js';
import type { ParsedReport } from '../../../actions/coverage-gate/model.js';
import {
  JS_FIXTURE,
  PYTHON_FIXTURE,
  ROOT,
  c8,
  copyFixture,
  coveragePy,
  coveragePyTotals,
  removeDir,
  tempDir,
  type CoveragePyTotals,
} from './tools.js';

async function totalsOf(...files: string[]): Promise<{ totals: CoverageTotals; reports: ParsedReport[] }> {
  const reports = await Promise.all(files.map((f) => readReport(f)));
  return { totals: modelTotals(mergeReports(reports, (p) => p)), reports };
}

function expectEqualsCoveragePy(totals: CoverageTotals, expected: CoveragePyTotals): void {
  expect(totals.lines).toEqual({ covered: expected.covered_lines, total: expected.num_statements });
  expect(totals.branches).toEqual({ covered: expected.covered_branches ?? 0, total: expected.num_branches ?? 0 });
  const combined = metricCount(totals, 'combined');
  // The same float coverage.py computes, bit for bit, and the same display.
  expect(coveragePyPercent(combined.covered, combined.total)).toBe(expected.percent_covered);
}

// coverage.py runs synchronously under the test: on a busy machine one run takes longer than jest's default 5 s.
describe('coverage.py reports equal coverage.py totals', () => {
  let dir: string;
  beforeAll(() => {
    dir = copyFixture(PYTHON_FIXTURE);
  });
  afterAll(() => removeDir(dir));

  test.each([
    ['with branch coverage', ['--branch']],
    ['without branch coverage', []],
  ])(
    '%s: XML and JSON',
    async (_name, flags) => {
      const data = `.coverage-${flags.length}`;
      coveragePy(dir, ['run', ...flags, '--source=shop', '-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], data);
      coveragePy(dir, ['xml', '-o', `cov-${flags.length}.xml`], data);
      coveragePy(dir, ['json', '-o', `cov-${flags.length}.json`], data);
      const expected = coveragePyTotals(join(dir, `cov-${flags.length}.json`));
      expect(expected.num_statements).toBeGreaterThan(30);
      if (flags.length > 0) expect(expected.num_branches).toBeGreaterThan(10);
      const fromXml = await totalsOf(join(dir, `cov-${flags.length}.xml`));
      const fromJson = await totalsOf(join(dir, `cov-${flags.length}.json`));
      expect(fromXml.reports[0].format).toBe('cobertura');
      expect(fromJson.reports[0].format).toBe('coveragepy-json');
      expectEqualsCoveragePy(fromXml.totals, expected);
      expectEqualsCoveragePy(fromJson.totals, expected);
      // `coverage report` prints the same rounded total the gate shows with rounding: coveragepy.
      const report = coveragePy(dir, ['report', '--precision=2'], data);
      const total = /^TOTAL.*\s(\d+\.\d+)%$/m.exec(report)?.[1];
      const combined = metricCount(fromXml.totals, 'combined');
      expect(coveragePyDisplay(coveragePyPercent(combined.covered, combined.total), 2)).toBe(total);
    },
    60_000,
  );

  test('two runs as two reports merge like `coverage combine`', async () => {
    coveragePy(dir, ['run', '--branch', '--source=shop', '-m', 'unittest', 'tests.test_pricing'], '.cov-a');
    coveragePy(dir, ['run', '--branch', '--source=shop', '-m', 'unittest', 'tests.test_stock'], '.cov-b');
    for (const run of ['a', 'b']) {
      coveragePy(dir, ['xml', '-o', `${run}.xml`], `.cov-${run}`);
      coveragePy(dir, ['json', '-o', `${run}.json`], `.cov-${run}`);
    }
    coveragePy(dir, ['combine', '--keep', '.cov-a', '.cov-b'], '.cov-all');
    coveragePy(dir, ['json', '-o', 'all.json'], '.cov-all');
    const expected = coveragePyTotals(join(dir, 'all.json'));
    // Both reports list every file of the package: summing them would double count.
    const single = await totalsOf(join(dir, 'a.json'));
    expect(single.totals.lines.total).toBe(expected.num_statements);
    expect(single.totals.lines.covered).toBeLessThan(expected.covered_lines);
    // The JSON reports name each branch by its destination, so they merge exactly.
    expectEqualsCoveragePy((await totalsOf(join(dir, 'a.json'), join(dir, 'b.json'))).totals, expected);
    // Cobertura gives a line's branches only as counts: lines still merge exactly, branches never over-count.
    const fromXml = (await totalsOf(join(dir, 'a.xml'), join(dir, 'b.xml'))).totals;
    expect(fromXml.lines).toEqual({ covered: expected.covered_lines, total: expected.num_statements });
    expect(fromXml.branches.total).toBe(expected.num_branches);
    expect(fromXml.branches.covered).toBeLessThanOrEqual(expected.covered_branches!);
    expect(fromXml.branches.covered).toBeGreaterThan(0);
  }, 60_000);
});

const DJANGO = join(ROOT, 'test/fixtures/django');

describe('coverage.py on the Django fixture', () => {
  // The Django fixture is written by another part of the project; its own tests say whether it works.
  const haveFixture = existsSync(join(DJANGO, 'manage.py'));
  (haveFixture ? test : test.skip).each([['--branch'], ['--no-branch']])(
    'manage.py test %s: the gate equals coverage json totals',
    async (flag) => {
      const dir = copyFixture(DJANGO);
      try {
        const args = flag === '--branch' ? ['--branch'] : [];
        coveragePy(dir, ['run', ...args, '--source=.', 'manage.py', 'test', '--noinput'], '.coverage');
        coveragePy(dir, ['xml', '-o', 'coverage.xml']);
        coveragePy(dir, ['json', '-o', 'coverage.json']);
        const expected = coveragePyTotals(join(dir, 'coverage.json'));
        expectEqualsCoveragePy((await totalsOf(join(dir, 'coverage.xml'))).totals, expected);
        expectEqualsCoveragePy((await totalsOf(join(dir, 'coverage.json'))).totals, expected);
      } finally {
        removeDir(dir);
      }
    },
    120_000,
  );
});

describe('Istanbul reports from c8 equal c8 json-summary totals', () => {
  let reports: string;
  let expected: Record<
    'lines' | 'statements' | 'functions' | 'branches',
    { covered: number; total: number; pct: number }
  >;
  beforeAll(() => {
    reports = tempDir();
    c8(JS_FIXTURE, 'run.mjs', reports);
    expected = JSON.parse(readFileSync(join(reports, 'coverage-summary.json'), 'utf8')).total;
  });
  afterAll(() => removeDir(reports));

  const pick = (t: { covered: number; total: number }) => ({ covered: t.covered, total: t.total });

  test.each([
    ['lcov.info'],
    ['coverage-final.json'],
    ['cobertura-coverage.xml'],
    ['clover.xml'],
    ['coverage-summary.json'],
  ])('%s', async (name) => {
    const { totals } = await totalsOf(join(reports, name));
    expect(expected.lines.total).toBeGreaterThan(20);
    expect(expected.lines.covered).toBeLessThan(expected.lines.total);
    expect(totals.lines).toEqual(pick(expected.lines));
    expect(totals.branches).toEqual(pick(expected.branches));
    if (totals.statements) expect(totals.statements).toEqual(pick(expected.statements));
    if (totals.functions) expect(totals.functions).toEqual(pick(expected.functions));
    // With Istanbul's rounding the percentage is the one its reporters print.
    const result = evaluateGate(
      { model: mergeReports([await readReport(join(reports, name))], (p) => p), reports: [], unmatched: [] },
      { metric: 'line', threshold: parseDecimal('90')!, rounding: 'istanbul', precision: 2, pathThresholds: [] },
    );
    expect(Number(result.measured.shown)).toBe(expected.lines.pct);
  });

  test('coverage-final.json and lcov.info carry statements and functions', async () => {
    expect((await totalsOf(join(reports, 'coverage-final.json'))).totals.statements).toEqual(pick(expected.statements));
    expect((await totalsOf(join(reports, 'coverage-final.json'))).totals.functions).toEqual(pick(expected.functions));
    expect((await totalsOf(join(reports, 'lcov.info'))).totals.functions).toEqual(pick(expected.functions));
  });

  test('the same run as LCOV and Cobertura merged is not double counted', async () => {
    const { totals } = await totalsOf(join(reports, 'lcov.info'), join(reports, 'cobertura-coverage.xml'));
    expect(totals.lines).toEqual(pick(expected.lines));
  });
});
