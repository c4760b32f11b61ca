// Benchmark of coverage-gate on Istanbul's coverage-final.json (what jest, nyc, c8 and vitest write) against what
// the JSON-reading coverage actions do: read the file into one string and JSON.parse it. One generated report per
// size, each reader in a child process of its own (peak memory = its max RSS); each child prints the lines and
// branches it counted, so the table also shows that both read the same numbers. The largest size is above V8's
// longest string (~512 MiB), which no reader that holds the whole file as a string can take.
// Writes test/bench/coverage-gate-json.md. Run: npx tsx test/bench/coverage-gate-json.ts [files×statements …]
import { constants } from 'node:buffer';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mb, median, runBenchChild, sameTotals, zeroTotals, type Totals } from '../support/bench-child.js';
import { seededRandom } from '../support/random.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = fileURLToPath(import.meta.url);

interface ChildResult {
  reader: string;
  totals: Totals;
  ms: number;
  maxRssKb: number;
}

type Outcome = ChildResult | { reader: string; error: string };

// ---------------------------------------------------------------------------------------------------- child
interface IstanbulFile {
  statementMap: Record<string, { start: { line: number } }>;
  s: Record<string, number>;
  b: Record<string, number[]>;
}

async function prepare(reader: string, file: string): Promise<() => Promise<Totals>> {
  const zero = zeroTotals;
  switch (reader) {
    case 'idle':
      return async () => zero();
    case 'idle-gate':
      await import('../../actions/coverage-gate/main.js');
      await import('../../actions/coverage-gate/gate.js');
      return async () => zero();
    case 'ours': {
      // What the action does with the report: read it (streamed, each file folded into its counts), then decide.
      const { loadReports } = await import('../../actions/coverage-gate/main.js');
      const { evaluateGate } = await import('../../actions/coverage-gate/gate.js');
      const { parseDecimal } = await import('../../actions/coverage-gate/rounding.js');
      const { renderSummary } = await import('../../actions/coverage-gate/summary.js');
      const context = {
        workspace: '/ws',
        workingDirectory: '',
        sourceRoots: [],
        stripPrefixes: [],
        exists: () => true,
      };
      return async () => {
        const loaded = await loadReports([file], undefined, context, dirname(file), new Set(), [], () => undefined);
        const result = evaluateGate(
          { model: loaded.model, reports: loaded.reports, unmatched: loaded.unmatched },
          { metric: 'line', threshold: parseDecimal('90')!, rounding: 'none', precision: 2, pathThresholds: [] },
        );
        renderSummary(result);
        return {
          lines: result.totals.lines.total,
          covered: result.totals.lines.covered,
          branches: result.totals.branches.total,
          branchesCovered: result.totals.branches.covered,
        };
      };
    }
    case 'JSON.parse':
      return async () => {
        const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, IstanbulFile>;
        const totals = zero();
        for (const entry of Object.values(data)) {
          // Istanbul's lines: a line's hits are the highest of the statements starting on it.
          const lines = new Map<number, number>();
          for (const [id, loc] of Object.entries(entry.statementMap)) {
            lines.set(loc.start.line, Math.max(lines.get(loc.start.line) ?? 0, entry.s[id]));
          }
          totals.lines += lines.size;
          for (const hits of lines.values()) if (hits > 0) totals.covered++;
          for (const hits of Object.values(entry.b)) {
            totals.branches += hits.length;
            totals.branchesCovered += hits.filter((h) => h > 0).length;
          }
        }
        return totals;
      };
    default:
      throw new Error(`unknown reader ${reader}`);
  }
}

async function child(reader: string, file: string): Promise<void> {
  const timed = await prepare(reader, file);
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const totals = await timed();
  const result: ChildResult = {
    reader,
    totals,
    ms: performance.now() - started,
    maxRssKb: process.resourceUsage().maxRSS,
  };
  console.log(JSON.stringify(result));
}

