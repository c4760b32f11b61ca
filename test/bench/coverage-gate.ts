// Benchmark of coverage-gate against the libraries other coverage actions use, in one run on the same generated
// reports: Cobertura XML (ours vs fast-xml-parser and xml2js, which build the whole document) and LCOV (ours vs
// lcov-parse). Each runs in a child process of its own so its peak memory (max RSS) is its own; each child prints
// the lines and branches it counted, so the table also shows that every one read the same numbers. Ours is the
// whole reading, merging, evaluation and summary of the action, not only its parser.
// Writes test/bench/coverage-gate.md. Run: npx tsx test/bench/coverage-gate.ts [files×lines-per-file …]
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mb, median, runBenchChild, sameTotals, zeroTotals, type Totals } from '../support/bench-child.js';
import { seededRandom } from '../support/random.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = fileURLToPath(import.meta.url);

/** What each child prints on its last line. */
interface ChildResult {
  parser: string;
  totals: Totals;
  parseMs: number;
  maxRssKb: number;
  /** Heap and array buffers still in use after parsing and a full GC (our children only). */
  keptBytes?: number;
}

// ---------------------------------------------------------------------------------------------------- child
/** Loads the parser's modules, then returns the timed part: read, parse and count. */
async function prepare(parser: string, file: string): Promise<() => Promise<Totals>> {
  const zero = zeroTotals;
  switch (parser) {
    case 'idle':
      return async () => zero();
    case 'idle-gate':
      // What our children load before their timed part, and nothing else.
      await import('../../actions/coverage-gate/main.js');
      await import('../../actions/coverage-gate/gate.js');
      await import('../../actions/coverage-gate/rounding.js');
      await import('../../actions/coverage-gate/summary.js');
      return async () => zero();
    case 'ours-cobertura':
    case 'ours-lcov':
    case 'ours-cobertura-twice':
    case 'ours-lcov-twice': {
      // What the action does with its reports: read them (folding the files whose lines are not needed), merge,
      // evaluate the gate and render the summary. Only the runner's I/O is left out.
      const { loadReports } = await import('../../actions/coverage-gate/main.js');
      const { evaluateGate } = await import('../../actions/coverage-gate/gate.js');
      const { parseDecimal } = await import('../../actions/coverage-gate/rounding.js');
      const { renderSummary } = await import('../../actions/coverage-gate/summary.js');
      const format = parser.startsWith('ours-lcov') ? 'lcov' : 'cobertura';
      // '-twice' gives the same report twice: every file is listed twice, so every file's lines are kept to be
      // merged (after a first reading that finds that out): the gate's worst case.
      const reports = parser.endsWith('-twice') ? [file, file] : [file];
      // The report's files are in the checkout, as in a real run (so none is listed as unmatched).
      const context = {
        workspace: dirname(file),
        workingDirectory: '',
        sourceRoots: [],
        stripPrefixes: [],
        exists: () => true,
      };
      return async () => {
        const loaded = await loadReports(reports, format, context, dirname(file), new Set(), [], () => undefined);
        const result = evaluateGate(
          { model: loaded.model, reports: loaded.reports, unmatched: loaded.unmatched },
          { metric: 'auto', threshold: parseDecimal('90')!, rounding: 'none', precision: 2, pathThresholds: [] },
        );
        const summary = renderSummary(result);
        // Kept reachable so that the child can measure what the gate holds after a full GC.
        (globalThis as { coverageModel?: unknown }).coverageModel = { loaded, result, summary };
        return {
          lines: result.totals.lines.total,
          covered: result.totals.lines.covered,
          branches: result.totals.branches.total,
          branchesCovered: result.totals.branches.covered,
        };
      };
    }
    case 'fast-xml-parser': {
      const { XMLParser } = await import('fast-xml-parser');
      return async () => {
        const options = {
          ignoreAttributes: false,
          attributeNamePrefix: '',
          isArray: (name: string) => ['package', 'class', 'line'].includes(name),
        };
        const doc = new XMLParser(options).parse(readFileSync(file, 'utf8'));
        return countCobertura(
          doc.coverage.packages.package.flatMap((p: { classes: { class: unknown[] } }) => p.classes.class),
          (l) => l as Record<string, string>,
        );
      };
    }
    case 'xml2js': {
      const { parseStringPromise } = await import('xml2js');
      return async () => {
        const doc = await parseStringPromise(readFileSync(file, 'utf8'));
        return countCobertura(
          doc.coverage.packages[0].package.flatMap((p: { classes: { class: unknown[] }[] }) => p.classes[0].class),
          (l) => (l as { $: Record<string, string> }).$,
        );
      };
    }
    case 'lcov-parse': {
      // lcov-parse ships no types; a computed specifier keeps TypeScript from asking for them.
      const lcovParse = 'lcov-parse';
      const parse = ((await import(lcovParse)) as { default: unknown }).default as (
        f: string,
        cb: (e: unknown, d: LcovParseFile[]) => void,
      ) => void;
      return async () => {
        const data = await new Promise<LcovParseFile[]>((resolve, reject) =>
          parse(file, (e, d) => (e ? reject(e) : resolve(d))),
        );
        const totals = zero();
        for (const f of data) {
          totals.lines += f.lines.details.length;
          totals.covered += f.lines.details.filter((d) => d.hit > 0).length;
          totals.branches += f.branches.details.length;
          totals.branchesCovered += f.branches.details.filter((d) => d.taken > 0).length;
        }
        return totals;
      };
    }
    default:
      throw new Error(`unknown parser ${parser}`);
  }
}

