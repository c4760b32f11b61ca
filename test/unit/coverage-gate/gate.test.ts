import { planAnnotations } from '../../../actions/coverage-gate/annotations.js';
import { badgeColor, renderBadge } from '../../../actions/coverage-gate/badge.js';
import { commentMarker, upsertStickyComment, type IssueComments } from '../../../actions/coverage-gate/comment.js';
import { evaluateGate, lineRanges, type GateOptions } from '../../../actions/coverage-gate/gate.js';
import { LineHits } from '../../../actions/coverage-gate/lines/line-hits.js';
import {
  addBranches,
  newFile,
  summariseReport,
  type FileCoverage,
  type ParsedReport,
} from '../../../actions/coverage-gate/model.js';
import { parseDecimal } from '../../../actions/coverage-gate/rounding.js';
import { fitComment, renderSummary } from '../../../actions/coverage-gate/summary.js';
import { mergeReports, type CoverageModel } from '../../../actions/coverage-gate/totals.js';

const d = (text: string) => parseDecimal(text)!;

/** A file with `covered` of `total` lines covered (the first ones) and the given branches. */
function file(path: string, covered: number, total: number, branches: [number, number] = [0, 0]): FileCoverage {
  const f = newFile(path);
  for (let l = 1; l <= total; l++) f.lines.set(l, l <= covered ? 1 : 0);
  if (branches[1] > 0) {
    const hits = Array.from({ length: branches[1] }, (_, i) => (i < branches[0] ? 1 : 0));
    addBranches(f, 1, hits);
  }
  return f;
}

function report(name: string, files: FileCoverage[], format: ParsedReport['format'] = 'cobertura'): ParsedReport {
  return { file: name, format, files: new Map(files.map((f) => [f.path, f])) };
}

const options = (over: Partial<GateOptions> = {}): GateOptions => ({
  metric: 'auto',
  threshold: d('90'),
  rounding: 'none',
  precision: 2,
  pathThresholds: [],
  ...over,
});

function model(...reports: ParsedReport[]): CoverageModel {
  return mergeReports(reports, (p) => p);
}

