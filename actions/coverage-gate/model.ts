import { LineBranches } from './lines/line-branches.js';
import { LineHits } from './lines/line-hits.js';

/**
 * The merged coverage of every report: one entry per source file, one hit count per line, the hit count of
 * each branch per line. Percentages are never stored: every total is recounted from these counts, so the same
 * file in two reports is merged line by line instead of being counted twice or averaged.
 */
export interface FileCoverage {
  /** Path as the report names it, before normalisation. */
  path: string;
  /** Line number → hits. A line present here is coverable (a statement). */
  lines: LineHits;
  /**
   * Line number → hits of each branch leaving that line and, for formats that give one, an identity for each
   * branch (a destination, an LCOV block and branch). Without ids a line's branches are only counts.
   */
  branches: LineBranches;
  /** Statement key → hits, for formats that count statements apart from lines (Istanbul, Go). */
  statements?: Map<string, number>;
  /** Function key → hits, where the report lists functions. */
  functions?: Map<string, number>;
  /** The repository path the reading normalised the report's path to (see ReportFiles). */
  key?: string;
}

/** Rows of the summary's file tables; the files beyond are in the counts and totals, not in the rows. */
export const MAX_FILE_ROWS = 100;

/**
 * The order of the summary's file table: most missed lines first, then by path. Shared by the table and by
 * the selection of the files whose missing lines are kept, so that both agree on which files come first.
 */
export function byMissedThenPath(a: { missed: number; path: string }, b: { missed: number; path: string }): number {
  return b.missed - a.missed || a.path.localeCompare(b.path);
}

export type ReportFormat =
  'cobertura' | 'coveragepy-json' | 'lcov' | 'istanbul-json' | 'istanbul-summary' | 'go' | 'jacoco' | 'clover';

export const REPORT_FORMATS: readonly ReportFormat[] = [
  'cobertura',
  'coveragepy-json',
  'lcov',
  'istanbul-json',
  'istanbul-summary',
  'go',
  'jacoco',
  'clover',
];

/** Counts a report gives only as totals (Istanbul's coverage-summary.json), which cannot be merged per line. */
export interface CountedTotals {
  lines: Count;
  statements?: Count;
  functions?: Count;
  branches?: Count;
}

export interface Count {
  covered: number;
  total: number;
}

/** What one report file contributed. */
export interface ParsedReport {
  file: string;
  format: ReportFormat;
  files: Map<string, FileCoverage>;
  /** Per-file totals for summary-only formats; `files` is empty then. */
  summaries?: Map<string, CountedTotals>;
  /** Directories the report's relative paths are relative to (Cobertura's <source>). */
  sourceRoots?: string[];
  /** Files folded into their counts while the report was read; they are not in `files` (see ReportFiles). */
  folded?: number;
  /** What the reader noticed and the summary must say (a header that disagrees with the detail). */
  notes?: string[];
}

/** What the gate still says of a report once its files are merged into the model. */
export interface ReportSummary {
  file: string;
  format: ReportFormat;
  /** Source files the report lists (with or without per-line detail). */
  files: number;
  notes?: string[];
}

export function summariseReport(report: ParsedReport): ReportSummary {
  return {
    file: report.file,
    format: report.format,
    files: report.files.size + (report.folded ?? 0) + (report.summaries?.size ?? 0),
    ...(report.notes?.length ? { notes: report.notes } : {}),
  };
}

/**
 * A copy of `text` that does not keep alive the string it was sliced from. V8 keeps a substring as a view of its
 * parent, so a path sliced from a chunk would pin the whole chunk for as long as the model lives.
 */
