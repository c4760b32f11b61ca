import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCobertura } from '../../../actions/coverage-gate/formats/cobertura.js';
import { parseLcov } from '../../../actions/coverage-gate/formats/lcov.js';
import { decodeChunks } from '../../../actions/coverage-gate/formats/read-chunks.js';
import { readReport, sniffFormat } from '../../../actions/coverage-gate/formats/read-report.js';
import { ReportError } from '../../../actions/coverage-gate/formats/report-error.js';
import { mergeReports, modelTotals } from '../../../actions/coverage-gate/totals.js';
import type { ReportFormat } from '../../../actions/coverage-gate/model.js';
import { removeDir, tempDir } from './tools.js';

let dir: string;
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => removeDir(dir));

let counter = 0;
function write(content: string, name = `report-${++counter}`): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function totals(content: string, format?: ReportFormat) {
  const report = await readReport(write(content), format);
  return { report, totals: modelTotals(mergeReports([report], (p) => p)) };
}

/** The same text cut into chunks of `size` characters, to cross every boundary a stream can have. */
async function* pieces(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

const COBERTURA = `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage version="6.5.0" lines-valid="7" lines-covered="5" line-rate="0.7143" branches-valid="4" branches-covered="3" branch-rate="0.75">
  <!-- a comment with <tags> inside -->
  <sources>
    <source>/home/runner/work/app/app</source>
  </sources>
  <packages>
    <package name="shop" line-rate="0.7143">
      <classes>
        <class name="pricing.py" filename="shop/pricing.py" line-rate="0.7143">
          <methods>
            <method name="price" signature="()">
              <lines><line number="2" hits="1" branch="true" condition-coverage="50% (1/2)"/></lines>
            </method>
          </methods>
          <lines>
            <line number="1" hits="1"/>
            <line number="2" hits="3" branch="true" condition-coverage="50% (1/2)"/>
            <line number="3" hits="0"/>
            <line number="4" hits="1" branch="true" condition-coverage="100% (2/2)"/>
          </lines>
        </class>
        <class name="Odd &amp; Co" filename="shop/a&amp;b.py">
          <lines>
            <line number="1" hits="1"/>
            <line number="2" hits='0'/>
            <line number="3" hits="12"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
`;

describe('Cobertura', () => {
  test('counts lines and branches from the line elements, not the rates, and skips method lines', async () => {
    const { report, totals: t } = await totals(COBERTURA);
    expect(report.format).toBe('cobertura');
    expect(report.sourceRoots).toEqual(['/home/runner/work/app/app']);
    expect([...report.files.keys()]).toEqual(['shop/pricing.py', 'shop/a&b.py']);
    expect(t.lines).toEqual({ covered: 5, total: 7 });
    expect(t.branches).toEqual({ covered: 3, total: 4 });
  });

  test('the result does not depend on where the stream is cut', async () => {
    for (const size of [1, 2, 3, 7, 64]) {
      const report = await parseCobertura('x.xml', pieces(COBERTURA, size));
      expect(modelTotals(mergeReports([report], (p) => p))).toEqual({
        lines: { covered: 5, total: 7 },
        branches: { covered: 3, total: 4 },
        // The one <method>, whose line ran.
        functions: { covered: 1, total: 1 },
      });
    }
  });

  test('a 4-significant-digit line-rate does not leak into the count', async () => {
    // 6 / 7 = 0.857142…: a writer rounds to 0.8571, which times 7 statements is not a whole number.
    const lines = Array.from({ length: 7 }, (_, i) => `<line number="${i + 1}" hits="${i === 0 ? 0 : 1}"/>`).join('');
    const { totals: t } = await totals(
      `<coverage line-rate="0.8571"><packages><package><classes><class filename="a.py" line-rate="0.8571"><lines>${lines}</lines></class></classes></package></packages></coverage>`,
    );
    expect(t.lines).toEqual({ covered: 6, total: 7 });
  });

  test('the same file in two classes is one file; a line listed twice counts once', async () => {
    const { totals: t } = await totals(
      `<coverage><packages><package><classes>
        <class filename="a.py"><lines><line number="1" hits="0"/><line number="2" hits="1"/></lines></class>
        <class filename="a.py"><lines><line number="1" hits="4"/><line number="3" hits="0"/></lines></class>
      </classes></package></packages></coverage>`,
    );
    expect(t.lines).toEqual({ covered: 2, total: 3 });
  });

  test.each([
    [
      'a mismatched end tag',
      '<coverage>\n<packages>\n</package>\n</coverage>',
      /line 3: malformed XML: expected <\/packages> but found <\/package>/,
    ],
    [
      'a truncated file',
      '<coverage>\n<packages>\n<package>\n<classes><class filename="a.py"><lines><line number="1" hi',
      /malformed XML: unexpected end of file/,
    ],
    [
      'an unclosed root',
      '<coverage>\n<packages>\n</packages>\n',
      /malformed XML: unexpected end of file: <coverage> is not closed/,
    ],
    [
      'a non-numeric hits',
      '<coverage>\n<packages><package><classes><class filename="a.py"><lines>\n<line number="1" hits="many"/>\n</lines></class></classes></package></packages></coverage>',
      /line 3: line 'hits' must be a non-negative number; got 'many'/,
    ],
    [
      'a class without filename',
      '<coverage>\n<packages><package><classes>\n<class name="x">\n</class></classes></package></packages></coverage>',
      /line 3: <class> without a filename/,
    ],
    [
      'unquoted attributes',
      '<coverage>\n<packages><package><classes><class filename="a.py"><lines>\n<line number=1 hits=2/>\n</lines></class></classes></package></packages></coverage>',
      /line 3: malformed XML: malformed attributes/,
    ],
    [
      'a bad condition-coverage',
      '<coverage><packages><package><classes><class filename="a.py"><lines>\n\n<line number="1" hits="2" branch="true" condition-coverage="half"/></lines></class></classes></package></packages></coverage>',
      /line 3: condition-coverage 'half'/,
    ],
    ['text after the root', '<coverage></coverage>\ngarbage', /line 2: malformed XML: text outside the root element/],
    ['two roots', '<coverage></coverage>\n<coverage></coverage>', /line 2: malformed XML: a second root element/],
  ])('%s is a clear error with the line', async (_name, content, message) => {
    const file = write(content);
    await expect(readReport(file, 'cobertura')).rejects.toThrow(message);
    await expect(readReport(file, 'cobertura')).rejects.toThrow(`Report '${file}'`);
  });

  test('a Cobertura format given for a JaCoCo file is refused', async () => {
    await expect(readReport(write('<report name="x"></report>'), 'cobertura')).rejects.toThrow(
      /not a Cobertura report \(root element <report>\)/,
    );
  });
});

const LCOV = `TN:
SF:src/a.js
FN:1,main
FN:5,10,helper
FNDA:3,main
FNDA:0,helper
FNF:2
FNH:1
DA:1,3
DA:2,0
DA:3,1,abcdef
BRDA:2,0,0,1
BRDA:2,0,1,-
BRDA:7,0,0,0
BRF:3
BRH:1
LF:3
LH:2
end_of_record
SF:C:\\work\\app\\src\\b.js
DA:1,1
end_of_record
SF:src/a.js
DA:2,5
DA:4,0
BRDA:7,0,0,2
end_of_record
`;

describe('LCOV', () => {
  test('recounts DA, BRDA and FNDA; a file repeated in one tracefile merges line by line', async () => {
    const { report, totals: t } = await totals(LCOV);
    expect(report.format).toBe('lcov');
    expect([...report.files.keys()]).toEqual(['src/a.js', 'C:\\work\\app\\src\\b.js']);
    // a.js: lines 1 (3), 2 (max 0,5), 3 (1), 4 (0) → 3/4; b.js 1/1.
    expect(t.lines).toEqual({ covered: 4, total: 5 });
    // Line 7 has a branch but no DA: it counts as a branch, not a line; its second record is the same
    // block and branch (0,0), so it adds hits rather than a branch.
    expect(t.branches).toEqual({ covered: 2, total: 3 });
    expect(t.functions).toEqual({ covered: 1, total: 2 });
  });

  test('CRLF line endings and any chunking give the same totals', async () => {
    const crlf = LCOV.replace(/\n/g, '\r\n');
    for (const size of [1, 5, 1000]) {
      const report = await parseLcov('x.info', pieces(crlf, size));
      expect(modelTotals(mergeReports([report], (p) => p)).lines).toEqual({ covered: 4, total: 5 });
    }
  });

  test.each([
    ['a DA before SF', 'TN:\nDA:1,1\n', /line 2: malformed LCOV: DA outside a record/],
    ['a bad hit count', 'SF:a.js\nDA:1,x\n', /line 2: malformed LCOV: DA hits must be a non-negative number; got 'x'/],
    ['a short BRDA', 'SF:a.js\nDA:1,1\nBRDA:1,0\n', /line 3: malformed LCOV: BRDA needs line,block,branch,taken/],
    ['an unknown record', 'SF:a.js\nDA:1,1\nhello world\n', /line 3: malformed LCOV: unknown record 'hello world'/],
    ['an empty SF', 'SF:\n', /line 1: malformed LCOV: SF without a path/],
  ])('%s is a clear error with the line', async (_name, content, message) => {
    await expect(readReport(write(content), 'lcov')).rejects.toThrow(message);
  });
});

describe('multi-byte paths cut between two reads', () => {
  async function* bytes(text: string, size: number): AsyncGenerator<Buffer> {
    const all = Buffer.from(text, 'utf8');
    for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
  }

  test('LCOV and Cobertura read the same path whatever the byte boundaries', async () => {
    const lcov = 'SF:src/café/naïve.js\nDA:1,1\nDA:2,0\nBRDA:2,0,0,-\nend_of_record\n';
    const xml =
      '<coverage><packages><package><classes><class filename="src/café/naïve.py"><lines><line number="1" hits="1"/></lines></class></classes></package></packages></coverage>';
    for (const size of [1, 2, 3, 5]) {
      const fromLcov = await parseLcov('x.info', bytes(lcov, size));
      expect([...fromLcov.files.keys()]).toEqual(['src/café/naïve.js']);
      expect(modelTotals(mergeReports([fromLcov], (p) => p))).toMatchObject({
        lines: { covered: 1, total: 2 },
        branches: { covered: 0, total: 1 },
      });
      const fromXml = await parseCobertura('x.xml', decodeChunks(bytes(xml, size)));
      expect([...fromXml.files.keys()]).toEqual(['src/café/naïve.py']);
    }
  });
});

describe('Go cover profiles', () => {
  test('statements are weighted by block size; a repeated block adds up', async () => {
    const { report, totals: t } = await totals(
      `mode: count
example.com/app/pkg/a.go:3.20,5.2 2 1
example.com/app/pkg/a.go:5.2,7.3 3 0
example.com/app/pkg/a.go:8.1,8.10 1 0
mode: count
example.com/app/pkg/a.go:8.1,8.10 1 4
example.com/app/pkg/b.go:1.1,2.2 0 0
`,
    );
    expect(report.format).toBe('go');
    // go tool cover -func: (2 + 1) / (2 + 3 + 1) statements.
    expect(t.statements).toEqual({ covered: 3, total: 6 });
    expect(t.lines.total).toBe(6);
  });

  test('a bad block names the line', async () => {
    await expect(readReport(write('mode: set\na.go:1.1,2.2 1 1\nnot a block\n'))).rejects.toThrow(
      /line 3: malformed Go cover profile block/,
    );
    await expect(readReport(write('mode: sometimes\n'), 'go')).rejects.toThrow(/line 1: malformed Go cover profile/);
  });
});

describe('JaCoCo', () => {
  test('lines with instructions, branches from mb/cb, methods from METHOD counters', async () => {
    const { report, totals: t } = await totals(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><report name="app">
<sessioninfo id="x" start="1" dump="2"/>
<package name="com/example">
  <class name="com/example/Cart" sourcefilename="Cart.java">
    <method name="total" desc="()I" line="3"><counter type="INSTRUCTION" missed="0" covered="5"/><counter type="METHOD" missed="0" covered="1"/></method>
    <method name="refund" desc="()V" line="9"><counter type="METHOD" missed="1" covered="0"/></method>
    <counter type="METHOD" missed="1" covered="1"/>
  </class>
  <sourcefile name="Cart.java">
    <line nr="3" mi="0" ci="4" mb="1" cb="1"/>
    <line nr="4" mi="2" ci="0" mb="0" cb="0"/>
    <line nr="5" mi="0" ci="0" mb="0" cb="0"/>
    <counter type="LINE" missed="1" covered="1"/>
  </sourcefile>
</package>
<counter type="LINE" missed="1" covered="1"/>
</report>`);
    expect(report.format).toBe('jacoco');
    expect([...report.files.keys()]).toEqual(['com/example/Cart.java']);
    expect(t.lines).toEqual({ covered: 1, total: 2 });
    expect(t.branches).toEqual({ covered: 1, total: 2 });
    expect(t.functions).toEqual({ covered: 1, total: 2 });
  });
});

describe('Clover', () => {
  test('stmt and cond lines are lines, cond truecount/falsecount are branches, methods are functions', async () => {
    const { report, totals: t } = await totals(`<?xml version="1.0" encoding="UTF-8"?>
<coverage generated="1" clover="3.2.0">
  <project timestamp="1" name="All files">
    <metrics statements="3"/>
    <file name="a.js" path="/repo/src/a.js">
      <line num="1" count="2" type="method" name="main"/>
      <line num="2" count="2" type="stmt"/>
      <line num="3" count="0" type="cond" truecount="1" falsecount="1"/>
      <line num="4" count="0" type="stmt"/>
    </file>
  </project>
</coverage>`);
    expect(report.format).toBe('clover');
    expect(t.lines).toEqual({ covered: 1, total: 3 });
    expect(t.branches).toEqual({ covered: 1, total: 2 });
    expect(t.functions).toEqual({ covered: 1, total: 1 });
  });
});

describe('coverage.py JSON and Istanbul JSON', () => {
  test('coverage.py: statements from executed and missing lines, branches from arcs', async () => {
    const { totals: t } = await totals(
      JSON.stringify({
        meta: { version: '7.4.0', branch_coverage: true },
        files: {
          'app/a.py': {
            executed_lines: [1, 2, 4],
            missing_lines: [5],
            executed_branches: [[2, 4]],
            missing_branches: [
              [2, 5],
              [4, -1],
            ],
            summary: { num_statements: 4, num_branches: 3, covered_branches: 1 },
          },
          'app/__init__.py': { executed_lines: [], missing_lines: [], summary: { num_statements: 0 } },
        },
        totals: {},
      }),
    );
    expect(t.lines).toEqual({ covered: 3, total: 4 });
    expect(t.branches).toEqual({ covered: 1, total: 3 });
  });

  test('Istanbul lines are the statements by start line, highest hits', async () => {
    const loc = (l: number, c = 0) => ({ start: { line: l, column: c }, end: { line: l, column: c + 5 } });
    const { report, totals: t } = await totals(
      JSON.stringify({
        '/repo/a.js': {
          path: '/repo/a.js',
          statementMap: { 0: loc(1), 1: loc(1, 10), 2: loc(2), 3: loc(3) },
          s: { 0: 0, 1: 4, 2: 0, 3: 1 },
          fnMap: { 0: { name: 'f', decl: loc(1), loc: loc(1) } },
          f: { 0: 4 },
          branchMap: { 0: { loc: loc(2), type: 'if', locations: [loc(2), loc(3)], line: 2 } },
          b: { 0: [0, 1] },
        },
      }),
    );
    expect(report.format).toBe('istanbul-json');
    expect(t.lines).toEqual({ covered: 2, total: 3 });
    expect(t.statements).toEqual({ covered: 2, total: 4 });
    expect(t.functions).toEqual({ covered: 1, total: 1 });
    expect(t.branches).toEqual({ covered: 1, total: 2 });
  });

  test('a coverage-summary.json with only a total still counts', async () => {
    const { totals: t } = await totals(
      JSON.stringify({
        total: { lines: { total: 10, covered: 9, pct: 90 }, branches: { total: 4, covered: 1, pct: 25 } },
      }),
    );
    expect(t.lines).toEqual({ covered: 9, total: 10 });
    expect(t.branches).toEqual({ covered: 1, total: 4 });
  });

  test.each([
    ['broken JSON', '{\n  "meta": {},\n  "files": {,\n}', /line 3: malformed JSON/],
    [
      'JSON of another kind',
      '{"name": "package"}',
      /neither coverage\.py JSON, Istanbul coverage-final\.json nor coverage-summary\.json/,
    ],
    [
      'bad executed_lines',
      '{"meta": {}, "files": {"a.py": {"executed_lines": "1-3"}}}',
      /files\['a\.py'\]\.executed_lines must be a list of line numbers/,
    ],
    [
      'Istanbul entries mixed with coverage.py files',
      '{"/a.js": {"statementMap": {}, "s": {}}, "meta": {}, "files": {"a.py": {}}}',
      /mixes Istanbul file entries with coverage\.py files/,
    ],
    [
      'a summary without lines',
      '{"total": {"lines": {"total": 1, "covered": 1}}, "a.js": {"branches": {}}}',
      /'a\.js' has no 'lines' counts/,
    ],
  ])('%s is a clear error', async (_name, content, message) => {
    await expect(readReport(write(content))).rejects.toThrow(message);
  });
});

describe('detection and unreadable files', () => {
  test('sniffing tells the formats apart by content', () => {
    expect(sniffFormat('\uFEFF<?xml version="1.0"?>\n<coverage line-rate="1">')).toBe('cobertura');
    expect(sniffFormat('<?xml version="1.0"?><coverage generated="1" clover="4.4.1">')).toBe('clover');
    expect(sniffFormat('<!DOCTYPE report PUBLIC "x" "report.dtd"><report name="a">')).toBe('jacoco');
    expect(sniffFormat('mode: atomic\n')).toBe('go');
    expect(sniffFormat('TN:\nSF:a.js\n')).toBe('lcov');
    expect(sniffFormat('  {"files": {}}')).toBe('json');
    expect(sniffFormat('<html><body>')).toBeUndefined();
    expect(sniffFormat('Name  Stmts  Miss  Cover')).toBeUndefined();
  });

  test('an unknown format, an empty file, a missing file and a directory are named', async () => {
    await expect(readReport(write('Name    Stmts   Miss  Cover\n'))).rejects.toThrow(/unknown format.*set 'format'/);
    await expect(readReport(write(''))).rejects.toThrow(/the file is empty/);
    await expect(readReport(join(dir, 'nope.xml'))).rejects.toThrow(`Report '${join(dir, 'nope.xml')}': no such file`);
    mkdirSync(join(dir, 'adir'));
    await expect(readReport(join(dir, 'adir'))).rejects.toThrow(ReportError);
    await expect(readReport(write('{"total": {}}'), 'lcov')).rejects.toThrow(
      /format 'lcov' was given but the file is JSON/,
    );
  });
});
