// Reading with folding (only the files that need lines keep them) must decide exactly what reading everything
// line by line decides. Each case writes random reports of one format, reads them both ways and compares the
// whole gate result and the rendered summary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArrayPages } from '../../../actions/coverage-gate/lines/array-pages.js';
import { evaluateGate, type GateOptions, type GateResult } from '../../../actions/coverage-gate/gate.js';
import { LineHits } from '../../../actions/coverage-gate/lines/line-hits.js';
import { loadReports } from '../../../actions/coverage-gate/main.js';
import {
  byMissedThenPath,
  summariseReport,
  type ReportFormat,
  type ReportSummary,
} from '../../../actions/coverage-gate/model.js';
import { normalisePath, type PathContext } from '../../../actions/coverage-gate/paths.js';
import { parseCoveragePyJson, parseIstanbulJson } from '../../../actions/coverage-gate/formats/json-reports.js';
import { readReport } from '../../../actions/coverage-gate/formats/read-report.js';
import { StringHashes, TopRows } from '../../../actions/coverage-gate/report-files.js';
import { parseDecimal } from '../../../actions/coverage-gate/rounding.js';
import { MAX_FILE_ROWS, renderSummary } from '../../../actions/coverage-gate/summary.js';
import { mergeReports, modelTotals, type CoverageModel } from '../../../actions/coverage-gate/totals.js';
import { removeDir, tempDir } from './tools.js';
import { seededRandom } from '../../support/random.js';

/** A source file as the random reports describe it. */
interface SourceFile {
  path: string;
  lines: [number, number][];
  branches: Map<number, number[]>;
  functions: [string, number, number][];
}

function sourceFiles(rand: () => number, count: number, prefix: string): SourceFile[] {
  const files: SourceFile[] = [];
  for (let f = 0; f < count; f++) {
    const lines: [number, number][] = [];
    const branches = new Map<number, number[]>();
    // Covered runs and uncovered runs, so files differ in how many lines they miss (ties included).
    const missRate = [0, 0.05, 0.2, 0.6][Math.floor(rand() * 4)];
    let line = 1;
    const length = 5 + Math.floor(rand() * 40);
    for (let i = 0; i < length; i++) {
      line += 1 + Math.floor(rand() * 3);
      const hits = rand() < missRate ? 0 : 1 + Math.floor(rand() * 5);
      lines.push([line, hits]);
      if (rand() < 0.15) branches.set(line, [hits > 0 ? 1 : 0, rand() < 0.5 ? 0 : 2]);
    }
    const functions: [string, number, number][] = [[`f${f}`, lines[0][0], lines[0][1]]];
    files.push({ path: `${prefix}/pkg${f % 7}/module_${f}.src`, lines, branches, functions });
  }
  return files;
}

/** The file's lines in two overlapping halves, as a report that lists one file twice. */
function halves(file: SourceFile): SourceFile[] {
  const middle = Math.ceil(file.lines.length / 2);
  const part = (lines: [number, number][]): SourceFile => ({
    ...file,
    lines,
    branches: new Map([...file.branches].filter(([l]) => lines.some(([x]) => x === l))),
  });
  return [part(file.lines.slice(0, middle + 1)), part(file.lines.slice(middle))];
}

