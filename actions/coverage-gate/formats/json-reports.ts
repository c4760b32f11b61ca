import { addBranches, type CountedTotals, type Count, type ParsedReport } from '../model.js';
import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';
import { ReportFiles } from '../report-files.js';

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberList(file: string, where: string, value: unknown): number[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((n) => Number.isInteger(n))) {
    throw new ReportError(file, `${where} must be a list of line numbers`);
  }
  return value as number[];
}

/**
 * coverage.py's JSON report. Executed and missing lines are the statements; with --branch, each line's arcs
 * (executed and missing) are its branches, ordered by destination so that two reports merge arc by arc.
 */
export function parseCoveragePyJson(file: string, data: unknown, files = new ReportFiles()): ParsedReport {
  if (!isObject(data) || !isObject(data.files))
    throw new ReportError(file, "coverage.py JSON without a 'files' object");
  for (const [path, entry] of Object.entries(data.files)) addCoveragePyFile(file, files, path, entry);
  return { file, format: 'coveragepy-json', files: files.finish() };
}

/** One entry of coverage.py JSON's `files`: its lines and, with --branch, its arcs. */
export function addCoveragePyFile(file: string, files: ReportFiles, path: string, entry: unknown): void {
  if (!isObject(entry)) throw new ReportError(file, `files['${excerpt(path)}'] is not an object`);
  const target = files.get(path);
  let executed = numberList(file, `files['${excerpt(path)}'].executed_lines`, entry.executed_lines);
  const missing = numberList(file, `files['${excerpt(path)}'].missing_lines`, entry.missing_lines);
  // executed_lines can hold lines that ran but are not statements (docstrings); the summary's counts are
  // coverage.py's own, so surplus executed lines are dropped, lowest first (a module docstring is line 1).
  const summary = isObject(entry.summary) ? entry.summary : undefined;
  const statements = Number(summary?.num_statements);
  if (Number.isInteger(statements) && executed.length + missing.length > statements) {
    const surplus = executed.length + missing.length - statements;
    const sources = new Set<number>();
    for (const key of ['executed_branches', 'missing_branches']) {
      const arcs = entry[key];
      if (Array.isArray(arcs)) for (const arc of arcs) if (Array.isArray(arc)) sources.add(Number(arc[0]));
    }
    const droppable = executed.filter((l) => !sources.has(l)).slice(0, surplus);
    executed = executed.filter((l) => !droppable.includes(l));
  }
  for (const line of executed) target.lines.set(line, 1);
  for (const line of missing) target.lines.set(line, 0);
  const arcs = new Map<number, Map<number, number>>();
  const addArcs = (key: string, hit: number): void => {
    const list = entry[key];
    if (list === undefined) return;
    if (!Array.isArray(list))
      throw new ReportError(file, `files['${excerpt(path)}'].${key} must be a list of [from, to] arcs`);
    for (const arc of list) {
      if (!Array.isArray(arc) || arc.length !== 2 || !arc.every((n) => Number.isInteger(n))) {
        throw new ReportError(file, `files['${excerpt(path)}'].${key} must be a list of [from, to] arcs`);
      }
      const [from, to] = arc as [number, number];
      let lineArcs = arcs.get(from);
      if (!lineArcs) arcs.set(from, (lineArcs = new Map()));
      // coverage.py 6 can list an executed arc several times; an arc is one branch.
      lineArcs.set(to, Math.max(lineArcs.get(to) ?? 0, hit));
    }
  };
  addArcs('executed_branches', 1);
  addArcs('missing_branches', 0);
  trimToSummary(arcs, summary);
  for (const [line, lineArcs] of [...arcs.entries()].sort((a, b) => a[0] - b[0])) {
    const sorted = [...lineArcs.entries()].sort((a, b) => a[0] - b[0]);
    addBranches(
      target,
      line,
      sorted.map(([, hit]) => hit),
      sorted.map(([to]) => `${to}`),
    );
  }
  files.close(target);
}

/**
 * On Python 3.11 coverage.py 6 lists executed arcs its static analysis does not count as branches (a
 * comprehension's own exit, a loop back to itself), so the arcs add up to more than the file's summary. The
 * summary is coverage.py's number: surplus executed arcs are dropped from the lines with the most arcs,
 * self-references first, until the counts agree.
 */
function trimToSummary(arcs: Map<number, Map<number, number>>, summary: Record<string, unknown> | undefined): void {
  const total = Number(summary?.num_branches);
  const covered = Number(summary?.covered_branches);
  if (!Number.isInteger(total) || !Number.isInteger(covered)) return;
  let count = 0;
  for (const lineArcs of arcs.values()) count += lineArcs.size;
  for (let surplus = count - total; surplus > 0; surplus--) {
    let best: [number, Map<number, number>] | undefined;
    for (const [line, lineArcs] of arcs) {
      const executed = [...lineArcs.values()].filter((h) => h > 0).length;
      if (executed > 0 && (!best || lineArcs.size > best[1].size)) best = [line, lineArcs];
    }
    if (!best) return;
    const [line, lineArcs] = best;
    const executedTargets = [...lineArcs.entries()].filter(([, h]) => h > 0).map(([to]) => to);
    const victim =
      executedTargets.find((to) => to === line || to === -line) ??
      executedTargets.find((to) => to < 0) ??
      executedTargets[executedTargets.length - 1];
    lineArcs.delete(victim);
  }
}