// --------------------------------------------------------------------------------------------------- parent
/** coverage-final.json as jest writes it: per file statementMap/s, fnMap/f, branchMap/b. */
async function generate(path: string, files: number, statements: number): Promise<Totals> {
  const rnd = seededRandom(42);
  const expected: Totals = { lines: 0, covered: 0, branches: 0, branchesCovered: 0 };
  const out = createWriteStream(path);
  const write = async (text: string): Promise<void> => {
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  const loc = (line: number, column: number) =>
    `{"start":{"line":${line},"column":${column}},"end":{"line":${line},"column":${column + 24}}}`;
  await write('{');
  for (let f = 0; f < files; f++) {
    const name = `/home/runner/work/app/app/src/pkg${Math.floor(f / 100)}/module${f}.js`;
    const statementMap: string[] = [];
    const s: string[] = [];
    const branchMap: string[] = [];
    const b: string[] = [];
    for (let i = 0; i < statements; i++) {
      const line = i + 1;
      const hits = rnd() < 0.85 ? 1 + Math.floor(rnd() * 50) : 0;
      statementMap.push(`"${i}":${loc(line, 4)}`);
      s.push(`"${i}":${hits}`);
      expected.lines++;
      if (hits > 0) expected.covered++;
      if (rnd() < 0.1) {
        const taken = hits > 0 ? [1 + Math.floor(rnd() * 5), rnd() < 0.5 ? 0 : 2] : [0, 0];
        const id = branchMap.length;
        branchMap.push(
          `"${id}":{"loc":${loc(line, 4)},"type":"if","locations":[${loc(line, 8)},${loc(line, 40)}],"line":${line}}`,
        );
        b.push(`"${id}":[${taken.join(',')}]`);
        expected.branches += 2;
        expected.branchesCovered += taken.filter((t) => t > 0).length;
      }
    }
    const fn = `"0":{"name":"main","decl":${loc(1, 9)},"loc":${loc(1, 0)},"line":1}`;
    await write(
      `${f > 0 ? ',' : ''}${JSON.stringify(name)}:{"path":${JSON.stringify(name)},"statementMap":{${statementMap.join(',')}},"fnMap":{${fn}},"branchMap":{${branchMap.join(',')}},"s":{${s.join(',')}},"f":{"0":1},"b":{${b.join(',')}}}`,
    );
  }
  await write('}\n');
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return expected;
}

function runChild(reader: string, file: string): Outcome {
  // JSON.parse gets a heap as large as it may want; ours runs with Node's default.
  const heap = reader === 'JSON.parse' ? ['--max-old-space-size=16384'] : [];
  const result = runBenchChild<ChildResult>(self, [reader, file], heap);
  return 'error' in result ? { reader, error: result.error } : result;
}

/** 500 000, 2 000 000 and 8 000 000 statements; the last file is above V8's longest string. */
const DEFAULT_SIZES: [number, number][] = [
  [5_000, 100],
  [20_000, 100],
  [80_000, 100],
];

interface SizeRun {
  files: number;
  statements: number;
  bytes: number;
  expected: Totals;
  runs: Outcome[];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).map((a) => a.split(/[x×]/).map(Number) as [number, number]);
  const plan = args.length > 0 ? args : DEFAULT_SIZES;
  const idle = median(
    ['idle', 'idle', 'idle'].map((r) => runChild(r, self)).map((r) => ('maxRssKb' in r ? r.maxRssKb : 0)),
  );
  const idleGate = median(
    ['idle-gate', 'idle-gate', 'idle-gate']
      .map((r) => runChild(r, self))
      .map((r) => ('maxRssKb' in r ? r.maxRssKb : 0)),
  );
  const sizes: SizeRun[] = [];
  for (const [files, statements] of plan) {
    const dir = mkdtempSync(join(os.tmpdir(), 'coverage-gate-json-bench-'));
    try {
      const path = join(dir, 'coverage-final.json');
      const expected = await generate(path, files, statements);
      const bytes = statSync(path).size;
      console.log(`generated ${files} files × ${statements} statements: ${mb(bytes)} MB`);
      const runs = ['ours', 'JSON.parse'].map((reader) => {
        console.log(`${reader}…`);
        return runChild(reader, path);
      });
      sizes.push({ files, statements, bytes, expected, runs });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  writeFileSync(join(here, 'coverage-gate-json.md'), report(idle, idleGate, sizes));
  console.log(readFileSync(join(here, 'coverage-gate-json.md'), 'utf8'));
}

function report(idleRss: number, idleGateRss: number, sizes: SizeRun[]): string {
  const rows: string[] = [];
  for (const size of sizes) {
    const label = `${(size.files * size.statements).toLocaleString('en')} (${size.files.toLocaleString('en')} files) | ${mb(size.bytes)} MB`;
    for (const run of size.runs) {
      if ('error' in run) {
        rows.push(`| ${label} | ${run.reader} | did not finish: ${run.error.replace(/\|/g, '/')} | | | | |`);
        continue;
      }
      const t = run.totals;
      const e = size.expected;
      const same = sameTotals(t, e);
      const above = (run.maxRssKb - (run.reader === 'ours' ? idleGateRss : idleRss)) / 1024;
      rows.push(
        `| ${label} | ${run.reader} | ${(run.ms / 1000).toFixed(2)} | ${(size.bytes / 1024 / 1024 / (run.ms / 1000)).toFixed(1)} | ${(run.maxRssKb / 1024).toFixed(0)} | ${above.toFixed(0)} | ${same ? '✓' : `✗ ${t.covered}/${t.lines} lines, ${t.branchesCovered}/${t.branches} branches`} |`,
      );
    }
  }
  return `# coverage-gate on Istanbul coverage-final.json

Measured by \`test/bench/coverage-gate-json.ts\` (\`npm run bench\`), ${new Date().toISOString().slice(0, 10)}, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.

## Method
- coverage-final.json generated in a temporary directory from a fixed seed as jest writes it (statementMap/s, fnMap/f,
  branchMap/b per file; 85 % of statements covered, one in ten with a two-way branch), at ${sizes.length} sizes.
- Each reader runs alone in a fresh child process (\`node --expose-gc --import tsx\`). Time is measured inside the child
  around the work (module loading excluded); peak memory is the child's max RSS.
- ours: what coverage-gate does with the report: \`loadReports\` (the file streamed in 64 KiB reads, each file entry cut
  out of the bytes and parsed on its own, then folded into its counts), the gate's evaluation and the job summary.
  Node's default heap.
- JSON.parse: what JSON-reading coverage actions do (read the file into one string, \`JSON.parse\` it), then count lines
  (Istanbul's rule: a line's hits are the highest of the statements starting on it) and branches from the document;
  a 16 GiB heap. V8's longest string is ${constants.MAX_STRING_LENGTH.toLocaleString('en')} characters, so a larger file cannot be read this way at all.
- "Above idle" subtracts the median max RSS of three children that load and read nothing: ${(idleRss / 1024).toFixed(0)} MB for JSON.parse,
  ${(idleGateRss / 1024).toFixed(0)} MB (with the gate's modules) for ours.
- ✓: the reader counted exactly the generated lines, covered lines, branches and covered branches.

## Results

| statements | file | reader | time (s) | throughput (MB/s) | peak RSS (MB) | above idle (MB) | totals |
| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

A benchmark, not a test: the numbers vary with the machine and its load; no test asserts a time.
`;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  await main();
}