const render: Record<string, (files: SourceFile[]) => string> = {
  lcov: (files) =>
    files
      .map((f) =>
        [
          'TN:',
          `SF:${f.path}`,
          ...f.functions.flatMap(([name, line, hits]) => [`FN:${line},${name}`, `FNDA:${hits},${name}`]),
          ...f.lines.map(([l, h]) => `DA:${l},${h}`),
          ...[...f.branches].flatMap(([l, hits]) => hits.map((h, i) => `BRDA:${l},0,${i},${h === 0 ? '-' : h}`)),
          'end_of_record',
        ].join('\n'),
      )
      .join('\n') + '\n',
  cobertura: (files) =>
    `<?xml version="1.0" ?>\n<coverage version="7"><sources><source>/build/src</source></sources><packages><package name="p"><classes>\n` +
    files
      .map(
        (f) =>
          `<class name="c" filename="${f.path}"><methods/><lines>\n` +
          f.lines
            .map(([l, h]) => {
              const b = f.branches.get(l);
              const covered = b?.filter((x) => x > 0).length ?? 0;
              return b
                ? `<line number="${l}" hits="${h}" branch="true" condition-coverage="50% (${covered}/${b.length})"/>`
                : `<line number="${l}" hits="${h}"/>`;
            })
            .join('\n') +
          '\n</lines></class>',
      )
      .join('\n') +
    '\n</classes></package></packages></coverage>\n',
  clover: (files) =>
    '<?xml version="1.0"?>\n<coverage generated="1" clover="3.2.0"><project>\n' +
    files
      .map(
        (f) =>
          `<file name="${f.path.split('/').pop()}" path="${f.path}">\n` +
          f.functions.map(([n, l, h]) => `<line num="${l}" count="${h}" type="method" name="${n}"/>`).join('\n') +
          f.lines
            .map(([l, h]) => {
              const b = f.branches.get(l);
              if (!b) return `<line num="${l}" count="${h}" type="stmt"/>`;
              const t = b.filter((x) => x > 0).length;
              return `<line num="${l}" count="${h}" type="cond" truecount="${t}" falsecount="${b.length - t}"/>`;
            })
            .join('\n') +
          '\n</file>',
      )
      .join('\n') +
    '\n</project></coverage>\n',
  jacoco: (files) =>
    '<?xml version="1.0"?>\n<report name="r">' +
    files
      .map((f) => {
        const dir = f.path.slice(0, f.path.lastIndexOf('/'));
        const name = f.path.slice(f.path.lastIndexOf('/') + 1);
        const methods = f.functions
          .map(
            ([n, l, h]) =>
              `<method name="${n}" desc="()V" line="${l}"><counter type="METHOD" missed="${h > 0 ? 0 : 1}" covered="${h > 0 ? 1 : 0}"/></method>`,
          )
          .join('');
        const lines = f.lines
          .map(([l, h]) => {
            const b = f.branches.get(l) ?? [];
            const cb = b.filter((x) => x > 0).length;
            return `<line nr="${l}" mi="${h > 0 ? 0 : 2}" ci="${h > 0 ? 2 : 0}" mb="${b.length - cb}" cb="${cb}"/>`;
          })
          .join('\n');
        return `<package name="${dir}"><class name="${dir}/C" sourcefilename="${name}">${methods}</class><sourcefile name="${name}">\n${lines}\n</sourcefile></package>`;
      })
      .join('\n') +
    '</report>\n',
  go: (files) =>
    'mode: count\n' +
    files.map((f) => f.lines.map(([l, h]) => `${f.path}:${l}.1,${l}.20 1 ${h}`).join('\n')).join('\n') +
    '\n',
  'coveragepy-json': (files) =>
    JSON.stringify({
      meta: { version: '7.0', branch_coverage: true },
      files: Object.fromEntries(
        files.map((f) => [
          f.path,
          {
            executed_lines: f.lines.filter(([, h]) => h > 0).map(([l]) => l),
            missing_lines: f.lines.filter(([, h]) => h === 0).map(([l]) => l),
            executed_branches: [...f.branches].flatMap(([l, b]) =>
              b.flatMap((h, i) => (h > 0 ? [[l, l + 1 + i]] : [])),
            ),
            missing_branches: [...f.branches].flatMap(([l, b]) =>
              b.flatMap((h, i) => (h === 0 ? [[l, l + 1 + i]] : [])),
            ),
          },
        ]),
      ),
    }),
  'istanbul-json': (files) => {
    const at = (line: number, column = 0) => ({ start: { line, column }, end: { line, column: column + 9 } });
    const byIndex = <T>(list: T[]): Record<string, T> => Object.fromEntries(list.map((v, i) => [String(i), v]));
    return JSON.stringify(
      Object.fromEntries(
        files.map((f) => [
          `/ws/${f.path}`,
          {
            path: `/ws/${f.path}`,
            statementMap: byIndex(f.lines.map(([l]) => at(l))),
            s: byIndex(f.lines.map(([, h]) => h)),
            fnMap: byIndex(f.functions.map(([name, l]) => ({ name, decl: at(l), loc: at(l) }))),
            f: byIndex(f.functions.map(([, , h]) => h)),
            branchMap: byIndex(
              [...f.branches].map(([l, b]) => ({
                line: l,
                type: 'if',
                loc: at(l),
                locations: b.map((_, i) => at(l, i * 10)),
              })),
            ),
            b: byIndex([...f.branches].map(([, b]) => b)),
          },
        ]),
      ),
    );
  },
};