interface IstanbulLocation {
  start: { line: number; column: number | null };
  end: { line: number; column: number | null };
}

function locationKey(loc: IstanbulLocation | undefined): string {
  if (!loc?.start || !loc.end) return '?';
  return `${loc.start.line}:${loc.start.column}-${loc.end.line}:${loc.end.column}`;
}

/**
 * Istanbul's coverage-final.json (nyc, jest, c8, vitest). Lines are derived as Istanbul does: the hits of a line
 * are the highest hits of the statements starting on it. Statements and functions are keyed by location so the
 * same file from two runs merges as istanbul-lib-coverage merges it.
 */
export function parseIstanbulJson(file: string, data: unknown, files = new ReportFiles()): ParsedReport {
  if (!isObject(data)) throw new ReportError(file, 'Istanbul coverage JSON must be an object keyed by file');
  for (const [key, raw] of Object.entries(data)) addIstanbulFile(file, files, key, raw);
  return { file, format: 'istanbul-json', files: files.finish() };
}

/** Whether a member of a JSON object is one file of Istanbul's coverage-final.json. */
export function isIstanbulEntry(value: unknown): boolean {
  return (
    isObject(value) && (isObject(value.statementMap) || (isObject(value.data) && isObject(value.data.statementMap)))
  );
}

/** One file of coverage-final.json: statements, functions and branches, and lines derived as Istanbul does. */
export function addIstanbulFile(file: string, files: ReportFiles, key: string, raw: unknown): void {
  // jest < 24 wrapped each file's coverage in { data: … }.
  const entry = isObject(raw) && isObject(raw.data) && !raw.statementMap ? raw.data : raw;
  if (!isObject(entry) || !isObject(entry.statementMap) || !isObject(entry.s)) {
    throw new ReportError(file, `'${excerpt(key)}' has no statementMap/s: not Istanbul coverage-final.json`);
  }
  const path = typeof entry.path === 'string' ? entry.path : key;
  const target = files.get(path);
  target.statements = new Map();
  target.functions = new Map();
  const statementMap = entry.statementMap as Record<string, IstanbulLocation>;
  for (const [id, hits] of Object.entries(entry.s as Record<string, number>)) {
    const loc = statementMap[id];
    if (!loc) continue;
    target.statements.set(locationKey(loc), Number(hits));
    const line = loc.start.line;
    const previous = target.lines.get(line);
    if (previous === undefined || previous < Number(hits)) target.lines.set(line, Number(hits));
  }
  const fnMap = (isObject(entry.fnMap) ? entry.fnMap : {}) as Record<
    string,
    { loc?: IstanbulLocation; decl?: IstanbulLocation; name?: string }
  >;
  for (const [id, hits] of Object.entries((isObject(entry.f) ? entry.f : {}) as Record<string, number>)) {
    const fn = fnMap[id];
    target.functions.set(`${fn?.name ?? id}@${locationKey(fn?.decl ?? fn?.loc)}`, Number(hits));
  }
  const branchMap = (isObject(entry.branchMap) ? entry.branchMap : {}) as Record<
    string,
    { line?: number; loc?: IstanbulLocation; locations?: IstanbulLocation[] }
  >;
  for (const [id, hits] of Object.entries((isObject(entry.b) ? entry.b : {}) as Record<string, number[]>)) {
    const branch = branchMap[id];
    if (!Array.isArray(hits)) throw new ReportError(file, `'${excerpt(key)}'.b['${id}'] must be a list of hit counts`);
    const line = branch?.line || branch?.loc?.start.line || branch?.locations?.[0]?.start.line || 0;
    const where = locationKey(branch?.loc ?? branch?.locations?.[0]);
    addBranches(
      target,
      line,
      hits.map(Number),
      hits.map((_, i) => `${where}#${i}`),
    );
  }
  files.close(target);
}

function readCount(file: string, where: string, value: unknown): Count | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Number.isInteger(value.total) || !Number.isInteger(value.covered)) {
    throw new ReportError(file, `${where} must have whole-number 'total' and 'covered'`);
  }
  return { covered: value.covered as number, total: value.total as number };
}

/**
 * Istanbul's coverage-summary.json: counts only, per file and in 'total'. Per-file entries are used (so that a
 * file also present in another report can be recognised); a summary with only 'total' is taken as one entry.
 */
export function parseIstanbulSummary(file: string, data: unknown): ParsedReport {
  if (!isObject(data) || !isObject(data.total))
    throw new ReportError(file, "coverage-summary.json without a 'total' entry");
  const summaries = new Map<string, CountedTotals>();
  const entries = Object.entries(data).filter(([key]) => key !== 'total');
  for (const [key, value] of entries.length > 0 ? entries : [['(total)', data.total] as [string, unknown]]) {
    if (!isObject(value)) throw new ReportError(file, `'${excerpt(key)}' is not an object`);
    const lines = readCount(file, `'${excerpt(key)}'.lines`, value.lines);
    if (!lines) throw new ReportError(file, `'${excerpt(key)}' has no 'lines' counts`);
    summaries.set(key, {
      lines,
      statements: readCount(file, `'${excerpt(key)}'.statements`, value.statements),
      functions: readCount(file, `'${excerpt(key)}'.functions`, value.functions),
      branches: readCount(file, `'${excerpt(key)}'.branches`, value.branches),
    });
  }
  return { file, format: 'istanbul-summary', files: new Map(), summaries };
}
