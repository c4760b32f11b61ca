// Benchmark of the coverage-gate parsers against the libraries other coverage actions use, in one run on the
// same generated reports: Cobertura XML (ours vs fast-xml-parser and xml2js, which build the whole document)
// and LCOV (ours vs lcov-parse). Each parser runs in a child process of its own so its peak memory (max RSS)
// is its own; each child parses the file, counts lines and branches the same way, and prints its totals, so the
// table also shows that every parser read the same numbers.
// Writes test/bench/coverage-gate.md. Run: npx tsx test/bench/coverage-gate.ts [files lines-per-file]
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = fileURLToPath(import.meta.url);

interface Totals {
  lines: number;
  covered: number;
  branches: number;
  branchesCovered: number;
}

/** What each child prints on its last line. */
interface ChildResult {
  parser: string;
  totals: Totals;
  parseMs: number;
  maxRssKb: number;
}

// ---------------------------------------------------------------------------------------------------- child
/** Loads the parser's modules, then returns the timed part: read, parse and count. */
async function prepare(parser: string, file: string): Promise<() => Promise<Totals>> {
  const zero = (): Totals => ({ lines: 0, covered: 0, branches: 0, branchesCovered: 0 });
  switch (parser) {
    case 'idle':
      return async () => zero();
    case 'ours-cobertura':
    case 'ours-lcov': {
      const { readReport } = await import('../../actions/coverage-gate/read-report.js');
      const { fileTotals } = await import('../../actions/coverage-gate/totals.js');
      return async () => {
        const report = await readReport(file, parser === 'ours-lcov' ? 'lcov' : 'cobertura');
        const totals = zero();
        for (const f of report.files.values()) {
          const t = fileTotals(f);
          totals.lines += t.lines.total;
          totals.covered += t.lines.covered;
          totals.branches += t.branches.total;
          totals.branchesCovered += t.branches.covered;
        }
        return totals;
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
  const started = performance.now();
  const totals = await timed();
  const parseMs = performance.now() - started;
  const result: ChildResult = { parser, totals, parseMs, maxRssKb: process.resourceUsage().maxRSS };
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
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

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
  const rnd = random(42);
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
const TIMEOUT_MS = 10 * 60_000;

function runChild(parser: string, file: string): ChildResult | { parser: string; error: string } {
  // The libraries that build a whole document get a heap big enough for it; ours runs with Node's default.
  const heap = parser.startsWith('ours') ? [] : ['--max-old-space-size=16384'];
  const result = spawnSync(process.execPath, [...heap, '--import', 'tsx', self, '--child', parser, file], {
    encoding: 'utf8',
    timeout: TIMEOUT_MS,
    maxBuffer: 1 << 24,
  });
  const last = result.stdout?.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !last.startsWith('{')) {
    const why = result.error?.message ?? (result.signal ? `killed by ${result.signal}` : `exit ${result.status}`);
    return { parser, error: `${why}: ${(result.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}` };
  }
  return JSON.parse(last) as ChildResult;
}

async function main(): Promise<void> {
  const files = Number(process.argv[2] ?? 20_000);
  const linesPerFile = Number(process.argv[3] ?? 100);
  const dir = mkdtempSync(join(os.tmpdir(), 'coverage-gate-bench-'));
  try {
    const t0 = performance.now();
    const { cobertura, lcov, expected } = await generate(dir, files, linesPerFile);
    const generationS = (performance.now() - t0) / 1000;
    const sizes = { cobertura: statSync(cobertura).size, lcov: statSync(lcov).size };
    console.log(
      `generated ${files} files × ${linesPerFile} lines in ${generationS.toFixed(1)} s: Cobertura ${mb(sizes.cobertura)} MB, LCOV ${mb(sizes.lcov)} MB`,
    );
    // An empty child: what tsx and Node themselves take, so the parsers' own memory can be read off.
    const idle = runChild('idle', lcov);
    const runs: { format: string; size: number; result: ReturnType<typeof runChild> }[] = [];
    for (const parser of ['ours-cobertura', 'fast-xml-parser', 'xml2js']) {
      console.log(`cobertura: ${parser}…`);
      runs.push({ format: 'Cobertura', size: sizes.cobertura, result: runChild(parser, cobertura) });
    }
    for (const parser of ['ours-lcov', 'lcov-parse']) {
      console.log(`lcov: ${parser}…`);
      runs.push({ format: 'LCOV', size: sizes.lcov, result: runChild(parser, lcov) });
    }
    writeFileSync(
      join(here, 'coverage-gate.md'),
      report({ files, linesPerFile, sizes, expected, idle, runs, generationS }),
    );
    console.log(readFileSync(join(here, 'coverage-gate.md'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

function report(r: {
  files: number;
  linesPerFile: number;
  sizes: { cobertura: number; lcov: number };
  expected: Totals;
  idle: ReturnType<typeof runChild>;
  runs: { format: string; size: number; result: ReturnType<typeof runChild> }[];
  generationS: number;
}): string {
  const idleRss = 'maxRssKb' in r.idle ? r.idle.maxRssKb : 0;
  const rows = r.runs.map(({ format, size, result }) => {
    if ('error' in result)
      return `| ${format} | ${result.parser} | did not finish (${result.error.replace(/\|/g, '/')}) | | | | |`;
    const t = result.totals;
    const same =
      t.lines === r.expected.lines &&
      t.covered === r.expected.covered &&
      t.branches === r.expected.branches &&
      t.branchesCovered === r.expected.branchesCovered;
    return `| ${format} | ${result.parser} | ${(result.parseMs / 1000).toFixed(2)} | ${(size / 1024 / 1024 / (result.parseMs / 1000)).toFixed(1)} | ${(result.maxRssKb / 1024).toFixed(0)} | ${((result.maxRssKb - idleRss) / 1024).toFixed(0)} | ${t.covered}/${t.lines} lines, ${t.branchesCovered}/${t.branches} branches${same ? ' ✓' : ' ✗ differs'} |`;
  });
  const speedups: string[] = [];
  for (const format of ['Cobertura', 'LCOV']) {
    const ours = r.runs.find((x) => x.format === format && x.result.parser.startsWith('ours'))?.result;
    const others = r.runs
      .filter((x) => x.format === format && !x.result.parser.startsWith('ours'))
      .map((x) => x.result);
    const finished = others.filter((o): o is ChildResult => !('error' in o));
    if (ours && !('error' in ours) && finished.length > 0) {
      const fastest = finished.reduce((a, b) => (a.parseMs < b.parseMs ? a : b));
      const leanest = finished.reduce((a, b) => (a.maxRssKb < b.maxRssKb ? a : b));
      speedups.push(
        `- ${format}: ${(fastest.parseMs / ours.parseMs).toFixed(1)}× faster than the fastest library (${fastest.parser}), ` +
          `peak memory ${((ours.maxRssKb - idleRss) / 1024).toFixed(0)} MB above an idle process against ${((leanest.maxRssKb - idleRss) / 1024).toFixed(0)} MB for the leanest library (${leanest.parser}).`,
      );
    }
  }
  return `# coverage-gate parser benchmark

Measured by \`test/bench/coverage-gate.ts\` (\`npm run bench\`), ${new Date().toISOString().slice(0, 10)}, on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.

## Method
- Generated in a temporary directory (${r.generationS.toFixed(0)} s), from a fixed seed: ${r.files.toLocaleString('en')} source files × ${r.linesPerFile} lines = ${(r.files * r.linesPerFile).toLocaleString('en')} lines, 85 % covered, one line in ten with two branches.
  The same coverage is written as Cobertura XML as coverage.py writes it (${mb(r.sizes.cobertura)} MB) and as LCOV (${mb(r.sizes.lcov)} MB).
- Each parser runs alone in a fresh child process (\`node --import tsx\`), one after another: it reads the file, parses it,
  and counts lines, covered lines, branches and covered branches. Time is measured inside the child around reading and
  parsing (module loading excluded); peak memory is the child's max RSS (\`process.resourceUsage().maxRSS\`).
  "Above idle" subtracts the max RSS of a child that loads nothing and parses nothing (${(idleRss / 1024).toFixed(0)} MB: Node plus tsx).
- Ours: \`readReport\` of actions/coverage-gate (streamed 64 KiB chunks through our XML scanner / line reader) with Node's
  default heap. fast-xml-parser ${pkgVersion('fast-xml-parser')} and xml2js ${pkgVersion('xml2js')} (what cobertura-action-style tools use) and lcov-parse ${pkgVersion('lcov-parse')}
  (what LCOV-reading actions use) read the whole file and build the whole document; they get a 16 GiB heap so they can finish.
- Expected totals: ${r.expected.covered}/${r.expected.lines} lines, ${r.expected.branchesCovered}/${r.expected.branches} branches; ✓ means the parser counted exactly these.

## Results

| format | parser | parse time (s) | throughput (MB/s) | peak RSS (MB) | above idle (MB) | totals read |
| --- | --- | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

${speedups.join('\n')}

Our peak memory is not the file: it is the per-line model the gate keeps (one 8-byte slot per line, the branches of
each line) so that reports can be merged line by line and changed lines looked up, plus garbage the collector has not
yet reclaimed; it grows with the number of lines, not with the size of the XML. The libraries hold the whole file as a
string and then the whole document tree.

A benchmark, not a test: the numbers vary with the machine and its load (this machine is shared by other jobs); no test asserts a time.
`;
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