/** Formats whose reports can list one file twice (JSON objects cannot). */
const SPLITS = new Set(['lcov', 'cobertura', 'clover', 'jacoco', 'go']);

const context: PathContext = {
  workspace: '/ws',
  workingDirectory: '',
  sourceRoots: [],
  stripPrefixes: [],
  exists: () => false,
};

const options: GateOptions = {
  metric: 'auto',
  threshold: parseDecimal('90')!,
  rounding: 'none',
  precision: 2,
  pathThresholds: [{ glob: 'src/pkg1/**', threshold: parseDecimal('50')! }],
  diffThreshold: parseDecimal('80')!,
};

/** The reference: every report read with every line kept, merged as before folding existed. */
async function readEverything(paths: string[], format: ReportFormat | undefined) {
  const reports = [];
  for (const path of paths) reports.push(await readReport(path, format));
  const model = mergeReports(reports, (path, report) => normalisePath(path, report.sourceRoots ?? [], context).path);
  return { model, reports };
}

/** What the gate's verdicts and tables depend on, without the report file names. */
function comparable(result: GateResult) {
  return {
    totals: result.totals,
    verdict: result.verdict,
    failures: result.failures,
    fileCount: result.fileCount,
    filesWithMisses: result.filesWithMisses,
    // The rows the summary lists: the first of the files with missed lines or branches.
    listed: result.files
      .filter((f) => f.missed > 0 || f.totals.branches.covered < f.totals.branches.total)
      .slice(0, MAX_FILE_ROWS)
      .map((f) => [f.path, f.totals, f.measured, f.missed, f.missingLines]),
    packages: result.packages,
    paths: result.paths,
    diff: result.diff,
  };
}

let dir: string;
beforeEach(() => {
  dir = tempDir('coverage-gate-folding-');
});
afterEach(() => removeDir(dir));

/**
 * once: every file listed once. adjacent: some files listed in two elements one after the other in one report
 * (as coverlet writes a class per C# class). twice: some files in both reports, and some twice in one report
 * with other files between: only then must the reports be read again.
 */
type Listing = 'once' | 'adjacent' | 'twice';
const cases: [string, Listing][] = Object.keys(render).flatMap((format) =>
  (SPLITS.has(format) ? ['once', 'adjacent', 'twice'] : ['once', 'twice']).map(
    (listing) => [format, listing] as [string, Listing],
  ),
);

