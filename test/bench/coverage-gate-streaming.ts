// Issue 14 item 10: the gate's hand-written streaming readers against well-kept streaming parsers, reader against
// reader on the same files: our XML scanner (actions/coverage-gate/formats/xml-scanner.ts) vs saxes, and our JSON
// member streamer (formats/json-members.ts) vs stream-json's streamObject. Both sides read the same 64 KiB chunks
// and count the same lines, covered lines, branches and covered branches, so the difference is the parser. Large
// Cobertura, JaCoCo (one line, as JaCoCo writes it) and Clover XML, Istanbul coverage-final.json, and the hostile
// cases: one attribute of 32 MB, one file entry of tens of MB. Each reader runs in a child process of its own.
// Writes test/bench/coverage-gate-streaming.md. Run: npm run bench coverage-gate-streaming
import {
  createReadStream,
  createWriteStream,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { attributeValue, scanXml, type XmlTag } from '../../actions/coverage-gate/formats/xml-scanner.js';
import { decodeChunks, readChunks } from '../../actions/coverage-gate/formats/read-chunks.js';
import { forEachJsonMember } from '../../actions/coverage-gate/formats/json-members.js';
import { mb, median, runBenchChild, sameTotals, zeroTotals, type Totals } from '../support/bench-child.js';

const self = fileURLToPath(import.meta.url);
const here = fileURLToPath(new URL('.', import.meta.url));
const RUNS = Number(process.env.RUNS ?? 3);
/** Peak RSS against the idle child, KiB in, whole MB out with its sign (a reading at or under idle is ±0). */
const above = (kib: number) => {
  const m = Math.round(kib / 1024);
  return m > 0 ? `+${m}` : m < 0 ? `${m}` : '±0';
};

type Format = 'cobertura' | 'jacoco' | 'clover' | 'istanbul';

interface ChildResult {
  totals: Totals;
  ms: number;
  maxRssKb: number;
}

/** Counts one <line> element's attributes into the totals, per format. */
function countLine(format: Format, attr: (name: string) => string | undefined, t: Totals): void {
  if (format === 'cobertura') {
    t.lines++;
    if (Number(attr('hits')) > 0) t.covered++;
    const cc = attr('condition-coverage');
    const m = cc ? /\((\d+)\/(\d+)\)/.exec(cc) : null;
    if (m) {
      t.branchesCovered += Number(m[1]);
      t.branches += Number(m[2]);
    }
  } else if (format === 'jacoco') {
    t.lines++;
    if (Number(attr('ci')) > 0) t.covered++;
    const cb = Number(attr('cb')) || 0;
    t.branches += cb + (Number(attr('mb')) || 0);
    t.branchesCovered += cb;
  } else {
    const type = attr('type');
    if (type === 'stmt') {
      t.lines++;
      if (Number(attr('count')) > 0) t.covered++;
    } else if (type === 'cond') {
      t.branches += 2;
      t.branchesCovered += (Number(attr('truecount')) > 0 ? 1 : 0) + (Number(attr('falsecount')) > 0 ? 1 : 0);
    }
  }
}

function countIstanbul(value: unknown, t: Totals): void {
  const entry = value as { s: Record<string, number>; b: Record<string, number[]> };
  for (const hits of Object.values(entry.s)) {
    t.lines++;
    if (hits > 0) t.covered++;
  }
  for (const arms of Object.values(entry.b)) {
    for (const hits of arms) {
      t.branches++;
      if (hits > 0) t.branchesCovered++;
    }
  }
}

async function read(reader: string, format: Format, file: string): Promise<Totals> {
  const t = zeroTotals();
  switch (reader) {
    case 'ours':
      if (format === 'istanbul') {
        await forEachJsonMember(
          file,
          readChunks(file),
          () => false,
          (_key, value) => countIstanbul(value, t),
        );
      } else {
        await scanXml(decodeChunks(readChunks(file)), {
          open: (tag: XmlTag) => {
            if (tag.name === 'line') countLine(format, (name) => attributeValue(tag, name), t);
          },
          close: () => undefined,
        });
      }
      return t;
    case 'saxes': {
      const { SaxesParser } = await import('saxes');
      const parser = new SaxesParser();
      let failure: Error | undefined;
      parser.on('error', (error) => (failure ??= error));
      parser.on('opentag', (node) => {
        if (node.name === 'line') countLine(format, (name) => node.attributes[name] as string | undefined, t);
      });
      for await (const chunk of decodeChunks(readChunks(file))) {
        parser.write(chunk);
        if (failure) throw failure;
      }
      parser.close();
      if (failure) throw failure;
      return t;
    }
    case 'stream-json': {
      const { streamObject } = await import('stream-json/streamers/stream-object.js');
      const pipeline = createReadStream(file, { highWaterMark: 1 << 16 }).pipe(streamObject.withParserAsStream());
      for await (const member of pipeline as AsyncIterable<{ key: string; value: unknown }>) {
        countIstanbul(member.value, t);
      }
      return t;
    }
    default:
      throw new Error(`unknown reader ${reader}`);
  }
}

async function child(reader: string, format: Format, file: string): Promise<void> {
  // Load the reader's modules before timing: the parse is measured, not the import.
  if (reader === 'saxes') await import('saxes');
  if (reader === 'stream-json') await import('stream-json/streamers/stream-object.js');
  globalThis.gc?.();
  const started = performance.now();
  const totals = file === '-' ? zeroTotals() : await read(reader, format, file);
  const ms = performance.now() - started;
  const result: ChildResult = { totals, ms, maxRssKb: process.resourceUsage().maxRSS };
  console.log(JSON.stringify(result));
}

/** Deterministic coverage: line i of file f is covered unless (i + f) % 7 == 0; every tenth line has two branches. */
const covered = (f: number, i: number) => (i + f) % 7 !== 0;
const branchy = (i: number) => i % 10 === 0;

async function writeFile(path: string, parts: (write: (s: string) => void) => void): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  const write = (s: string) => {
    buffer += s;
    if (buffer.length > 1 << 20) {
      out.write(buffer);
      buffer = '';
    }
  };
  parts(write);
  out.write(buffer);
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

interface Case {
  name: string;
  format: Format;
  file: string;
  expected: Totals;
  readers: string[];
}

async function generate(dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  const expect = (files: number, lines: number): Totals => {
    const t = zeroTotals();
    for (let f = 0; f < files; f++) {
      for (let i = 1; i <= lines; i++) {
        t.lines++;
        if (covered(f, i)) t.covered++;
        if (branchy(i)) {
          t.branches += 2;
          t.branchesCovered += covered(f, i) ? 2 : 1;
        }
      }
    }
    return t;
  };
  const FILES = 5000;
  const LINES = 100;
  const xmlReaders = ['ours', 'saxes'];

  const cobertura = join(dir, 'coverage.xml');
  await writeFile(cobertura, (w) => {
    w(
      '<?xml version="1.0" ?>\n<coverage version="7.6.1" line-rate="0.85">\n\t<packages>\n\t\t<package name="app">\n\t\t\t<classes>\n',
    );
    for (let f = 0; f < FILES; f++) {
      w(
        `\t\t\t\t<class name="m${f}.py" filename="app/pkg${f % 50}/m${f}.py" line-rate="0.85">\n\t\t\t\t\t<methods/>\n\t\t\t\t\t<lines>\n`,
      );
      for (let i = 1; i <= LINES; i++) {
        const hits = covered(f, i) ? 1 : 0;
        w(
          branchy(i)
            ? `\t\t\t\t\t\t<line number="${i}" hits="${hits}" branch="true" condition-coverage="${hits ? 100 : 50}% (${hits ? 2 : 1}/2)" missing-branches="${i + 1}"/>\n`
            : `\t\t\t\t\t\t<line number="${i}" hits="${hits}"/>\n`,
        );
      }
      w('\t\t\t\t\t</lines>\n\t\t\t\t</class>\n');
    }
    w('\t\t\t</classes>\n\t\t</package>\n\t</packages>\n</coverage>\n');
  });
  cases.push({
    name: `Cobertura, ${FILES} files × ${LINES} lines`,
    format: 'cobertura',
    file: cobertura,
    expected: expect(FILES, LINES),
    readers: xmlReaders,
  });

  // JaCoCo writes its whole report on one line: the long-line case comes with the format.
  const jacoco = join(dir, 'jacoco.xml');
  await writeFile(jacoco, (w) => {
    w(
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="app">',
    );
    for (let f = 0; f < FILES; f++) {
      if (f % 50 === 0) w(`${f ? '</package>' : ''}<package name="com/app/p${f / 50}">`);
      w(`<sourcefile name="C${f}.java">`);
      for (let i = 1; i <= LINES; i++) {
        const c = covered(f, i);
        const [mb, cb] = branchy(i) ? (c ? [0, 2] : [1, 1]) : [0, 0];
        w(`<line nr="${i}" mi="${c ? 0 : 3}" ci="${c ? 3 : 0}" mb="${mb}" cb="${cb}"/>`);
      }
      w('<counter type="LINE" missed="1" covered="1"/></sourcefile>');
    }
    w('</package></report>');
  });
  cases.push({
    name: `JaCoCo (one line), ${FILES} files × ${LINES} lines`,
    format: 'jacoco',
    file: jacoco,
    expected: expect(FILES, LINES),
    readers: xmlReaders,
  });

  const clover = join(dir, 'clover.xml');
  await writeFile(clover, (w) => {
    w(
      '<?xml version="1.0" encoding="UTF-8"?>\n<coverage generated="1" clover="3.2.0">\n  <project timestamp="1" name="All files">\n',
    );
    for (let f = 0; f < FILES; f++) {
      w(`    <file name="m${f}.js" path="/w/src/p${f % 50}/m${f}.js">\n      <metrics statements="${LINES}"/>\n`);
      for (let i = 1; i <= LINES; i++) {
        const c = covered(f, i);
        w(`      <line num="${i}" count="${c ? 1 : 0}" type="stmt"/>\n`);
        if (branchy(i))
          w(`      <line num="${i}" count="${c ? 2 : 1}" type="cond" truecount="1" falsecount="${c ? 1 : 0}"/>\n`);
      }
      w('    </file>\n');
    }
    w('  </project>\n</coverage>\n');
  });
  cases.push({
    name: `Clover, ${FILES} files × ${LINES} lines`,
    format: 'clover',
    file: clover,
    expected: expect(FILES, LINES),
    readers: xmlReaders,
  });

  // Hostile: one class whose filename attribute is 32 MB (a generator gone wrong, or a crafted report).
  const longAttribute = join(dir, 'long-attribute.xml');
  await writeFile(longAttribute, (w) => {
    w('<?xml version="1.0" ?>\n<coverage>\n<packages><package name="p"><classes>\n<class name="x" filename="');
    for (let i = 0; i < 32; i++) w('a/'.repeat(1 << 19));
    w('x.py"><lines><line number="1" hits="1"/></lines></class>\n</classes></package></packages></coverage>\n');
  });
  cases.push({
    name: 'Cobertura, one attribute of 32 MB (hostile)',
    format: 'cobertura',
    file: longAttribute,
    expected: { lines: 1, covered: 1, branches: 0, branchesCovered: 0 },
    readers: xmlReaders,
  });

  const istanbulEntry = (f: number, lines: number): string => {
    const s: string[] = [];
    const map: string[] = [];
    const b: string[] = [];
    const bmap: string[] = [];
    for (let i = 1; i <= lines; i++) {
      map.push(`"${i - 1}":{"start":{"line":${i},"column":2},"end":{"line":${i},"column":30}}`);
      s.push(`"${i - 1}":${covered(f, i) ? 3 : 0}`);
      if (branchy(i)) {
        const k = b.length;
        bmap.push(
          `"${k}":{"loc":{"start":{"line":${i},"column":2},"end":{"line":${i},"column":30}},"type":"if","locations":[{"start":{"line":${i},"column":2},"end":{"line":${i},"column":30}},{"start":{"line":${i},"column":2},"end":{"line":${i},"column":30}}],"line":${i}}`,
        );
        b.push(`"${k}":[${covered(f, i) ? '1,1' : '1,0'}]`);
      }
    }
    const path = `/w/src/p${f % 50}/m${f}.js`;
    return `"${path}":{"path":"${path}","statementMap":{${map.join(',')}},"fnMap":{},"branchMap":{${bmap.join(',')}},"s":{${s.join(',')}},"f":{},"b":{${b.join(',')}}}`;
  };
  const jsonReaders = ['ours', 'stream-json'];
  const istanbul = join(dir, 'coverage-final.json');
  await writeFile(istanbul, (w) => {
    w('{');
    for (let f = 0; f < FILES; f++) w(`${f ? ',' : ''}${istanbulEntry(f, LINES)}`);
    w('}\n');
  });
  cases.push({
    name: `Istanbul coverage-final.json, ${FILES} files × ${LINES} statements`,
    format: 'istanbul',
    file: istanbul,
    expected: expect(FILES, LINES),
    readers: jsonReaders,
  });

  // Hostile for a member streamer: one file entry of tens of MB (a bundled file with 300,000 statements).
  const giant = join(dir, 'coverage-final-giant-entry.json');
  await writeFile(giant, (w) => w(`{${istanbulEntry(0, 300_000)}}\n`));
  cases.push({
    name: 'Istanbul, one file entry of 300,000 statements (hostile)',
    format: 'istanbul',
    file: giant,
    expected: expect(1, 300_000),
    readers: jsonReaders,
  });
  return cases;
}

function pkgVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(here, '..', '..', 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(os.tmpdir(), 'coverage-streaming-bench-'));
  const load = () =>
    os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(', ');
  const loadBefore = load();
  try {
    const cases = await generate(dir);
    const idle: Record<string, number> = {};
    for (const reader of ['ours', 'saxes', 'stream-json']) {
      const runs = Array.from({ length: 3 }, () => runBenchChild<ChildResult>(self, [reader, 'cobertura', '-']));
      idle[reader] = median(runs.map((r) => ('error' in r ? 0 : r.maxRssKb)));
    }
    const rows: string[] = [];
    const verdicts: string[] = [];
    for (const c of cases) {
      const size = statSync(c.file).size;
      const measured: Record<string, { ms: number; rss: number; ok: boolean } | { error: string }> = {};
      for (const reader of c.readers) {
        console.log(`${c.name}: ${reader}…`);
        const runs = Array.from({ length: RUNS }, () =>
          runBenchChild<ChildResult>(self, [reader, c.format, c.file], ['--max-old-space-size=4096']),
        );
        const ok = runs.filter((r): r is ChildResult => !('error' in r));
        if (ok.length < runs.length) {
          measured[reader] = { error: (runs.find((r) => 'error' in r) as { error: string }).error };
        } else {
          measured[reader] = {
            ms: median(ok.map((r) => r.ms)),
            rss: median(ok.map((r) => r.maxRssKb)),
            ok: ok.every((r) => sameTotals(r.totals, c.expected)),
          };
        }
        const m = measured[reader];
        rows.push(
          'error' in m
            ? `| ${c.name} | ${mb(size)} | ${reader} | refused or failed: ${m.error.replace(/\|/g, '/').slice(0, 160)} | | | |`
            : `| ${c.name} | ${mb(size)} | ${reader} | ${(m.ms / 1000).toFixed(2)} | ${(size / 1024 / 1024 / (m.ms / 1000)).toFixed(1)} | ${(m.rss / 1024).toFixed(0)} (${above(m.rss - idle[reader])}) | ${m.ok ? '✓' : '✗'} |`,
        );
      }
      const [a, b] = c.readers.map((r) => measured[r]);
      if (!('error' in a) && !('error' in b)) {
        verdicts.push(
          `- ${c.name}: ours ${(b.ms / a.ms).toFixed(1)}× the speed of ${c.readers[1]}, peak RSS ${above(a.rss - idle.ours)} vs ${above(b.rss - idle[c.readers[1]])} MB against idle.`,
        );
      } else {
        verdicts.push(
          `- ${c.name}: ${'error' in a ? `ours refused it (${a.error.split(': ').slice(-1)[0].slice(0, 120)})` : `ours read it in ${(a.ms / 1000).toFixed(2)} s`}; ${c.readers[1]} ${'error' in b ? `failed (${b.error.slice(0, 120)})` : `read it in ${(b.ms / 1000).toFixed(2)} s at ${above(b.rss - idle[c.readers[1]])} MB against idle`}.`,
        );
      }
    }
    const md = [
      '# coverage-gate: hand-written streaming readers against saxes and stream-json',
      '',
      '`npm run bench coverage-gate-streaming` (test/bench/coverage-gate-streaming.ts) writes this file (issue 14, item 10).',
      '',
      '## Method',
      '',
      `- Readers: ours (actions/coverage-gate/formats/xml-scanner.ts \`scanXml\` with \`attributeValue\`, and`,
      `  formats/json-members.ts \`forEachJsonMember\`) against saxes ${pkgVersion('saxes')} (a streaming, conformant XML`,
      `  parser) and stream-json ${pkgVersion('stream-json')} (\`streamObject.withParserAsStream()\`: each top-level member`,
      '  assembled on its own, as ours does). Both sides get the same 64 KiB reads and run the same counting code',
      '  (lines, covered lines, branches, covered branches of every `<line>` element or Istanbul entry), so the',
      '  difference is the parser; ✓ means the counts equal the generated ones.',
      `- Each reader runs in a fresh child process (\`node --expose-gc --import tsx\`, 4 GiB heap), ${RUNS} times; the`,
      '  table gives medians of the time measured inside the child around the read (module loading excluded) and of the',
      '  peak RSS (`process.resourceUsage().maxRSS`); "+" is above an idle child that loads the same modules and reads',
      `  nothing (ours ${(idle.ours / 1024).toFixed(0)} MB, saxes ${(idle.saxes / 1024).toFixed(0)} MB, stream-json ${(idle['stream-json'] / 1024).toFixed(0)} MB).`,
      '- Files generated from a fixed pattern as the tools write them: coverage.py Cobertura (indented, one element',
      '  a line), JaCoCo (the whole report on one line, as JaCoCo writes it), Clover (istanbul/jest style), Istanbul',
      '  coverage-final.json (statementMap/s, branchMap/b per file). Hostile cases: a Cobertura attribute of 32 MB,',
      '  and one coverage-final.json entry of 300,000 statements.',
      `- Machine: ${os.cpus().length} cores, shared with other work; load average`,
      `  ${loadBefore} at the start, ${load()} at the end. Times are inflated by that load for every reader alike.`,
      '',
      '## Results',
      '',
      '| Report | MB | Reader | Time (s) | MB/s | Peak RSS MB (+ above idle) | Counts |',
      '| --- | ---: | --- | ---: | ---: | ---: | --- |',
      ...rows,
      '',
      ...verdicts,
      '',
    ].join('\n');
    writeFileSync(join(here, 'coverage-gate-streaming.md'), md);
    console.log(md);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4] as Format, process.argv[5]);
else await main();
