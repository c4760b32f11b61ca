import { posix } from 'node:path';
import type { ChangedLines } from './diff.js';
import type { Count, ParsedReport } from './model.js';
import { globToRegExp } from './paths.js';
import { judge, parseDecimal, type Decimal, type Rounding } from './rounding.js';
import {
  defaultMetric,
  describeCount,
  fileTotals,
  metricCount,
  modelTotals,
  sumTotals,
  type CoverageModel,
  type CoverageTotals,
  type Metric,
} from './totals.js';

export interface PathThreshold {
  glob: string;
  threshold: Decimal;
}

export interface GateOptions {
  metric: Metric | 'auto';
  threshold: Decimal;
  rounding: Rounding;
  precision: number;
  pathThresholds: PathThreshold[];
  diffThreshold?: Decimal;
  maxDecrease?: Decimal;
}

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
  files: FileRow[];
  packages: { name: string; totals: CoverageTotals; measured: Measured }[];
  paths: { glob: string; threshold: Decimal; files: number; measured: Measured; description: string }[];
  diff?: { range: string; rows: ChangedFileRow[]; measured: Measured; threshold?: Decimal };
  baseline?: { measured: Measured; shown: string; decrease: number; maxDecrease: Decimal; passed: boolean };
  reports: { file: string; format: string; files: number }[];
  unmatched: string[];
  failures: string[];
  passed: boolean;
}

const METRIC_WORDS: Record<Metric, string> = {
  line: 'line',
  branch: 'branch',
  combined: 'combined',
  statements: 'statements',
  functions: 'functions',
};

/** Collapses sorted line numbers into ranges: [3,4,5,9] → '3-5, 9'. */
export function lineRanges(lines: number[]): string {
  const sorted = [...lines].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i];
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1) i++;
    parts.push(start === sorted[i] ? `${start}` : `${start}-${sorted[i]}`);
  }
  return parts.join(', ');
}

export function verdictSentence(
  metric: Metric,
  totals: CoverageTotals,
  measured: Measured,
  threshold: Decimal,
  rounding: Rounding,
): string {
  return `${METRIC_WORDS[metric]} ${measured.shown} % = ${describeCount(totals, metric)}; threshold ${threshold.text} %, rounding ${rounding} → ${measured.passed ? 'pass' : 'fail'}`;
}

export interface GateInput {
  model: CoverageModel;
  reports: ParsedReport[];
  unmatched: string[];
  changed?: { range: string; lines: ChangedLines };
  baseline?: CoverageTotals;
}

/** Everything the gate decides, from counts only. Pure: the summary, outputs and exit code are views of it. */
export function evaluateGate(input: GateInput, options: GateOptions): GateResult {
  const { model } = input;
  const totals = modelTotals(model);
  const metric = options.metric === 'auto' ? defaultMetric(totals, input.reports) : options.metric;
  const measure = (count: Count, threshold: Decimal): Measured => ({
    count,
    ...judge(count.covered, count.total, threshold, options.rounding, options.precision),
  });
  const measured = measure(metricCount(totals, metric), options.threshold);
  const failures: string[] = [];
  const verdict = verdictSentence(metric, totals, measured, options.threshold, options.rounding);
  if (!measured.passed) failures.push(`Coverage ${verdict}.`);

  const files: FileRow[] = [...model.files.entries()].map(([path, file]) => {
    const t = fileTotals(file);
    const missingLines = [...file.lines.entries()].filter(([, hits]) => hits === 0).map(([line]) => line);
    return {
      path,
      totals: t,
      measured: measure(metricCount(t, metric), options.threshold),
      missed: missingLines.length,
      missingLines,
    };
  });
  for (const [path, counts] of model.summaries) {
    const t = sumTotals([counts]);
    files.push({
      path,
      totals: t,
      measured: measure(metricCount(t, metric), options.threshold),
      missed: t.lines.total - t.lines.covered,
      missingLines: [],
    });
  }
  files.sort((a, b) => b.missed - a.missed || a.path.localeCompare(b.path));

  const byPackage = new Map<string, CoverageTotals[]>();
  for (const row of files) {
    const name = posix.dirname(row.path) === '.' ? '(root)' : posix.dirname(row.path);
    byPackage.set(name, [...(byPackage.get(name) ?? []), row.totals]);
  }
  const packages = [...byPackage.entries()]
    .map(([name, parts]) => {
      const t = sumTotals(parts);
      return { name, totals: t, measured: measure(metricCount(t, metric), options.threshold) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));

  const paths = options.pathThresholds.map(({ glob, threshold }) => {
    const pattern = globToRegExp(glob);
    const matching = files.filter((row) => pattern.test(row.path));
    const t = sumTotals(matching.map((row) => row.totals));
    const m = measure(metricCount(t, metric), threshold);
    const description = `${glob}: ${METRIC_WORDS[metric]} ${m.shown} % = ${describeCount(t, metric)}; threshold ${threshold.text} % → ${m.passed ? 'pass' : 'fail'}`;
    if (matching.length === 0) failures.push(`Path threshold '${glob}' matches no file of the coverage reports.`);
    else if (!m.passed) failures.push(`Coverage of ${description}.`);
    return { glob, threshold, files: matching.length, measured: m, description };
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
    packages,
    paths,
    diff,
    baseline,
    reports: input.reports.map((r) => ({
      file: r.file,
      format: r.format,
      files: r.files.size + (r.summaries?.size ?? 0),
    })),
    unmatched: input.unmatched,
    failures,
    passed: failures.length === 0,
  };
}