describe.each(cases)('%s reports read with folding, files listed %s', (format, listing) => {
  test('decide and render exactly what reading every line decides', async () => {
    const twice = listing === 'twice';
    const rand = seededRandom(format.length * 7919 + ['once', 'adjacent', 'twice'].indexOf(listing));
    const files = sourceFiles(rand, 450, 'src');
    // Two reports: the second repeats some of the first's files when `twice`, and has its own.
    const first = files.slice(0, 300);
    const second = [
      ...files.slice(300),
      ...(twice
        ? files
            .slice(0, 40)
            .map((f) => ({ ...f, lines: f.lines.map(([l, h]) => [l, h === 0 ? 1 : 0] as [number, number]) }))
        : []),
    ];
    const split = SPLITS.has(format) ? first.slice(100, 110).map(halves) : [];
    const firstReport =
      listing === 'adjacent'
        ? [...first.slice(0, 100), ...split.flat(), ...first.slice(110)]
        : listing === 'twice'
          ? [...first.slice(0, 100), ...split.map((h) => h[0]), ...first.slice(110), ...split.map((h) => h[1])]
          : [...first.slice(0, 100), ...first.slice(100, 110), ...first.slice(110)];
    const reportFiles = [firstReport, second].map((content, i) => {
      const path = join(dir, `report-${i}.${format}`);
      writeFileSync(path, render[format](content));
      return path;
    });
    // Changed lines in a few files, covered and not: those files keep their lines.
    const changed = new Map(
      [files[3], files[120], files[305]].map((f) => [
        normalisePath(f.path, format === 'cobertura' ? ['/build/src'] : [], context).path,
        f.lines.filter((_, i) => i % 2 === 0).map(([l]) => l),
      ]),
    );

    const reference = await readEverything(reportFiles, format as ReportFormat);
    const notes: string[] = [];
    const folded = await loadReports(
      reportFiles,
      format as ReportFormat,
      context,
      '/ws',
      new Set(changed.keys()),
      options.pathThresholds.map((p) => p.glob),
      (m) => notes.push(m),
    );

    // The gate names reports by their workspace path; the reference read them by their absolute path.
    reference.reports.forEach((report, i) => (report.file = folded.reports[i].file));
    const input = (loaded: { model: CoverageModel; reports: ReportSummary[] }) => ({
      model: loaded.model,
      reports: loaded.reports,
      unmatched: [],
      changed: { range: 'base...head', lines: changed },
    });
    const expected = evaluateGate(input({ ...reference, reports: reference.reports.map(summariseReport) }), options);
    const actual = evaluateGate(input(folded), options);
    expect(comparable(actual)).toEqual(comparable(expected));
    expect(renderSummary(actual)).toBe(renderSummary(expected));
    expect(actual.diff!.rows.length).toBeGreaterThan(0);

    // Folded: every file but the changed ones and the ones listed twice; the listed rows came from folded files.
    const kept = [...folded.model.files.keys()];
    expect(folded.model.folded!.count + kept.length).toBe(actual.fileCount);
    if (twice) {
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/listed more than once .*reading the reports again to merge them line by line/);
      expect(kept.length).toBeGreaterThanOrEqual(40);
    } else {
      expect(notes).toEqual([]);
      expect(kept.sort()).toEqual([...changed.keys()].sort());
    }
    expect(actual.files.slice(0, MAX_FILE_ROWS).some((row) => !folded.model.files.has(row.path))).toBe(true);
    expect(actual.filesWithMisses).toBeGreaterThan(2 * MAX_FILE_ROWS);
  });
});

test.each(['coveragepy-json', 'istanbul-json'])(
  'streamed %s reads exactly what parsing the whole document reads',
  async (format) => {
    const files = sourceFiles(seededRandom(7), 300, 'src');
    const text = render[format](files);
    const path = join(dir, `whole.${format}`);
    writeFileSync(path, text);
    const streamed = await readReport(path);
    expect(streamed.format).toBe(format);
    const whole =
      format === 'coveragepy-json'
        ? parseCoveragePyJson(path, JSON.parse(text))
        : parseIstanbulJson(path, JSON.parse(text));
    const view = (report: typeof whole) =>
      [...report.files].map(([key, f]) => [
        key,
        [...f.lines],
        [...f.branches.entries()],
        f.statements && [...f.statements],
        f.functions && [...f.functions],
      ]);
    expect(view(streamed)).toEqual(view(whole));
    expect(streamed.files.size).toBe(300);
  },
);