export function detach(text: string): string {
  return text.length === 0 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

export function newFile(path: string): FileCoverage {
  return { path, lines: new LineHits(), branches: new LineBranches() };
}

/** Called when a parser leaves a file: its arrays shrink to what they hold. */
export function trimFile(file: FileCoverage): void {
  file.lines.trim();
  file.branches.trim();
}

/** Adds a line's hits within one report: a line listed twice (two Cobertura classes of one file) counts once. */
export function addLine(file: FileCoverage, line: number, hits: number): void {
  const previous = file.lines.get(line);
  file.lines.set(line, previous === undefined ? hits : Math.max(previous, hits));
}

/**
 * Adds branches of a line within one report (several conditions on one line add up). With `ids`, a branch
 * already known by the same id adds its hits instead of counting twice.
 */
export function addBranches(file: FileCoverage, line: number, hits: number[], ids?: string[]): void {
  const branches = file.branches;
  const row = branches.row(line);
  if (row === -1) {
    branches.set(line, hits, ids);
    return;
  }
  if (ids && branches.hasIds(row)) {
    ids.forEach((id, i) => {
      const at = branches.findId(row, id);
      if (at === -1) branches.append(row, hits[i], id);
      else branches.addHits(row, at, hits[i]);
    });
    return;
  }
  for (const h of hits) branches.append(row, h);
  branches.dropIds(row);
}

/** One identified branch of a line (an LCOV BRDA record): the hot path of addBranches. */
export function addBranchHit(file: FileCoverage, line: number, hits: number, id: string): void {
  const branches = file.branches;
  const row = branches.row(line);
  if (row === -1) branches.set(line, [hits], [id]);
  else if (!branches.hasIds(row)) branches.append(row, hits);
  else {
    const at = branches.findId(row, id);
    if (at !== -1) branches.addHits(row, at, hits);
    else branches.append(row, hits, id);
  }
}

/** Branches above zero hits in a row. */
function coveredIn(branches: LineBranches, row: number): number {
  let covered = 0;
  for (let i = 0; i < branches.length(row); i++) if (branches.hit(row, i) > 0) covered++;
  return covered;
}

/** A line's branches given as counts (Cobertura, JaCoCo, Clover); a line listed twice keeps the larger count. */
export function setBranchCounts(file: FileCoverage, line: number, covered: number, total: number): void {
  const row = file.branches.row(line);
  if (row !== -1 && coveredIn(file.branches, row) >= covered && file.branches.length(row) >= total) return;
  file.branches.set(line, branchCounts(covered, total));
}

/** A branch total known only as counts (Cobertura's condition-coverage "50% (1/2)"): covered ones first. */
export function branchCounts(covered: number, total: number): number[] {
  const hits: number[] = new Array(total).fill(0);
  for (let i = 0; i < covered && i < total; i++) hits[i] = 1;
  return hits;
}

function mergeCounter(target: Map<string, number>, source: Map<string, number>): void {
  for (const [key, hits] of source) target.set(key, (target.get(key) ?? 0) + hits);
}

/**
 * Merges `source` into `target` for the same file seen in another report: hits add up, so a line covered in
 * either report is covered and the line itself is counted once. Branches with identities merge by identity;
 * branches known only as counts cannot be matched, so the line keeps the larger count of each report — never
 * more covered branches than one report proves.
 */
export function mergeFile(target: FileCoverage, source: FileCoverage): void {
  for (const [line, hits] of source.lines) target.lines.set(line, (target.lines.get(line) ?? 0) + hits);
  for (const [line, hits, ids] of source.branches.entries()) {
    const row = target.branches.row(line);
    if (row === -1) {
      target.branches.set(line, hits, ids);
    } else if (ids && target.branches.hasIds(row)) {
      addBranches(target, line, hits, ids);
    } else {
      const covered = Math.max(coveredIn(target.branches, row), hits.filter((h) => h > 0).length);
      target.branches.set(line, branchCounts(covered, Math.max(target.branches.length(row), hits.length)));
    }
  }
  if (source.statements) mergeCounter((target.statements ??= new Map()), source.statements);
  if (source.functions) mergeCounter((target.functions ??= new Map()), source.functions);
}
