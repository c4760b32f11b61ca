import type { ChangedLines } from './diff.js';
import { byMissedThenPath, MAX_FILE_ROWS, type Count, type ReportSummary } from './model.js';
import type { Inputs } from './inputs.js';
import { globToRegExp } from './paths.js';
import { judge, parseDecimal, type Decimal, type Rounding } from './rounding.js';
import {
  checkMetricMeasured,
  defaultMetric,
  describeCount,
  fileTotals,
  hasMisses,
  metricCount,
  modelTotals,
  packageOf,
  sumTotals,
  TotalsSum,
  type CoverageModel,
  type CoverageTotals,
  type Metric,
} from './totals.js';

/** The inputs the verdict depends on; `maxDecrease` only when a baseline was given. */
export type GateOptions = Pick<
  Inputs,
  'metric' | 'threshold' | 'rounding' | 'precision' | 'pathThresholds' | 'diffThreshold'
> & { maxDecrease?: Decimal };

export interface Measured {
  count: Count;
  shown: string;
  passed: boolean;
}

export interface FileRow {
  path: string;
  totals: CoverageTotals;
  measured: Measured;
  missed: number;
  /** Uncovered lines of the rows the summary lists (the first MAX_FILE_ROWS with misses); empty for the rest. */
  missingLines: number[];
}

export interface ChangedFileRow {
  path: string;
  coverable: number;
  covered: number;
  missingLines: number[];
}

export interface GateResult {
  metric: Metric;
  totals: CoverageTotals;
  measured: Measured;
  verdict: string;
  options: GateOptions;
  /**
   * File rows, most missed lines first: every file read with its lines, and of the files folded while being read
   * (see report-files.ts) the ones that sort first, as many as the summary lists. `fileCount` counts them all.
   */
  files: FileRow[];
  fileCount: number;
  /** Files with missed lines or partially covered branches, of `fileCount`. */
  filesWithMisses: number;
  packages: { name: string; totals: CoverageTotals; measured: Measured }[];
  paths: { glob: string; threshold: Decimal; files: number; measured: Measured; description: string }[];
  diff?: { range: string; rows: ChangedFileRow[]; measured: Measured; threshold?: Decimal };
  baseline?: { measured: Measured; shown: string; decrease: number; maxDecrease: Decimal; passed: boolean };
  reports: ReportSummary[];
  /** Report paths not found in the repository: the first ones in order, and how many in all. */
  unmatched: string[];
  unmatchedCount: number;
  failures: string[];
  /** Where the numbers cannot be exact or the reports disagree with themselves: said in the summary. */
  notes: string[];
  passed: boolean;
}

/** Collapses sorted line numbers into ranges: [3,4,5,9] → '3-5, 9'. */
export function lineRanges(lines: number[]): string {
  return lineRuns(lines)
    .map(([start, end]) => (start === end ? `${start}` : `${start}-${end}`))
    .join(', ');
}

/** Runs of consecutive line numbers, in order: [3,4,5,9] → [[3,5],[9,9]]. */
export function lineRuns(lines: number[]): [number, number][] {
  const sorted = [...lines].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i];
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1) i++;
    runs.push([start, sorted[i]]);
  }
  return runs;
}

export function verdictSentence(
  metric: Metric,
  totals: CoverageTotals,
  measured: Measured,
  threshold: Decimal,
  rounding: Rounding,
): string {
  return `${metric} ${measured.shown} % = ${describeCount(totals, metric)}; threshold ${threshold.text} %, rounding ${rounding} → ${measured.passed ? 'pass' : 'fail'}`;
}

export interface GateInput {
  model: CoverageModel;
  reports: ReportSummary[];
  unmatched: string[];
  /** All unmatched paths, when `unmatched` holds only the first of them. */
  unmatchedCount?: number;
  changed?: { range: string; lines: ChangedLines };
  baseline?: CoverageTotals;
}

