import { execFileSync } from 'node:child_process';
import {
  coveragePyDisplay,
  coveragePyPercent,
  floorPercent,
  istanbulPercent,
  judge,
  parseDecimal,
  pythonRound,
} from '../../../actions/coverage-gate/rounding.js';

const d = (text: string) => parseDecimal(text)!;

/** Asks the installed coverage.py (python3-coverage) itself, so the expectations are not ours. */
function python(script: string, input: unknown): unknown {
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(input), encoding: 'utf8' }),
  );
}

describe('coverage.py rounding, checked against coverage.py', () => {
  const cases: [number, number, number, number][] = [];
  // Ratios near the usual thresholds, where rounding decides.
  for (const [c, t] of [
    [17999, 20000],
    [179991, 200000],
    [17998, 20000],
    [899, 1000],
    [8999, 10000],
    [89995, 100000],
    [179990, 200000],
    [1812, 2014],
    [2, 3],
    [1, 3],
    [0, 5],
    [5, 5],
    [0, 0],
    [9999, 10000],
    [99999, 100000],
    [1, 100000],
    [1, 7],
    [6, 7],
  ]) {
    for (const precision of [0, 1, 2, 3])
      for (const limit of [0, 89.99, 90, 99.99, 100]) cases.push([c, t, precision, limit]);
  }
  let expected: { pc: number; rounded: number; display: string; fail: boolean }[];
  beforeAll(() => {
    expected = python(
      `
import json, sys
from coverage.results import Numbers, should_fail_under
out = []
for c, t, p, limit in json.load(sys.stdin):
    pc = (100.0 * c) / t if t > 0 else 100.0
    n = Numbers(precision=p, n_files=1, n_statements=t, n_missing=t - c)
    out.append({"pc": pc, "rounded": round(pc, p), "display": n.display_covered(pc), "fail": should_fail_under(pc, limit, p)})
print(json.dumps(out))
`,
      cases,
    ) as typeof expected;
  });

  test('percent, round(), display_covered and should_fail_under agree for every case', () => {
    expect(expected).toHaveLength(cases.length);
    cases.forEach(([c, t, precision, limit], i) => {
      const pc = coveragePyPercent(c, t);
      expect([i, pc]).toEqual([i, expected[i].pc]);
      expect([i, pythonRound(pc, precision)]).toEqual([i, expected[i].rounded]);
      expect([i, coveragePyDisplay(pc, precision)]).toEqual([i, expected[i].display]);
      const judged = judge(c, t, d(String(limit)), 'coveragepy', precision);
      expect([i, judged.passed]).toEqual([i, !expected[i].fail]);
    });
  });

  test("Python's round is half-even on the exact binary value", () => {
    expect(pythonRound(2.675, 2)).toBe(2.67); // 2.67499999… in binary
    expect(pythonRound(0.125, 2)).toBe(0.12); // exact tie → even
    expect(pythonRound(0.375, 2)).toBe(0.38);
    expect(pythonRound(89.995, 2)).toBe(90); // 89.99500000000000454… in binary
    expect(pythonRound(100, 2)).toBe(100);
    expect(pythonRound(-2.5, 0)).toBe(-2);
  });
});

describe('the other rounding modes', () => {
  test('none: the exact ratio decides, 89.995 % fails 90 % and shows 89.99', () => {
    expect(judge(17999, 20000, d('90'), 'none', 2)).toEqual({ shown: '89.99', passed: false });
    expect(judge(18000, 20000, d('90'), 'none', 2)).toEqual({ shown: '90.00', passed: true });
    expect(judge(1812, 2014, d('90'), 'none', 2)).toEqual({ shown: '89.97', passed: false });
    expect(judge(2, 3, d('66.666'), 'none', 3)).toEqual({ shown: '66.666', passed: true });
    expect(judge(2, 3, d('66.667'), 'none', 3)).toEqual({ shown: '66.666', passed: false });
  });

  test('coveragepy: 89.995 % rounds to 90.00 and passes at precision 2, but 100 needs exactly 100', () => {
    // 100 * 17999 / 20000 is 89.995000000000004… as a float: coverage.py rounds it to 90.00 and passes,
    // where the exact ratio (rounding none) fails.
    expect(judge(17999, 20000, d('90'), 'coveragepy', 2)).toEqual({ shown: '90.00', passed: true });
    expect(judge(17999, 20000, d('90'), 'none', 2).passed).toBe(false);
    expect(judge(17998, 20000, d('90'), 'coveragepy', 2)).toEqual({ shown: '89.99', passed: false });
    expect(judge(99999, 100000, d('100'), 'coveragepy', 2)).toEqual({ shown: '99.99', passed: false });
    expect(judge(999999, 1000000, d('100'), 'coveragepy', 0)).toEqual({ shown: '99', passed: false });
    expect(judge(5, 5, d('100'), 'coveragepy', 2)).toEqual({ shown: '100.00', passed: true });
  });

  test("istanbul truncates like istanbul-lib-coverage's percent()", () => {
    expect(istanbulPercent(12, 19)).toBe(63.15);
    expect(judge(17999, 20000, d('90'), 'istanbul', 2)).toEqual({ shown: '89.99', passed: false });
    expect(judge(0, 0, d('100'), 'istanbul', 2)).toEqual({ shown: '100.00', passed: true });
  });

  test('floor truncates at the precision, exactly', () => {
    expect(floorPercent(2, 3, 2)).toBe('66.66');
    expect(floorPercent(2, 3, 0)).toBe('66');
    expect(floorPercent(1, 10000, 2)).toBe('0.01');
    expect(floorPercent(1, 100000, 2)).toBe('0.00');
    expect(judge(17999, 20000, d('89.99'), 'floor', 2)).toEqual({ shown: '89.99', passed: true });
    expect(judge(17999, 20000, d('89.995'), 'floor', 2).passed).toBe(false);
  });

  test('zero statements is 100 %, as coverage.py and Istanbul say', () => {
    for (const mode of ['none', 'coveragepy', 'istanbul', 'floor'] as const) {
      expect(judge(0, 0, d('90'), mode, 2)).toEqual({ shown: '100.00', passed: true });
    }
  });

  test('exactly 100 % passes a threshold of 100 in every mode', () => {
    for (const mode of ['none', 'coveragepy', 'istanbul', 'floor'] as const) {
      expect(judge(2014, 2014, d('100'), mode, 2).passed).toBe(true);
      expect(judge(2013, 2014, d('100'), mode, 2).passed).toBe(false);
    }
  });

  test('decimals parse exactly or not at all', () => {
    expect(parseDecimal('87.50')).toEqual({ units: 8750n, scale: 2, text: '87.50' });
    expect(parseDecimal('-1')).toBeUndefined();
    expect(parseDecimal('1e2')).toBeUndefined();
    expect(parseDecimal('')).toBeUndefined();
  });
});