async function child(parser: string, file: string): Promise<void> {
  const timed = await prepare(parser, file);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  const started = performance.now();
  const kept = await timed();
  const parseMs = performance.now() - started;
  const result: ChildResult = { parser, totals: kept, parseMs, maxRssKb: process.resourceUsage().maxRSS };
  if (gc) {
    // What the parsed model itself keeps once the garbage is collected (ours keep the model alive until here).
    gc();
    const after = process.memoryUsage();
    result.keptBytes = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
  }
  console.log(JSON.stringify(result));
}

interface LcovParseFile {
  lines: { details: { hit: number }[] };
  branches: { details: { taken: number }[] };
}

function countCobertura(classes: unknown[], attributes: (line: unknown) => Record<string, string>): Totals {
  const totals = { lines: 0, covered: 0, branches: 0, branchesCovered: 0 };
  for (const c of classes as { lines: unknown }[]) {
    const linesElement = c.lines as { line?: unknown[] } | { line?: unknown[] }[] | '';
    const lines = Array.isArray(linesElement) ? (linesElement[0]?.line ?? []) : ((linesElement || {}).line ?? []);
    for (const line of lines) {
      const a = attributes(line);
      totals.lines++;
      if (Number(a.hits) > 0) totals.covered++;
      const m = a['condition-coverage'] && /\((\d+)\/(\d+)\)/.exec(a['condition-coverage']);
      if (m) {
        totals.branchesCovered += Number(m[1]);
        totals.branches += Number(m[2]);
      }
    }
  }
  return totals;
}

