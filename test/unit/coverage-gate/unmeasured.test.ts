// Numbers that would pass or mislead without anyone noticing: a metric the reports never measured (0 of 0 passes at
// 100 %), a Cobertura header that disagrees with its own detail, two coverage-summary.json files that cannot be
// merged exactly. The reports are written as the tools write them and read through readReport.
import { evaluateGate, type GateOptions } from '../../../actions/coverage-gate/gate.js';
import { readReport } from '../../../actions/coverage-gate/formats/read-report.js';
import { summariseReport } from '../../../actions/coverage-gate/model.js';
import { parseDecimal } from '../../../actions/coverage-gate/rounding.js';
import { renderSummary } from '../../../actions/coverage-gate/summary.js';
import { mergeReports } from '../../../actions/coverage-gate/totals.js';
import { ConfigurationError } from '../../../actions/shared/errors.js';
import { reportWriter } from './tools.js';

const write = reportWriter('report');

async function gateOn(contents: string[], metric: GateOptions['metric'] = 'auto') {
  const reports = [];
  for (const content of contents) reports.push(await readReport(write(content)));
  const options: GateOptions = {
    metric,
    threshold: parseDecimal('90')!,
    rounding: 'none',
    precision: 2,
    pathThresholds: [],
  };
  return evaluateGate(
    { model: mergeReports(reports, (p) => p), reports: reports.map(summariseReport), unmatched: [] },
    options,
  );
}

// coverage.py 7 writes every class with an empty <methods/>, and the header from the same counts as the detail.
const COVERAGE_PY = `<?xml version="1.0" ?>
<coverage version="7.4.4" timestamp="1717000000000" lines-valid="3" lines-covered="2" line-rate="0.6667" branches-valid="2" branches-covered="1" branch-rate="0.5" complexity="0">
	<sources><source>/home/runner/work/shop/shop</source></sources>
	<packages>
		<package name="shop" line-rate="0.6667" branch-rate="0.5" complexity="0">
			<classes>
				<class name="pricing.py" filename="shop/pricing.py" complexity="0" line-rate="0.6667" branch-rate="0.5">
					<methods/>
					<lines>
						<line number="1" hits="1"/>
						<line number="2" hits="1" branch="true" condition-coverage="50% (1/2)" missing-branches="4"/>
						<line number="3" hits="0"/>
					</lines>
				</class>
			</classes>
		</package>
	</packages>
</coverage>
`;

// istanbul-reports' cobertura: a <method> per function with its hits, its lines again under it, and a header
// whose lines-valid counts statements (two statements on line 3) while the detail has one <line> per line.
const ISTANBUL = `<?xml version="1.0" ?>
<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">
<coverage lines-valid="5" lines-covered="3" line-rate="0.6" branches-valid="0" branches-covered="0" branch-rate="1" timestamp="1717000000000" complexity="0" version="0.1">
  <sources>
    <source>/home/runner/work/web/web</source>
  </sources>
  <packages>
    <package name="src" line-rate="0.6" branch-rate="1">
      <classes>
        <class name="cart.js" filename="src/cart.js" line-rate="0.6" branch-rate="1">
          <methods>
            <method name="total" hits="4" signature="()V">
              <lines>
                <line number="1" hits="4"/>
              </lines>
            </method>
            <method name="(anonymous_1)" hits="0" signature="()V">
              <lines>
                <line number="3" hits="0"/>
              </lines>
            </method>
          </methods>
          <lines>
            <line number="1" hits="4" branch="false"/>
            <line number="2" hits="4" branch="false"/>
            <line number="3" hits="0" branch="false"/>
            <line number="4" hits="4" branch="false"/>
          </lines>
        </class>
      </classes>
    </package>
  </packages>
</coverage>
`;

