/**
 * How a ratio becomes the percentage that is compared with the threshold. The counts stay exact integers; each
 * mode reproduces one tool's rule so the gate agrees with the number its users already see.
 */
export type Rounding = 'none' | 'coveragepy' | 'istanbul' | 'floor';
export const ROUNDINGS: readonly Rounding[] = ['none', 'coveragepy', 'istanbul', 'floor'];

/** A decimal as given by the user, kept exact: value = units / 10^scale. */
export interface Decimal {
  units: bigint;
  scale: number;
  text: string;
}

export function parseDecimal(text: string): Decimal | undefined {
  const match = /^\+?(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  return { units: BigInt(match[1] + fraction), scale: fraction.length, text: text.trim() };
}

const TEN = 10n;
const pow10 = (n: number): bigint => TEN ** BigInt(n);

/** The floating-point percentage coverage.py computes: (100.0 * covered) / total, or 100 when nothing counts. */
export function coveragePyPercent(covered: number, total: number): number {
  return total > 0 ? (100.0 * covered) / total : 100.0;
}

/** Istanbul's percent(): truncated to two decimals through its own float steps. */
export function istanbulPercent(covered: number, total: number): number {
  return total > 0 ? Math.floor((1000 * 100 * covered) / total / 10) / 100 : 100.0;
}

/**
 * Python's round(x, n): the exact binary value of x rounded to n decimals, ties to even. JavaScript's toFixed
 * rounds ties away from zero and Math.round(x * 10^n) adds its own error, so neither matches coverage.py.
 */
export function pythonRound(x: number, digits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const negative = x < 0;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent: number;
  if (exponentBits === 0) exponent = -1074;
  else {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  if (exponent >= 0) return x;
  // x = mantissa / 2^k = mantissa * 5^k / 10^k exactly.
  const k = -exponent;
  const digitsValue = mantissa * 5n ** BigInt(k);
  if (k <= digits) return x;
  const divisor = pow10(k - digits);
  let quotient = digitsValue / divisor;
  const remainder = digitsValue % divisor;
  const twice = remainder * 2n;
  if (twice > divisor || (twice === divisor && quotient % 2n === 1n)) quotient += 1n;
  const result = Number(`${quotient}e-${digits}`);
  return negative ? -result : result;
}

/** coverage.py's display_covered: never shows 0 or 100 unless the value is exactly that. */
export function coveragePyDisplay(percent: number, precision: number): string {
  const near0 = 1.0 / 10 ** precision;
  let shown: number;
  if (percent > 0 && percent < near0) shown = near0;
  else if (percent > 100.0 - near0 && percent < 100) shown = 100.0 - near0;
  else shown = pythonRound(percent, precision);
  return shown.toFixed(precision);
}

/** covered/total as a percentage truncated (not rounded) to `precision` decimals, computed exactly. */
export function floorPercent(covered: number, total: number, precision: number): string {
  if (total === 0) return (100).toFixed(precision);
  const scaled = (BigInt(covered) * 100n * pow10(precision)) / BigInt(total);
  const text = scaled.toString().padStart(precision + 1, '0');
  return precision === 0 ? text : `${text.slice(0, -precision)}.${text.slice(-precision)}`;
}

export interface Judgement {
  /** The percentage as shown and output, e.g. '89.97'. */
  shown: string;
  passed: boolean;
}

/** Decides covered/total against the threshold under a rounding mode. Zero total counts as 100 %, as in coverage.py and Istanbul. */
export function judge(
  covered: number,
  total: number,
  threshold: Decimal,
  rounding: Rounding,
  precision: number,
): Judgement {
  switch (rounding) {
    case 'coveragepy': {
      const percent = coveragePyPercent(covered, total);
      const limit = Number(threshold.text);
      // coverage.py: "Special case for fail_under=100, it must really be 100."
      const failed = (limit === 100 && percent !== 100) || pythonRound(percent, precision) < limit;
      return { shown: coveragePyDisplay(percent, precision), passed: !failed };
    }
    case 'istanbul': {
      const percent = istanbulPercent(covered, total);
      return { shown: percent.toFixed(2), passed: !(percent < Number(threshold.text)) };
    }
    case 'floor': {
      const shown = floorPercent(covered, total, precision);
      const value = parseDecimal(shown) as Decimal;
      return { shown, passed: compareDecimals(value, threshold) >= 0 };
    }
    default: {
      // The exact ratio decides: covered * 100 >= threshold * total, in integers.
      const passed = total === 0 || BigInt(covered) * 100n * pow10(threshold.scale) >= threshold.units * BigInt(total);
      return { shown: floorPercent(covered, total, precision), passed };
    }
  }
}

function compareDecimals(a: Decimal, b: Decimal): number {
  const scale = Math.max(a.scale, b.scale);
  const left = a.units * pow10(scale - a.scale);
  const right = b.units * pow10(scale - b.scale);
  return left === right ? 0 : left > right ? 1 : -1;
}
