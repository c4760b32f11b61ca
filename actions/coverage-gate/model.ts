import { LineHits } from './line-hits.js';

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
  /** Line number → hits of each branch leaving that line. */
  branches: Map<number, number[]>;
  /**
   * Line number → an identity for each branch of `branches` (a destination, an LCOV block and branch), for
   * formats that give one. Without it a line's branches are only counts and cannot be told apart.
   */
  branchIds: Map<number, string[]>;
  /** Statement key → hits, for formats that count statements apart from lines (Istanbul, Go). */
  statements?: Map<string, number>;
  /** Function key → hits, where the report lists functions. */
  functions?: Map<string, number>;
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
}

/**
 * A copy of `text` that does not keep alive the string it was sliced from. V8 keeps a substring as a view of its
 * parent, so a path sliced from a chunk would pin the whole chunk for as long as the model lives.
 */
export function detach(text: string): string {
  return text.length === 0 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

export function newFile(path: string): FileCoverage {
  return { path, lines: new LineHits(), branches: new Map(), branchIds: new Map() };
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
  const previous = file.branches.get(line);
  if (!previous) {
    file.branches.set(line, hits.slice());
    if (ids) file.branchIds.set(line, ids.slice());
    return;
  }
  const previousIds = file.branchIds.get(line);
  if (ids && previousIds) {
    // New arrays of the exact size: push() would reserve room for 16 more on every line of a 2-million-line report.
    let grownHits = previous;
    let grownIds = previousIds;
    ids.forEach((id, i) => {
      const at = grownIds.indexOf(id);
      if (at === -1) {
        grownIds = grownIds.concat(id);
        grownHits = grownHits.concat(hits[i]);
      } else grownHits[at] += hits[i];
    });
    file.branches.set(line, grownHits);
    file.branchIds.set(line, grownIds);
    return;
  }
  file.branches.set(line, previous.concat(hits));
  file.branchIds.delete(line);
}

/** One identified branch of a line (an LCOV BRDA record): the hot path of addBranches, without temporary arrays. */
export function addBranchHit(file: FileCoverage, line: number, hits: number, id: string): void {
  const previous = file.branches.get(line);
  const ids = file.branchIds.get(line);
  if (!previous) {
    file.branches.set(line, [hits]);
    file.branchIds.set(line, [id]);
  } else if (!ids) {
    file.branches.set(line, previous.concat(hits));
  } else {
    const at = ids.indexOf(id);
    if (at !== -1) previous[at] += hits;
    else {
      file.branches.set(line, previous.concat(hits));
      file.branchIds.set(line, ids.concat(id));
    }
  }
}

/** A line's branches given as counts (Cobertura, JaCoCo, Clover); a line listed twice keeps the larger count. */
export function setBranchCounts(file: FileCoverage, line: number, covered: number, total: number): void {
  const previous = file.branches.get(line);
  if (previous && previous.filter((h) => h > 0).length >= covered && previous.length >= total) return;
  file.branches.set(line, branchCounts(covered, total));
  file.branchIds.delete(line);
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
  for (const [line, hits] of source.branches) {
    const previous = target.branches.get(line);
    const ids = source.branchIds.get(line);
    if (!previous) {
      target.branches.set(line, [...hits]);
      if (ids) target.branchIds.set(line, [...ids]);
    } else if (ids && target.branchIds.has(line)) {
      addBranches(target, line, hits, ids);
    } else {
      const covered = Math.max(previous.filter((h) => h > 0).length, hits.filter((h) => h > 0).length);
      target.branches.set(line, branchCounts(covered, Math.max(previous.length, hits.length)));
      target.branchIds.delete(line);
    }
  }
  if (source.statements) mergeCounter((target.statements ??= new Map()), source.statements);
  if (source.functions) mergeCounter((target.functions ??= new Map()), source.functions);
}
