// Hostile sizes: a report line or an XML token far longer than any real report has. The work is counted through
// the readers' ReadWork counter (never timed): it must grow with the input, not with the input times the reads.
import { forEachLine, type ReadWork } from '../../../actions/coverage-gate/formats/read-chunks.js';
import { readReport } from '../../../actions/coverage-gate/formats/read-report.js';
import { ReportError } from '../../../actions/coverage-gate/formats/report-error.js';
import { attributesOf, scanXml } from '../../../actions/coverage-gate/formats/xml-scanner.js';
import { reportWriter } from './tools.js';

const write = reportWriter('long');

async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function failure(promise: Promise<unknown>): Promise<ReportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReportError);
  return error as ReportError;
}

const KIB = 1024;
// The bound the readers promise (MAX_TOKEN_BYTES).
const MIB = 1024 * KIB;

describe('a line longer than any report has', () => {
  test('LCOV: one clear error naming the line and the bound, quoting nothing of it', async () => {
    const file = write(`TN:\nSF:${'a'.repeat(2 * MIB)}\nDA:1,1\nend_of_record\n`);
    const error = await failure(readReport(file));
    expect(error.message).toBe(`Report '${file}': line 2 is longer than 1 MiB`);
  });

  test('Go profile: the same bound', async () => {
    const file = write(`mode: set\n${'x'.repeat(MIB + 10)}\n`);
    expect((await failure(readReport(file))).message).toMatch(/line 2 is longer than 1 MiB$/);
  });

  test('a line just under the bound is read, with work linear in its length whatever the reads', async () => {
    const work = async (size: number, chunk: number): Promise<ReadWork> => {
      const counted: ReadWork = { bytes: 0 };
      const lines: number[] = [];
      await forEachLine(
        'r',
        pieces(`a\n${'x'.repeat(size)}\nb\n`, chunk),
        (line) => lines.push(line.length),
        undefined,
        counted,
      );
      expect(lines).toEqual([1, size, 1]);
      return counted;
    };
    const size = MIB - 16;
    for (const chunk of [KIB, 16 * KIB, 64 * KIB]) {
      const { bytes } = await work(size, chunk);
      // Each byte is read once, copied once when kept for later and once when the line is joined.
      expect(bytes).toBeGreaterThanOrEqual(size);
      expect(bytes).toBeLessThanOrEqual(3 * size + 3 * chunk);
    }
  });

  test('error messages quote at most 100 characters of the report', async () => {
    const garbage = 'DA:' + '9'.repeat(200 * KIB) + 'x';
    const lcov = await failure(readReport(write(`SF:a.py\n${garbage}\nend_of_record\n`)));
    expect(lcov.message.length).toBeLessThan(250);
    const hits = await failure(
      readReport(
        write(
          `<coverage><packages><package><classes><class filename="a.py"><lines><line number="1" hits="${'-'.repeat(300 * KIB)}"/></lines></class></classes></package></packages></coverage>`,
        ),
      ),
    );
    expect(hits.message.length).toBeLessThan(250);
    const json = await failure(readReport(write(`{"${'k'.repeat(200 * KIB)}": 1 2}`)));
    expect(json.message.length).toBeLessThan(250);
  });
});

describe('an XML token longer than any report has', () => {
  test('Cobertura: a 2 MiB attribute is one clear error at its line', async () => {
    const file = write(
      `<?xml version="1.0"?>\n<coverage>\n<packages><package><classes>\n<class filename="${'p'.repeat(2 * MIB)}"/></classes></package></packages></coverage>\n`,
    );
    const error = await failure(readReport(file));
    expect(error.message).toMatch(
      /^Report '.*' line 4: malformed XML: a tag, comment or text longer than 1 MiB \('<class filename="p{60,100}… \(\d+ more characters\)'\)$/,
    );
  });

  test.each([
    ['an attribute', (fill: string) => `<coverage><class filename="${fill}"/></coverage>`],
    ['a comment', (fill: string) => `<coverage><!-- ${fill} --></coverage>`],
    ['text', (fill: string) => `<coverage><sources><source>${fill}</source></sources></coverage>`],
  ])('%s just under the bound costs work linear in its length', async (_what, document) => {
    const size = MIB - 64;
    const text = document('x'.repeat(size));
    for (const chunk of [KIB, 64 * KIB]) {
      const work: ReadWork = { bytes: 0 };
      const opened: string[] = [];
      let textLength = 0;
      await scanXml(
        pieces(text, chunk),
        {
          open: (tag) => opened.push(tag.name),
          close: () => undefined,
          textElements: new Set(['source']),
          text: (t) => (textLength += t.length),
        },
        work,
      );
      expect(opened[0]).toBe('coverage');
      if (opened.includes('source')) expect(textLength).toBe(size);
      // The unfinished token is scanned again only each time the text doubles: a bounded multiple of its length.
      expect(work.bytes).toBeGreaterThanOrEqual(text.length);
      expect(work.bytes).toBeLessThanOrEqual(4 * text.length + 4 * chunk);
    }
  });

  test('attributes that are one long run of garbage are refused after one pass', () => {
    // A global regex would try every start position (quadratic); the scanner's is sticky.
    const tag = { name: 'class', rawAttributes: ` ${'a'.repeat(16 * KIB)}`, selfClosing: true, line: 3 };
    expect(() => attributesOf(tag)).toThrow(/^malformed attributes in <class a{90,100}… \(\d+ more characters\)>$/);
  });
});
