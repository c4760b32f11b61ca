import { posix } from 'node:path';
import { ConfigurationError } from '../shared/errors.js';
import {
  mergeFile,
  type Count,
  type CountedTotals,
  type FileCoverage,
  type ParsedReport,
  type ReportFormat,
} from './model.js';

export type Metric = 'line' | 'branch' | 'combined' | 'statements' | 'functions';
export const METRICS: readonly Metric[] = ['line', 'branch', 'combined', 'statements', 'functions'];

/** Every report merged, keyed by the normalised repository path. */
export interface CoverageModel {
  /** The files read with their per-line counts (all of them, unless the reading folded some). */
  files: Map<string, FileCoverage>;
  /** Summary-only entries (coverage-summary.json), keyed by normalised path. */
  summaries: Map<string, CountedTotals>;
  /** What is left of the files folded into their counts while they were read (see report-files.ts). */
  folded?: FoldedFiles;
  /** Files found in more than one coverage-summary.json, which cannot be merged exactly: the first ones, and how many. */
  summaryOverlaps?: { paths: string[]; count: number };
}

/** The summed counts of files that were folded while being read, by package and by path threshold. */
export interface FoldedFiles {
  count: number;
  /** Folded files the file table would list: with missed lines or partially covered branches. */
  listable: number;
  totals: CoverageTotals;
  packages: Map<string, CoverageTotals>;
  /** Per path-threshold glob: the folded files it matches and their counts. */
  paths: Map<string, { files: number; totals: CoverageTotals }>;
  /** The folded files that sort first in the file table, with their missing lines. */
  listed: { path: string; totals: CoverageTotals; missed: number; missingLines: number[] }[];
}

/** The counts of one file or of everything; statements and functions are absent where no report has them. */
export interface CoverageTotals {
  lines: Count;
  branches: Count;
  statements?: Count;
  functions?: Count;
}

/**
 * Merges reports whose paths were normalised by `normalise`. The same file in two reports is merged line by
 * line; a file known only from a summary cannot be, so it is counted once, from its detailed report if any.
 */
export function mergeReports(
  reports: ParsedReport[],
  normalise: (path: string, report: ParsedReport) => string,
  /** Files of a detailed report that were folded while being read (they are not in `report.files`). */
  folded: (key: string) => boolean = () => false,
): CoverageModel {
  const files = new Map<string, FileCoverage>();
  const summaries = new Map<string, CountedTotals>();
  const overlaps = { paths: [] as string[], count: 0 };
  for (const report of reports) {
    for (const [path, coverage] of report.files) {
      const key = coverage.key ?? normalise(path, report);
      const target = files.get(key);
      // The first report to list a file lends its counts; later ones are merged into them.
      if (!target) files.set(key, coverage);
      else mergeFile(target, coverage);
    }
  }
  for (const report of reports) {
    for (const [path, counts] of report.summaries ?? []) {
      const key = normalise(path, report);
      if (files.has(key) || folded(key)) continue;
      const previous = summaries.get(key);
      if (previous) {
        overlaps.count++;
        if (overlaps.paths.length < 5) overlaps.paths.push(key);
      }
      // Two summaries of one file cannot be merged line by line; the better-covered one is the closer bound.
      if (!previous || previous.lines.covered < counts.lines.covered) summaries.set(key, counts);
    }
  }
  return { files, summaries, ...(overlaps.count > 0 ? { summaryOverlaps: overlaps } : {}) };
}

function hitCount(values: Iterable<number>): Count {
  let covered = 0;
  let total = 0;
  for (const hits of values) {
    total++;
    if (hits > 0) covered++;
  }
  return { covered, total };
}

export function fileTotals(file: FileCoverage): CoverageTotals {
  const lines = file.lines.coverage();
  return {
    lines,
    branches: file.branches.coverage(),
    // Without separate statements (coverage.py, Cobertura, LCOV), a statement is a line.
    statements: file.statements ? hitCount(file.statements.values()) : undefined,
    functions: file.functions ? hitCount(file.functions.values()) : undefined,
  };
}

function add(target: Count, source: Count): void {
  target.covered += source.covered;
  target.total += source.total;
}

/**
 * A running sum of counts, never of percentages. Statements fall back to lines for parts without them (a statement
 * is a line in coverage.py, Cobertura and LCOV); statements and functions appear once any part has them.
 */
export class TotalsSum {
  private readonly lines: Count = { covered: 0, total: 0 };
  private readonly branches: Count = { covered: 0, total: 0 };
  private readonly statements: Count = { covered: 0, total: 0 };
  private readonly functions: Count = { covered: 0, total: 0 };
  private statementsSeen = false;
  private functionsSeen = false;

