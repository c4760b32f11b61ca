import { mergeFile, newFile, type Count, type CountedTotals, type FileCoverage, type ParsedReport } from './model.js';

export type Metric = 'line' | 'branch' | 'combined' | 'statements' | 'functions';
export const METRICS: readonly Metric[] = ['line', 'branch', 'combined', 'statements', 'functions'];

/** Every report merged, keyed by the normalised repository path. */
export interface CoverageModel {
  files: Map<string, FileCoverage>;
  /** Summary-only entries (coverage-summary.json), keyed by normalised path. */
  summaries: Map<string, CountedTotals>;
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
): CoverageModel {
  const files = new Map<string, FileCoverage>();
  const summaries = new Map<string, CountedTotals>();
  for (const report of reports) {
    for (const [path, coverage] of report.files) {
      const key = normalise(path, report);
      let target = files.get(key);
      if (!target) files.set(key, (target = newFile(key)));
      mergeFile(target, coverage);
    }
  }
  for (const report of reports) {
    for (const [path, counts] of report.summaries ?? []) {
      const key = normalise(path, report);
      if (files.has(key)) continue;
      const previous = summaries.get(key);
      // Two summaries of one file cannot be merged line by line; the better-covered one is the closer bound.
      if (!previous || previous.lines.covered < counts.lines.covered) summaries.set(key, counts);
    }
  }
  return { files, summaries };
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

/** Sums counts, never percentages. */
export function sumTotals(parts: Iterable<CoverageTotals | CountedTotals>): CoverageTotals {
  const result: CoverageTotals = { lines: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } };
  let statementsSeen = false;
  let functionsSeen = false;
  const statements: Count = { covered: 0, total: 0 };
  const functions: Count = { covered: 0, total: 0 };
  for (const part of parts) {
    add(result.lines, part.lines);
    if (part.branches) add(result.branches, part.branches);
    add(statements, part.statements ?? part.lines);
    if (part.statements) statementsSeen = true;
    if (part.functions) {
      add(functions, part.functions);
      functionsSeen = true;
    }
  }
  if (statementsSeen) result.statements = statements;
  if (functionsSeen) result.functions = functions;
  return result;
}

export function modelTotals(model: CoverageModel, include: (path: string) => boolean = () => true): CoverageTotals {
  const parts: (CoverageTotals | CountedTotals)[] = [];
  for (const [path, file] of model.files) if (include(path)) parts.push(fileTotals(file));
  for (const [path, counts] of model.summaries) if (include(path)) parts.push(counts);
  return sumTotals(parts);
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
export function defaultMetric(totals: CoverageTotals, reports: ParsedReport[]): Metric {
  if (totals.branches.total > 0) return 'combined';
  if (reports.length > 0 && reports.every((r) => r.format === 'go')) return 'statements';
  return 'line';
}