describe('the verdict', () => {
  // The issue's example: lines 1700/1850 and branches 112/164 over a core package and two web apps.
  const reports = [
    report('core/coverage.xml', [
      file('core/models.py', 900, 950, [60, 80]),
      file('core/utils.py', 300, 350, [20, 30]),
    ]),
    report('web/coverage.xml', [file('web/views.py', 300, 330, [20, 34])]),
    report('admin/coverage.xml', [file('admin/views.py', 200, 220, [12, 20])]),
  ];

  test('states the formula and the counts, exactly', () => {
    const result = evaluateGate(
      { model: model(...reports), reports: reports.map(summariseReport), unmatched: [] },
      options(),
    );
    expect(result.verdict).toBe(
      'combined 89.97 % = 1812 / 2014 (lines 1700/1850 + branches 112/164); threshold 90 %, rounding none → fail',
    );
    expect(result.passed).toBe(false);
    expect(result.metric).toBe('combined');
    expect(result.failures[0]).toContain('89.97 %');
  });

  test('line metric and a lower threshold pass', () => {
    const result = evaluateGate(
      { model: model(...reports), reports: reports.map(summariseReport), unmatched: [] },
      options({ metric: 'line', threshold: d('91.5') }),
    );
    expect(result.verdict).toBe('line 91.89 % = 1700 / 1850; threshold 91.5 %, rounding none → pass');
    expect(result.passed).toBe(true);
  });

  test('without branch data the default metric is line; Go profiles default to statements', () => {
    const plain = [report('a.info', [file('a.js', 9, 10)], 'lcov')];
    expect(
      evaluateGate({ model: model(...plain), reports: plain.map(summariseReport), unmatched: [] }, options()).metric,
    ).toBe('line');
    const go = report('c.out', [file('a.go', 1, 2)], 'go');
    go.files.get('a.go')!.statements = new Map([
      ['1', 1],
      ['2', 0],
      ['3', 0],
    ]);
    const result = evaluateGate({ model: model(go), reports: [go].map(summariseReport), unmatched: [] }, options());
    expect(result.metric).toBe('statements');
    expect(result.verdict).toBe('statements 33.33 % = 1 / 3; threshold 90 %, rounding none → fail');
  });

  test('a file in two reports is merged, never double counted or averaged', () => {
    const a = newFile('app/views.py');
    a.lines = new LineHits([
      [1, 1],
      [2, 0],
      [3, 0],
    ]);
    const b = newFile('app/views.py');
    b.lines = new LineHits([
      [1, 0],
      [2, 5],
      [3, 0],
    ]);
    addBranches(a, 3, [1, 0]);
    addBranches(b, 3, [0, 0]);
    const rs = [report('a.xml', [a]), report('b.xml', [b, file('app/other.py', 1, 1)])];
    const result = evaluateGate({ model: model(...rs), reports: rs.map(summariseReport), unmatched: [] }, options());
    expect(result.totals.lines).toEqual({ covered: 3, total: 4 });
    expect(result.totals.branches).toEqual({ covered: 1, total: 2 });
    // Averaging the two reports' percentages (33 % and 50 %) would say 41.67 %.
    expect(result.verdict).toBe(
      'combined 66.66 % = 4 / 6 (lines 3/4 + branches 1/2); threshold 90 %, rounding none → fail',
    );
  });

  test('lines with branches only count in the branch metric', () => {
    const f = newFile('a.js');
    addBranches(f, 7, [1, 0, 0]);
    const rs = [report('lcov.info', [f], 'lcov')];
    const result = evaluateGate(
      { model: model(...rs), reports: rs.map(summariseReport), unmatched: [] },
      options({ metric: 'branch' }),
    );
    expect(result.verdict).toBe('branch 33.33 % = 1 / 3; threshold 90 %, rounding none → fail');
    expect(result.totals.lines).toEqual({ covered: 0, total: 0 });
  });

  test('per-path thresholds, a glob matching nothing, diff coverage and the baseline', () => {
    const rs = [report('c.xml', [file('web/a.py', 8, 10), file('core/b.py', 10, 10), file('core/sub/c.py', 5, 10)])];
    const changed = new Map([
      ['web/a.py', [1, 2, 9, 10, 11]],
      ['core/sub/c.py', [6, 7, 8]],
      ['docs/readme.md', [1]],
    ]);
    const result = evaluateGate(
      {
        model: model(...rs),
        reports: rs.map(summariseReport),
        unmatched: ['elsewhere/x.py'],
        changed: { range: 'origin/main...HEAD', lines: changed },
        baseline: { lines: { covered: 27, total: 30 }, branches: { covered: 0, total: 0 } },
      },
      options({
        threshold: d('75'),
        pathThresholds: [
          { glob: 'core/**', threshold: d('80') },
          { glob: 'web/*.py', threshold: d('80') },
          { glob: 'mobile/**', threshold: d('50') },
        ],
        diffThreshold: d('80'),
        maxDecrease: d('1'),
      }),
    );
    expect(result.measured).toMatchObject({ shown: '76.66', passed: true });
    expect(result.paths.map((p) => [p.glob, p.files, p.measured.shown, p.measured.passed])).toEqual([
      ['core/**', 2, '75.00', false],
      ['web/*.py', 1, '80.00', true],
      ['mobile/**', 0, '100.00', true],
    ]);
    expect(result.diff?.measured.count).toEqual({ covered: 2, total: 7 });
    expect(result.diff?.rows.map((r) => [r.path, r.missingLines])).toEqual([
      ['core/sub/c.py', [6, 7, 8]],
      ['web/a.py', [9, 10]],
    ]);
    expect(result.baseline?.passed).toBe(false);
    expect(result.failures).toEqual([
      expect.stringMatching(/^Coverage of core\/\*\*: line 75\.00 % = 15 \/ 20; threshold 80 % → fail\.$/),
      "Path threshold 'mobile/**' matches no file of the coverage reports.",
      'Coverage of changed lines 28.57 % = 2 / 7; threshold 80 % → fail.',
      expect.stringMatching(/^Coverage dropped by 13\.33 points from the baseline 90\.00 % to 76\.66 %/),
    ]);
    expect(result.passed).toBe(false);

    const summary = renderSummary(result);
    expect(summary).toContain('## ❌ Coverage: 76.66 % line');
    expect(summary).toContain('**line 76.66 % = 23 / 30; threshold 75 %, rounding none → pass**');
    expect(summary).toContain('### Changed lines (origin/main...HEAD)');
    expect(summary).toContain('| core/sub/c.py | 3/3 | 6-8 |'.replace('3/3', '0/3'));
    expect(summary).toContain('| core/** | 2 | 75.00 % (15/20) | 80 % | fail |');
    expect(summary).toContain('Baseline: 90.00 % → 76.66 %');
    expect(summary).toContain('`elsewhere/x.py`');
    // Files sorted by missed lines, most first.
    expect(summary.indexOf('| core/sub/c.py | 5 |')).toBeLessThan(summary.indexOf('| web/a.py | 2 |'));

    const planned = planAnnotations(result, 10);
    expect(planned.annotations.map((a) => [a.file, a.startLine, a.endLine])).toEqual([
      ['core/sub/c.py', 6, 8],
      ['web/a.py', 9, 10],
    ]);
    expect(planned.annotations[0].message).toBe('Lines 6-8 are changed but not covered by tests.');
  });

  test('annotations are capped at GitHub’s 10 per type, biggest gaps first, with the rest counted', () => {
    const f = file('a.py', 0, 60);
    const rs = [report('c.xml', [f])];
    // Every odd line changed, plus 52-56 which joins 51-57 into one run.
    const changed = [...Array.from({ length: 30 }, (_, i) => i * 2 + 1), 52, 53, 54, 55, 56];
    const result = evaluateGate(
      {
        model: model(...rs),
        reports: rs.map(summariseReport),
        unmatched: [],
        changed: { range: 'x', lines: new Map([['a.py', changed]]) },
      },
      options(),
    );
    const planned = planAnnotations(result, 50);
    expect(planned.annotations).toHaveLength(10);
    expect(planned.annotations[0]).toMatchObject({ startLine: 51, endLine: 57 });
    // Runs: 25 single odd lines below 51, 51-57, 59 → 27, of which 10 are shown.
    expect(planned.rest).toBe(17);
    expect(planAnnotations(result, 3).annotations).toHaveLength(3);
  });
});