  add(part: CoverageTotals | CountedTotals): this {
    add(this.lines, part.lines);
    if (part.branches) add(this.branches, part.branches);
    add(this.statements, part.statements ?? part.lines);
    if (part.statements) this.statementsSeen = true;
    if (part.functions) {
      add(this.functions, part.functions);
      this.functionsSeen = true;
    }
    return this;
  }

  /** A copy of the sum so far. */
  result(): CoverageTotals {
    const copy = (c: Count): Count => ({ covered: c.covered, total: c.total });
    const result: CoverageTotals = { lines: copy(this.lines), branches: copy(this.branches) };
    if (this.statementsSeen) result.statements = copy(this.statements);
    if (this.functionsSeen) result.functions = copy(this.functions);
    return result;
  }
}

/** Sums counts, never percentages. */
export function sumTotals(parts: Iterable<CoverageTotals | CountedTotals>): CoverageTotals {
  const sum = new TotalsSum();
  for (const part of parts) sum.add(part);
  return sum.result();
}

export function modelTotals(model: CoverageModel): CoverageTotals {
  const sum = new TotalsSum();
  for (const file of model.files.values()) sum.add(fileTotals(file));
  for (const counts of model.summaries.values()) sum.add(counts);
  if (model.folded) sum.add(model.folded.totals);
  return sum.result();
}

/** Whether a file belongs in the summary's file table: it missed lines or some of its branches. */
export function hasMisses(totals: CoverageTotals): boolean {
  return totals.lines.covered < totals.lines.total || totals.branches.covered < totals.branches.total;
}

/** The package a file's row is grouped under in the summary: its directory. */
export function packageOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '(root)' : dir;
}

/** The count a metric compares. `combined` is coverage.py's total: (lines + branches) / (statements + branches). */
export function metricCount(totals: CoverageTotals, metric: Metric): Count {
  switch (metric) {
    case 'line':
      return totals.lines;
    case 'branch':
      return totals.branches;
    case 'combined':
      return {
        covered: totals.lines.covered + totals.branches.covered,
        total: totals.lines.total + totals.branches.total,
      };
    case 'statements':
      return totals.statements ?? totals.lines;
    case 'functions':
      return totals.functions ?? { covered: 0, total: 0 };
  }
}

const METRIC_WORDS: Record<Metric, string> = {
  line: 'lines',
  branch: 'branches',
  combined: 'lines and branches',
  statements: 'statements',
  functions: 'functions',
};

/** The metrics the totals have something measured for: the choices `metric` can have. */
export function measuredMetrics(totals: CoverageTotals): Metric[] {
  const metrics: Metric[] = [];
  if (totals.lines.total > 0) metrics.push('line');
  if (totals.branches.total > 0) metrics.push('branch', 'combined');
  if (totals.statements && totals.statements.total > 0) metrics.push('statements');
  if (totals.functions && totals.functions.total > 0) metrics.push('functions');
  return metrics;
}

/**
 * A metric the user chose must have been measured: 0 of 0 would pass at 100 %, and statements taken from lines
 * would gate something other than what was asked. Throws a configuration error naming what the reports have.
 */
export function checkMetricMeasured(totals: CoverageTotals, metric: Metric, formats: readonly string[]): void {
  const measured = measuredMetrics(totals);
  if (measured.includes(metric)) return;
  const have = measured.length === 0 ? 'nothing measured at all' : measured.join(', ');
  throw new ConfigurationError(
    `Input 'metric' is ${metric}, but the reports (${[...new Set(formats)].join(', ')}) measure no ${METRIC_WORDS[metric]}; they have: ${have}. Set 'metric' to one of those (or auto).`,
  );
}

/** The formula in words with its counts, e.g. "1812 / 2014 (lines 1700/1850 + branches 112/164)". */
export function describeCount(totals: CoverageTotals, metric: Metric): string {
  const count = metricCount(totals, metric);
  const base = `${count.covered} / ${count.total}`;
  if (metric === 'combined') {
    return `${base} (lines ${totals.lines.covered}/${totals.lines.total} + branches ${totals.branches.covered}/${totals.branches.total})`;
  }
  return base;
}

/** What `metric: auto` resolves to: coverage.py's combined total where branches were measured, else lines. */
export function defaultMetric(totals: CoverageTotals, reports: readonly { format: ReportFormat }[]): Metric {
  if (totals.branches.total > 0) return 'combined';
  if (reports.length > 0 && reports.every((r) => r.format === 'go')) return 'statements';
  return 'line';
}