// ------------------------------------------------------------------------------------------------- generate
/** A deterministic generator, so every run measures the same files. */
async function writeStream(
  path: string,
  produce: (write: (text: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  const write = async (text: string): Promise<void> => {
    buffer += text;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffer = '';
    }
  };
  await produce(write);
  out.write(buffer);
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

async function generate(
  dir: string,
  files: number,
  linesPerFile: number,
): Promise<{ cobertura: string; lcov: string; expected: Totals }> {
  const rnd = seededRandom(42);
  const plan: { hits: number; branch?: [number, number] }[][] = [];
  const expected: Totals = { lines: 0, covered: 0, branches: 0, branchesCovered: 0 };
  for (let f = 0; f < files; f++) {
    const lines: { hits: number; branch?: [number, number] }[] = [];
    for (let l = 0; l < linesPerFile; l++) {
      const hits = rnd() < 0.85 ? 1 + Math.floor(rnd() * 50) : 0;
      const branch: [number, number] | undefined =
        rnd() < 0.1 ? [hits > 0 ? 1 + Math.floor(rnd() * 2) : 0, 2] : undefined;
      lines.push({ hits, branch });
      expected.lines++;
      if (hits > 0) expected.covered++;
      if (branch) {
        expected.branches += branch[1];
        expected.branchesCovered += branch[0];
      }
    }
    plan.push(lines);
  }
  const cobertura = join(dir, 'coverage.xml');
  await writeStream(cobertura, async (write) => {
    await write(
      '<?xml version="1.0" ?>\n<coverage version="6.5.0" line-rate="0.85" branch-rate="0.5">\n\t<sources>\n\t\t<source>/home/runner/work/app/app</source>\n\t</sources>\n\t<packages>\n',
    );
    for (let f = 0; f < files; f++) {
      if (f % 100 === 0)
        await write(
          `${f > 0 ? '\t\t\t</classes>\n\t\t</package>\n' : ''}\t\t<package name="pkg${f / 100}" line-rate="0.85" branch-rate="0.5">\n\t\t\t<classes>\n`,
        );
      await write(
        `\t\t\t\t<class name="m${f}.py" filename="pkg${Math.floor(f / 100)}/m${f}.py" line-rate="0.85" branch-rate="0.5">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n`,
      );
      let text = '';
      plan[f].forEach((line, i) => {
        const branch = line.branch
          ? ` branch="true" condition-coverage="${Math.round((100 * line.branch[0]) / line.branch[1])}% (${line.branch[0]}/${line.branch[1]})"`
          : '';
        text += `\t\t\t\t\t\t<line number="${i + 1}" hits="${line.hits}"${branch}/>\n`;
      });
      await write(`${text}\t\t\t\t\t</lines>\n\t\t\t\t</class>\n`);
    }
    await write('\t\t\t</classes>\n\t\t</package>\n\t</packages>\n</coverage>\n');
  });
  const lcov = join(dir, 'lcov.info');
  await writeStream(lcov, async (write) => {
    for (let f = 0; f < files; f++) {
      await write(`TN:\nSF:pkg${Math.floor(f / 100)}/m${f}.js\n`);
      let text = '';
      plan[f].forEach((line, i) => {
        text += `DA:${i + 1},${line.hits}\n`;
        if (line.branch)
          text += `BRDA:${i + 1},0,0,${line.branch[0] >= 1 ? 1 : line.hits > 0 ? 0 : '-'}\nBRDA:${i + 1},0,1,${line.branch[0] >= 2 ? 1 : line.hits > 0 ? 0 : '-'}\n`;
      });
      await write(`${text}LF:${plan[f].length}\nLH:${plan[f].filter((l) => l.hits > 0).length}\nend_of_record\n`);
    }
  });
  return { cobertura, lcov, expected };
}

// --------------------------------------------------------------------------------------------------- parent
function runChild(parser: string, file: string): ChildResult | { parser: string; error: string } {
  // The libraries that build a whole document get a heap big enough for it; ours runs with Node's default.
  const heap = parser.startsWith('ours') ? [] : ['--max-old-space-size=16384'];
  const result = runBenchChild<ChildResult>(self, [parser, file], heap);
  return 'error' in result ? { parser, error: result.error } : result;
}

interface Run {
  format: string;
  size: number;
  result: ReturnType<typeof runChild>;
}

/** One generated size: its reports and every parser's run on them. */
interface SizeResult {
  files: number;
  linesPerFile: number;
  sizes: { cobertura: number; lcov: number };
  expected: Totals;
  generationS: number;
  runs: Run[];
}

/**
 * 500 000, 2 000 000 and 5 000 000 lines (50 000 files, a ~200 MB Cobertura file), then 5 000 000 lines in 5 000
 * files: memory against lines at a fixed number of files. Or `files×lines` arguments.
 */
const DEFAULT_SIZES: [number, number][] = [
  [5_000, 100],
  [20_000, 100],
  [50_000, 100],
  [5_000, 1_000],
];

function medianRss(runs: ReturnType<typeof runChild>[]): number {
  return median(runs.flatMap((r) => ('maxRssKb' in r ? [r.maxRssKb] : [])));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).map((a) => a.split(/[x×]/).map(Number) as [number, number]);
  const plan = args.length > 0 ? args : DEFAULT_SIZES;
  // An empty child: what tsx and Node themselves take, so the parsers' own memory can be read off.
  // Each idle child three times: its max RSS varies by several MB from run to run; the median is used.
  const idle = medianRss(['idle', 'idle', 'idle'].map((p) => runChild(p, self)));
  const idleGate = medianRss(['idle-gate', 'idle-gate', 'idle-gate'].map((p) => runChild(p, self)));
  const results: SizeResult[] = [];
  for (const [files, linesPerFile] of plan) {
    const dir = mkdtempSync(join(os.tmpdir(), 'coverage-gate-bench-'));
    try {
      const t0 = performance.now();
      const { cobertura, lcov, expected } = await generate(dir, files, linesPerFile);
      const generationS = (performance.now() - t0) / 1000;
      const sizes = { cobertura: statSync(cobertura).size, lcov: statSync(lcov).size };
      console.log(
        `generated ${files} files × ${linesPerFile} lines in ${generationS.toFixed(1)} s: Cobertura ${mb(sizes.cobertura)} MB, LCOV ${mb(sizes.lcov)} MB`,
      );
      const runs: Run[] = [];
      for (const parser of ['ours-cobertura', 'ours-cobertura-twice', 'fast-xml-parser', 'xml2js']) {
        console.log(`cobertura: ${parser}…`);
        runs.push({ format: 'Cobertura', size: sizes.cobertura, result: runChild(parser, cobertura) });
      }
      for (const parser of ['ours-lcov', 'ours-lcov-twice', 'lcov-parse']) {
        console.log(`lcov: ${parser}…`);
        runs.push({ format: 'LCOV', size: sizes.lcov, result: runChild(parser, lcov) });
      }
      results.push({ files, linesPerFile, sizes, expected, generationS, runs });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  writeFileSync(join(here, 'coverage-gate.md'), report(idle, idleGate, results));
  console.log(readFileSync(join(here, 'coverage-gate.md'), 'utf8'));
}

const lineCount = (r: SizeResult): number => r.files * r.linesPerFile;

function report(idleRss: number, idleGateRss: number, results: SizeResult[]): string {
  const ours = (parser: string): boolean => parser.startsWith('ours');
  const aboveIdle = (c: ChildResult): number => (c.maxRssKb - (ours(c.parser) ? idleGateRss : idleRss)) / 1024;
  const rows: string[] = [];
  const verdicts: string[] = [];
  for (const r of results) {
    const lines = `${lineCount(r).toLocaleString('en')} (${r.files.toLocaleString('en')} files)`;
    for (const { format, size, result } of r.runs) {
      if ('error' in result) {
        rows.push(
          `| ${lines} | ${format} ${mb(size)} MB | ${result.parser} | did not finish (${result.error.replace(/\|/g, '/')}) | | | | | |`,
        );
        continue;
      }
      const t = result.totals;
      const same = sameTotals(t, r.expected);
      const kept = result.keptBytes === undefined || !ours(result.parser) ? '' : mb(result.keptBytes);
      rows.push(
        `| ${lines} | ${format} ${mb(size)} MB | ${result.parser} | ${(result.parseMs / 1000).toFixed(2)} | ${(size / 1024 / 1024 / (result.parseMs / 1000)).toFixed(1)} | ${(result.maxRssKb / 1024).toFixed(0)} | ${aboveIdle(result).toFixed(0)} | ${kept} | ${same ? '✓' : `✗ ${t.covered}/${t.lines} lines, ${t.branchesCovered}/${t.branches} branches`} |`,
      );
    }
    for (const format of ['Cobertura', 'LCOV']) {
      const single = r.runs.find((x) => x.format === format && /^ours-[a-z]+$/.test(x.result.parser));
      const finished = r.runs
        .filter((x) => x.format === format && !ours(x.result.parser))
        .map((x) => x.result)
        .filter((o): o is ChildResult => !('error' in o));
      if (!single || 'error' in single.result || finished.length === 0) continue;
      const fastest = finished.reduce((a, b) => (a.parseMs < b.parseMs ? a : b));
      const leanest = finished.reduce((a, b) => (a.maxRssKb < b.maxRssKb ? a : b));
      verdicts.push(
        `- ${lineCount(r).toLocaleString('en')} lines in ${r.files.toLocaleString('en')} files, ${format} (${mb(single.size)} MB): ${(fastest.parseMs / single.result.parseMs).toFixed(1)}× faster than the fastest library (${fastest.parser}); ` +
          `peak memory ${aboveIdle(single.result).toFixed(0)} MB above idle (${((100 * aboveIdle(single.result) * 1024 * 1024) / single.size).toFixed(0)} % of the file) against ${aboveIdle(leanest).toFixed(0)} MB for the leanest library (${leanest.parser}).`,
      );
    }
  }
  const scaling = growth(results);
  const sizes = results
    .map(
      (r) =>
        `${r.files.toLocaleString('en')} files × ${r.linesPerFile} lines = ${lineCount(r).toLocaleString('en')} lines (Cobertura ${mb(r.sizes.cobertura)} MB, LCOV ${mb(r.sizes.lcov)} MB, generated in ${r.generationS.toFixed(0)} s; expected ${r.expected.covered}/${r.expected.lines} lines, ${r.expected.branchesCovered}/${r.expected.branches} branches)`,
    )
    .join('; ');
  return `# coverage-gate parser benchmark

Measured by \`test/bench/coverage-gate.ts\` (\`npm run bench\`), ${new Date().toISOString().slice(0, 10)}, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.

## Method
- Generated in a temporary directory from a fixed seed, at ${results.length} sizes: ${sizes}. 85 % of lines covered, one line in ten with two branches.
  The same coverage is written as Cobertura XML as coverage.py writes it and as LCOV.
- Each parser runs alone in a fresh child process (\`node --expose-gc --import tsx\`), one after another. Time is measured
  inside the child around the work (module loading excluded, garbage collected before); peak memory is the child's max RSS
  (\`process.resourceUsage().maxRSS\`).
- Ours (\`ours-cobertura\`, \`ours-lcov\`): everything the action does with its reports, not only the parser: \`loadReports\` of
  actions/coverage-gate/main.ts (streamed 64 KiB reads through our XML scanner / line reader, each file folded into its
  counts when its parser is done with it), then the gate's evaluation and the rendered job summary. Node's default heap.
  \`-twice\` rows give the same report twice, so every file is listed twice: the gate finds that out in a first reading,
  then reads both again keeping every file's lines to merge them line by line: our worst case, shown for what it costs.
- fast-xml-parser ${pkgVersion('fast-xml-parser')} and xml2js ${pkgVersion('xml2js')} (what cobertura-action-style tools use) and lcov-parse ${pkgVersion('lcov-parse')}
  (what LCOV-reading actions use) read the whole file and build the whole document, then the child counts lines and
  branches from it; they get a 16 GiB heap so they can finish.
- "Above idle" subtracts the median max RSS of three children that load and parse nothing: ${(idleRss / 1024).toFixed(0)} MB (Node plus tsx) for the
  libraries, ${(idleGateRss / 1024).toFixed(0)} MB (the same plus the gate's modules) for ours. Idle children vary by several MB from run to run,
  so a few MB above idle (or a small negative number) means "within noise".
- "Kept" (ours only): heap plus array buffers still in use after the work and a full garbage collection, minus before:
  what the gate holds (its model, result and summary) when it has decided.
- ✓ means the child counted exactly the expected lines, covered lines, branches and covered branches.

## Results

| lines | report | parser | time (s) | throughput (MB/s) | peak RSS (MB) | above idle (MB) | kept (MB) | totals |
| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

${verdicts.join('\n')}

## How our memory grows with the report

${scaling.join('\n')}

With one report (or reports that do not share files) the gate keeps per-line counts only for the file being read and
for the files a pull request changes; every other file is folded into its counts (lines, branches, statements,
functions, missed lines) when its parser closes it, and its arrays go back to the page the next file is written on.
The missing lines of the files the summary can list (the 100 with the most missed lines) are kept aside. What stays
per file is two 53-bit hashes of its path in typed arrays (to notice a file listed twice, and to count each path not
found in the checkout once); each package keeps one sum. So memory stays flat as reports grow in lines ("more lines"
above) and grows by tens of bytes per file kept, a few hundred at peak ("more files"). Nothing grows with the size of
the XML or LCOV text: no chunk, line or attribute string outlives its 64 KiB read. The rest of the peak is garbage not
yet collected, mostly V8's young generation.

When files are listed twice (the same file in two reports, or twice in one), their lines must be merged line by line,
so the gate reads the reports again keeping those files' lines: the \`-twice\` rows, where that is every file, show the
price: each report read twice (four readings of the file here, against one), the merge, and the per-line model (hits as 4 bytes a line, branches as 16 bytes per line that
has branches plus 4 per branch, in typed arrays cut from shared 1 MiB pages).
The libraries hold the whole file as a string and then the whole document tree.

A benchmark, not a test: the numbers vary with the machine and its load (this machine is shared by other jobs); no test asserts a time.
`;
}

/**
 * How our memory grows: between the two sizes furthest apart with the same lines per file (more files), and
 * between the two with the same number of files (more lines per file).
 */
function growth(results: SizeResult[]): string[] {
  const lines: string[] = [];
  for (const unit of ['line', 'file'] as const) {
    const pairs: [SizeResult, SizeResult][] = [];
    for (const a of results) {
      for (const b of results) {
        if (unit === 'line' && a.files === b.files && b.linesPerFile > a.linesPerFile) pairs.push([a, b]);
        if (unit === 'file' && a.linesPerFile === b.linesPerFile && b.files > a.files) pairs.push([a, b]);
      }
    }
    const widest = pairs.sort((x, y) => lineCount(y[1]) - lineCount(y[0]) - (lineCount(x[1]) - lineCount(x[0])))[0];
    if (!widest) continue;
    const [a, b] = widest;
    const added = unit === 'line' ? lineCount(b) - lineCount(a) : b.files - a.files;
    for (const parser of ['ours-cobertura', 'ours-lcov', 'ours-cobertura-twice', 'ours-lcov-twice']) {
      const x = a.runs.find((run) => run.result.parser === parser)?.result;
      const y = b.runs.find((run) => run.result.parser === parser)?.result;
      if (!x || !y || 'error' in x || 'error' in y) continue;
      lines.push(
        `- ${parser}, ${a.files.toLocaleString('en')} × ${a.linesPerFile} → ${b.files.toLocaleString('en')} × ${b.linesPerFile} lines (more ${unit}s): ` +
          `peak RSS ${(x.maxRssKb / 1024).toFixed(0)} → ${(y.maxRssKb / 1024).toFixed(0)} MB (${(((y.maxRssKb - x.maxRssKb) * 1024) / added).toFixed(1)} bytes per added ${unit}), ` +
          `kept ${mb(x.keptBytes ?? 0)} → ${mb(y.keptBytes ?? 0)} MB (${(((y.keptBytes ?? 0) - (x.keptBytes ?? 0)) / added).toFixed(1)} bytes per added ${unit}).`,
      );
    }
  }
  return lines;
}

function pkgVersion(name: string): string {
  try {
    return (
      JSON.parse(readFileSync(join(here, '../../node_modules', name, 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return '';
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  await main();
}