// gcovr: methods without a hits attribute; a method ran when one of its lines did.
const GCOVR = `<?xml version="1.0" ?>
<coverage line-rate="0.5" branch-rate="0.0" lines-covered="1" lines-valid="2" branches-covered="0" branches-valid="0" complexity="0.0" timestamp="1717000000" version="gcovr 7.2">
  <sources><source>.</source></sources>
  <packages><package name="src" line-rate="0.5" branch-rate="0.0" complexity="0.0"><classes>
    <class name="main_c" filename="src/main.c" line-rate="0.5" branch-rate="0.0" complexity="0.0">
      <methods>
        <method name="main" signature="" line-rate="1.0" branch-rate="0.0" complexity="0.0"><lines><line number="3" hits="1"/></lines></method>
        <method name="unused" signature="" line-rate="0.0" branch-rate="0.0" complexity="0.0"><lines><line number="9" hits="0"/></lines></method>
      </methods>
      <lines><line number="3" hits="1" branch="false"/><line number="9" hits="0" branch="false"/></lines>
    </class>
  </classes></package></packages>
</coverage>
`;

const LCOV_LINES_ONLY = 'TN:\nSF:src/cart.js\nFN:1,total\nFNDA:3,total\nDA:1,3\nDA:2,0\nLF:2\nLH:1\nend_of_record\n';

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigurationError);
  return (error as Error).message;
}

describe('a metric the reports do not measure is refused, never 0 of 0 passing', () => {
  test('functions on coverage.py Cobertura, whose <methods/> are empty', async () => {
    expect(await refusal(gateOn([COVERAGE_PY], 'functions'))).toBe(
      "Input 'metric' is functions, but the reports (cobertura) measure no functions; they have: line, branch, combined. Set 'metric' to one of those (or auto).",
    );
  });

  test('branch on a report without branch data', async () => {
    expect(await refusal(gateOn([LCOV_LINES_ONLY], 'branch'))).toMatch(
      /^Input 'metric' is branch, but the reports \(lcov\) measure no branches; they have: line, functions\./,
    );
  });

  test('statements on LCOV, which has lines and no statements, are not silently lines', async () => {
    expect(await refusal(gateOn([LCOV_LINES_ONLY], 'statements'))).toMatch(
      /^Input 'metric' is statements, but the reports \(lcov\) measure no statements; they have: line, functions\./,
    );
  });

  test('Cobertura <methods> are read for functions: Istanbul by their hits, gcovr by their lines', async () => {
    const istanbul = await gateOn([ISTANBUL], 'functions');
    expect(istanbul.measured.count).toEqual({ covered: 1, total: 2 });
    expect(istanbul.verdict).toBe('functions 50.00 % = 1 / 2; threshold 90 %, rounding none → fail');
    expect((await gateOn([GCOVR], 'functions')).measured.count).toEqual({ covered: 1, total: 2 });
    // The method lines are still not counted twice as lines.
    expect(istanbul.totals.lines).toEqual({ covered: 3, total: 4 });
  });
});

describe('disagreements are said, not swallowed', () => {
  test("Istanbul's Cobertura header (statements) against its per-line detail", async () => {
    const result = await gateOn([ISTANBUL]);
    expect(result.notes).toEqual([
      'The Cobertura header disagrees with the per-line detail (lines 3/5 in the header, 3/4 in the detail); the gate counts the detail.',
    ]);
    expect(renderSummary(result)).toContain('> ⚠️ The Cobertura header disagrees with the per-line detail');
  });

  test('a header that agrees (coverage.py) says nothing', async () => {
    const result = await gateOn([COVERAGE_PY]);
    expect(result.notes).toEqual([]);
    expect(renderSummary(result)).not.toContain('⚠️');
  });

  test('two coverage-summary.json files of one file: the merge is a bound, and coverage-final.json is named', async () => {
    const summary = (covered: number) =>
      JSON.stringify({
        total: { lines: { total: 10, covered, skipped: 0, pct: covered * 10 } },
        'src/cart.js': { lines: { total: 10, covered, skipped: 0, pct: covered * 10 } },
      });
    const result = await gateOn([summary(6), summary(7)]);
    expect(result.totals.lines).toEqual({ covered: 7, total: 10 });
    expect(result.notes).toHaveLength(1);
    expect(result.notes[0]).toMatch(
      /^1 file\(s\) are in more than one coverage-summary\.json \(src\/cart\.js\): .* Give coverage-final\.json/,
    );
    expect(renderSummary(result)).toContain('Give coverage-final.json');
  });
});