/** Everything the gate decides, from counts only. Pure: the summary, outputs and exit code are views of it. */
export function evaluateGate(input: GateInput, options: GateOptions): GateResult {
  const { model } = input;
  const totals = modelTotals(model);
  const metric = options.metric === 'auto' ? defaultMetric(totals, input.reports) : options.metric;
  if (options.metric !== 'auto') {
    checkMetricMeasured(
      totals,
      metric,
      input.reports.map((r) => r.format),
    );
  }
  const measure = (count: Count, threshold: Decimal): Measured => ({
    count,
    ...judge(count.covered, count.total, threshold, options.rounding, options.precision),
  });
  const measured = measure(metricCount(totals, metric), options.threshold);
  const failures: string[] = [];
  const verdict = verdictSentence(metric, totals, measured, options.threshold, options.rounding);
  if (!measured.passed) failures.push(`Coverage ${verdict}.`);

  const row = (path: string, t: CoverageTotals, missingLines: number[]): FileRow => ({
    path,
    totals: t,
    measured: measure(metricCount(t, metric), options.threshold),
    missed: t.lines.total - t.lines.covered,
    missingLines,
  });
  const listable = (r: FileRow): boolean => hasMisses(r.totals);
  // Files read with their lines, and summary-only entries: every one has its row and is counted below.
  const own: FileRow[] = [...model.files.entries()].map(([path, file]) => row(path, fileTotals(file), []));
  for (const [path, counts] of model.summaries) own.push(row(path, sumTotals([counts]), []));
  const folded = model.folded;
  const files = [...own, ...(folded?.listed ?? []).map((r) => row(r.path, r.totals, r.missingLines))];
  files.sort(byMissedThenPath);
  // The missing lines of the rows the summary lists (folded files' rows came with theirs).
  let listed = 0;
  for (const r of files) {
    if (listed === MAX_FILE_ROWS) break;
    if (!listable(r)) continue;
    listed++;
    const file = model.files.get(r.path);
    if (file) r.missingLines = file.lines.missing();
  }

  const byPackage = new Map<string, TotalsSum>();
  for (const [name, t] of folded?.packages ?? []) byPackage.set(name, new TotalsSum().add(t));
  for (const r of own) {
    const name = packageOf(r.path);
    let sum = byPackage.get(name);
    if (!sum) byPackage.set(name, (sum = new TotalsSum()));
    sum.add(r.totals);
  }
  const packages = [...byPackage.entries()]
    .map(([name, sum]) => {
      const t = sum.result();
      return { name, totals: t, measured: measure(metricCount(t, metric), options.threshold) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

  const paths = options.pathThresholds.map(({ glob, threshold }) => {
    const pattern = globToRegExp(glob);
    const matching = own.filter((r) => pattern.test(r.path));
    const sum = new TotalsSum();
    for (const r of matching) sum.add(r.totals);
    let count = matching.length;
    const foldedPart = folded?.paths.get(glob);
    if (foldedPart) {
      sum.add(foldedPart.totals);
      count += foldedPart.files;
    }
    const t = sum.result();
    const m = measure(metricCount(t, metric), threshold);
    const description = `${glob}: ${metric} ${m.shown} % = ${describeCount(t, metric)}; threshold ${threshold.text} % → ${m.passed ? 'pass' : 'fail'}`;
    if (count === 0) failures.push(`Path threshold '${glob}' matches no file of the coverage reports.`);
    else if (!m.passed) failures.push(`Coverage of ${description}.`);
    return { glob, threshold, files: count, measured: m, description };
  });

  let diff: GateResult['diff'];
  if (input.changed) {
    const rows: ChangedFileRow[] = [];
    for (const [path, lines] of input.changed.lines) {
      const file = model.files.get(path);
      if (!file) continue;
      const coverable = [...new Set(lines)].filter((l) => file.lines.has(l));
      if (coverable.length === 0) continue;
      const missingLines = coverable.filter((l) => (file.lines.get(l) ?? 0) === 0);
      rows.push({ path, coverable: coverable.length, covered: coverable.length - missingLines.length, missingLines });
    }
    rows.sort((a, b) => b.missingLines.length - a.missingLines.length || a.path.localeCompare(b.path));
    const count = rows.reduce((sum, r) => ({ covered: sum.covered + r.covered, total: sum.total + r.coverable }), {
      covered: 0,
      total: 0,
    });
    const threshold = options.diffThreshold ?? parseDecimal('0')!;
    const m = measure(count, threshold);
    diff = { range: input.changed.range, rows, measured: m, threshold: options.diffThreshold };
    if (options.diffThreshold && count.total > 0 && !m.passed) {
      failures.push(
        `Coverage of changed lines ${m.shown} % = ${count.covered} / ${count.total}; threshold ${options.diffThreshold.text} % → fail.`,
      );
    }
  }

  let baseline: GateResult['baseline'];
  if (input.baseline && options.maxDecrease) {
    const base = measure(metricCount(input.baseline, metric), options.threshold);
    const now = metricCount(totals, metric);
    const ratio = (c: Count): number => (c.total === 0 ? 100 : (100 * c.covered) / c.total);
    const decrease = ratio(base.count) - ratio(now);
    // A float tolerance: both sides come from integer counts, so only representation noise is forgiven.
    const passed = decrease <= Number(options.maxDecrease.text) + 1e-9;
    baseline = { measured: base, shown: base.shown, decrease, maxDecrease: options.maxDecrease, passed };
    if (!passed) {
      failures.push(
        `Coverage dropped by ${decrease.toFixed(options.precision)} points from the baseline ${base.shown} % to ${measured.shown} %; at most ${options.maxDecrease.text} allowed.`,
      );
    }
  }

  return {
    metric,
    totals,
    measured,
    verdict,
    options,
    files,
    fileCount: own.length + (folded?.count ?? 0),
    filesWithMisses: own.filter(listable).length + (folded?.listable ?? 0),
    packages,
    paths,
    diff,
    baseline,
    reports: input.reports.map((r) => ({ ...r })),
    unmatched: input.unmatched,
    unmatchedCount: input.unmatchedCount ?? input.unmatched.length,
    failures,
    notes: [...input.reports.flatMap((r) => r.notes ?? []), ...summaryOverlapNotes(model)],
    passed: failures.length === 0,
  };
}

/** Files in two coverage-summary.json files: only one copy's counts can be kept, so the total is a bound. */
export function summaryOverlapNotes(model: CoverageModel): string[] {
  const overlaps = model.summaryOverlaps;
  if (!overlaps) return [];
  const more = overlaps.count > overlaps.paths.length ? ', …' : '';
  return [
    `${overlaps.count} file(s) are in more than one coverage-summary.json (${overlaps.paths.join(', ')}${more}): summaries cannot be merged line by line, so each keeps the copy with more covered lines and the total may be lower than the real one. Give coverage-final.json (Istanbul's json reporter) to merge exactly.`,
  ];
}