test('TopRows keeps exactly the first rows in order, holding at most twice as many', () => {
  const rand = seededRandom(42);
  const top = new TopRows<{ path: string; missed: number; lines?: number[] }>(10, byMissedThenPath);
  const all: { path: string; missed: number }[] = [];
  let completed = 0;
  for (let i = 0; i < 500; i++) {
    const row = { path: `f${Math.floor(rand() * 1000)}-${i}`, missed: 1 + Math.floor(rand() * 6) };
    all.push(row);
    top.offer({ ...row }, (r) => {
      completed++;
      r.lines = [r.missed];
    });
  }
  const expected = all.sort(byMissedThenPath).slice(0, 10);
  const rows = top.rows();
  expect(rows.map((r) => r.path)).toEqual(expected.map((r) => r.path));
  expect(rows.map((r) => r.lines)).toEqual(expected.map((r) => [r.missed]));
  // Rows that could no longer make the list were not completed.
  expect(completed).toBeLessThan(200);
  expect(new TopRows<string>(0, (a, b) => a.localeCompare(b)).rows()).toEqual([]);
});

test('StringHashes tells new strings from known ones, across growth', () => {
  const set = new StringHashes();
  const added: boolean[] = [];
  for (let i = 0; i < 5000; i++) added.push(set.add(`src/pkg${i % 50}/module_${i}.py`));
  expect(added.every(Boolean)).toBe(true);
  for (let i = 0; i < 5000; i += 7) expect(set.add(`src/pkg${i % 50}/module_${i}.py`)).toBe(false);
  expect(set.add('')).toBe(true);
  expect(set.add('')).toBe(false);
  expect(set.add('src/pkg0/module_5000.py')).toBe(true);
});

test('a released array is zeroed and its room is cut again for the next file', () => {
  const pages = new ArrayPages((length) => new Uint32Array(length));
  const a = pages.cut(16);
  a.fill(7);
  pages.release(a);
  const b = pages.cut(16);
  expect(b.byteOffset).toBe(a.byteOffset);
  expect([...b]).toEqual(new Array(16).fill(0));
  // Not the last cut: left alone (it is garbage once dropped).
  const c = pages.cut(4);
  c.fill(3);
  pages.release(b);
  expect([...c]).toEqual([3, 3, 3, 3]);
  expect(pages.cut(4).byteOffset).toBe(c.byteOffset + 16);
});

test('LineHits lists its missing lines, dense or sparse, and empties on release', () => {
  const dense = new LineHits([
    [3, 0],
    [1, 2],
    [7, 0],
  ]);
  expect(dense.missing()).toEqual([3, 7]);
  const sparse = new LineHits([
    [50_000_000, 0],
    [2, 0.5],
    [1, 0],
  ]);
  expect(sparse.missing()).toEqual([1, 50_000_000]);
  sparse.release();
  dense.release();
  expect(sparse.size + dense.size).toBe(0);
  expect([...dense.entries()]).toEqual([]);
});

test('a file folded from a detailed report is not counted again from a coverage-summary.json', async () => {
  const lcov = join(dir, 'lcov.info');
  writeFileSync(lcov, 'SF:src/a.js\nDA:1,1\nDA:2,0\nend_of_record\nSF:src/b.js\nDA:1,1\nend_of_record\n');
  const summary = join(dir, 'coverage-summary.json');
  writeFileSync(
    summary,
    JSON.stringify({
      total: { lines: { total: 12, covered: 2 } },
      'src/a.js': { lines: { total: 2, covered: 1 } },
      'src/c.js': { lines: { total: 10, covered: 1 } },
    }),
  );
  const loaded = await loadReports([lcov, summary], undefined, context, '/ws', new Set(), [], () => undefined);
  const reference = await readEverything([lcov, summary], undefined);
  // a.js once (from the LCOV), b.js, and c.js known only from the summary.
  expect(modelTotals(loaded.model).lines).toEqual({ covered: 3, total: 13 });
  expect(modelTotals(loaded.model)).toEqual(modelTotals(reference.model));
});