describe('comment, summary size and badge', () => {
  test('a summary over 65 536 characters is cut at a line with a note, inside the limit', () => {
    const long = Array.from({ length: 5000 }, (_, i) => `| file_${i}.py | 1 | 2 |`).join('\n');
    const body = `## Coverage\n<details><summary>x</summary>\n\n${long}\n</details>\n`;
    const fitted = fitComment(body, '<!-- m -->');
    expect(fitted.length).toBeLessThanOrEqual(65_536);
    expect(fitted.startsWith('<!-- m -->\n## Coverage')).toBe(true);
    expect(fitted).toContain('cut to fit GitHub’s comment size limit');
    expect(fitted).toMatch(/<\/details>\n\n_The report was cut/);
    expect(fitComment('short', '<!-- m -->')).toBe('<!-- m -->\nshort');
  });

  test('the sticky comment is updated in place, created once, and a 403 is an outcome', async () => {
    const comments: { id: number; body: string }[] = [{ id: 1, body: 'someone else' }];
    const client: IssueComments = {
      list: async () => comments,
      create: async (body) => {
        comments.push({ id: comments.length + 1, body });
      },
      update: async (id, body) => {
        comments.find((c) => c.id === id)!.body = body;
      },
    };
    const marker = commentMarker('CI', 'Coverage');
    expect(marker).toBe('<!-- runbook/coverage-gate: CI / Coverage -->');
    expect(await upsertStickyComment(client, marker, 'first')).toEqual({ kind: 'created' });
    expect(await upsertStickyComment(client, marker, 'second')).toEqual({ kind: 'updated' });
    expect(comments).toEqual([
      { id: 1, body: 'someone else' },
      { id: 2, body: `${marker}\nsecond` },
    ]);
    const forbidden = Object.assign(new Error('Resource not accessible by integration'), { status: 403 });
    const denied: IssueComments = { ...client, list: async () => Promise.reject(forbidden) };
    expect(await upsertStickyComment(denied, marker, 'x')).toEqual({
      kind: 'forbidden',
      message: 'Resource not accessible by integration',
    });
    const broken: IssueComments = {
      ...client,
      create: async () => Promise.reject(Object.assign(new Error('boom'), { status: 500 })),
    };
    await expect(upsertStickyComment(broken, commentMarker('CI', 'other'), 'x')).rejects.toThrow('boom');
  });

  test('the badge shows the value and its colour', () => {
    const svg = renderBadge('coverage', '89.97%', badgeColor(89.97, 90, false));
    expect(svg).toContain('>89.97%</text>');
    expect(svg).toContain('fill="#fe7d37"');
    expect(badgeColor(95, 90, true)).toBe('#4c1');
    expect(badgeColor(50, 90, false)).toBe('#e05d44');
    expect(renderBadge('a<b', '1', '#000')).toContain('a&lt;b');
  });

  test('line ranges collapse runs', () => {
    expect(lineRanges([9, 3, 4, 5, 11, 12])).toBe('3-5, 9, 11-12');
    expect(lineRanges([])).toBe('');
  });
});
