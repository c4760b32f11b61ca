import { addBranches, addBranchHit, addLine, detach, type FileCoverage, type ParsedReport } from '../model.js';
import { forEachLine } from './read-chunks.js';
import { ReportFiles } from '../report-files.js';
import { excerpt } from '../../shared/untrusted-text.js';
import { ReportError } from './report-error.js';

/** Reads unsigned decimal digits from bytes; the result and where they stopped. */
interface Digits {
  value: number;
  next: number;
}
const digits: Digits = { value: 0, next: 0 };

/** The digits at `i`, or undefined when there are none or too many to be exact. */
function readDigits(bytes: Buffer, i: number, end: number): Digits | undefined {
  let value = 0;
  const from = i;
  for (; i < end && bytes[i] >= 48 && bytes[i] <= 57; i++) value = value * 10 + (bytes[i] - 48);
  if (i === from || i - from > 15) return undefined;
  digits.value = value;
  digits.next = i;
  return digits;
}

/**
 * LCOV tracefiles (geninfo, Istanbul, c8, grcov…). Totals are recounted from DA, BRDA and FN/FNDA records;
 * the LF/LH, BRF/BRH and FNF/FNH summary records are not trusted over the detail they summarise.
 */
export async function parseLcov(
  file: string,
  chunks: AsyncIterable<Buffer | string>,
  files = new ReportFiles(),
): Promise<ParsedReport> {
  let current: FileCoverage | undefined;
  // Block and branch numbers repeat on every line: one shared string per pair instead of millions.
  const ids = new Map<string, string>();
  const branchId = (block: string, branch: string): string => {
    const id = `${block},${branch}`;
    let shared = ids.get(id);
    if (shared === undefined) {
      shared = detach(id);
      if (ids.size < 10_000) ids.set(shared, shared);
    }
    return shared;
  };
  const fail = (message: string, line: number): never => {
    throw new ReportError(file, `malformed LCOV: ${message}`, line);
  };
  const number = (text: string, what: string, line: number): number => {
    const n = Number(text);
    if (text === '' || !Number.isFinite(n) || n < 0)
      fail(`${what} must be a non-negative number; got '${excerpt(text)}'`, line);
    return Math.round(n);
  };
  const inRecord = (key: string, line: number): FileCoverage => {
    if (!current) return fail(`${key} outside a record (no SF: before it)`, line);
    return current;
  };
  // Istanbul (jest, c8) names a function after what it is assigned to, so two default parameters `setSecret = () =>`
  // in one file are two FN records with one name, each with its FNDA, in the same order. Counting the k-th of a name
  // as its own function keeps both, as Istanbul's own totals do; geninfo's names are unique and read as before.
  const declared = new Map<string, number>();
  const counted = new Map<string, number>();
  const nth = (seen: Map<string, number>, name: string): string => {
    const k = (seen.get(name) ?? 0) + 1;
    seen.set(name, k);
    return k === 1 ? name : `${name}\u0000${k}`;
  };
  // Block/branch pairs by number, for the byte path.
  const numericIds = new Map<number, string>();
  /**
   * DA:<line>,<hits> and BRDA:<line>,<block>,<branch>,<taken> are nearly every line of a tracefile: they are read
   * from the bytes in place. Anything unusual (a checksum, a sign, a decimal) goes to the careful text path.
   */
  const fast = (bytes: Buffer, start: number, end: number): boolean => {
    if (!current) return false;
    if (bytes[start] === 68 && bytes[start + 1] === 65 && bytes[start + 2] === 58) {
      const line = readDigits(bytes, start + 3, end);
      if (!line || bytes[line.next] !== 44) return false;
      const lineNumber = line.value;
      const hits = readDigits(bytes, line.next + 1, end);
      if (!hits || hits.next !== end) return false;
      addLine(current, lineNumber, hits.value);
      return true;
    }
    if (
      bytes[start] === 66 &&
      bytes[start + 1] === 82 &&
      bytes[start + 2] === 68 &&
      bytes[start + 3] === 65 &&
      bytes[start + 4] === 58
    ) {
      const values: number[] = [];
      let i = start + 5;
      for (let n = 0; n < 3; n++) {
        const d = readDigits(bytes, i, end);
        if (!d || bytes[d.next] !== 44) return false;
        values.push(d.value);
        i = d.next + 1;
      }
      // '-': the block was never reached, so the branch was not taken.
      let taken = 0;
      if (!(bytes[i] === 45 && i + 1 === end)) {
        const d = readDigits(bytes, i, end);
        if (!d || d.next !== end) return false;
        taken = d.value;
      }
      const key = values[1] * 1_000_003 + values[2];
      let id = numericIds.get(key);
      if (id === undefined) {
        id = branchId(String(values[1]), String(values[2]));
        if (numericIds.size < 10_000) numericIds.set(key, id);
      }
      addBranchHit(current, values[0], taken, id);
      return true;
    }
    return false;
  };
  await forEachLine(
    file,
    chunks,
    (text, line) => {
      if (text === '' || text.trim() === '') return;
      const colon = text.indexOf(':');
      const key = colon === -1 ? text.trim() : text.slice(0, colon);
      const value = colon === -1 ? '' : text.slice(colon + 1);
      switch (key) {
        case 'DA': {
          const target = inRecord(key, line);
          // DA:<line>,<hits>[,<checksum>], read without split(): there is one per line of code.
          const comma = value.indexOf(',');
          if (comma === -1) fail(`DA needs line,hits; got '${excerpt(text)}'`, line);
          const end = value.indexOf(',', comma + 1);
          addLine(
            target,
            number(value.slice(0, comma), 'DA line', line),
            number(value.slice(comma + 1, end === -1 ? undefined : end), 'DA hits', line),
          );
          return;
        }
        case 'BRDA': {
          const target = inRecord(key, line);
          const parts = value.split(',');
          if (parts.length < 4) fail(`BRDA needs line,block,branch,taken; got '${excerpt(text)}'`, line);
          // '-' means the block was never reached: the branch exists and was not taken.
          const taken = parts[3] === '-' ? 0 : number(parts[3], 'BRDA taken', line);
          addBranches(target, number(parts[0], 'BRDA line', line), [taken], [branchId(parts[1], parts[2])]);
          return;
        }
        case 'SF': {
          if (value.trim() === '') fail('SF without a path', line);
          declared.clear();
          counted.clear();
          if (current) files.close(current);
          current = files.get(value.trim());
          return;
        }
        case 'FN': {
          const target = inRecord(key, line);
          // FN:<line>,<name> or, since lcov 2.0, FN:<line>,<end line>,<name>.
          const name = nth(declared, value.slice(value.lastIndexOf(',') + 1));
          target.functions ??= new Map();
          if (!target.functions.has(name)) target.functions.set(detach(name), 0);
          return;
        }
        case 'FNDA': {
          const target = inRecord(key, line);
          const comma = value.indexOf(',');
          if (comma === -1) fail(`FNDA needs hits,name; got '${excerpt(text)}'`, line);
          const name = nth(counted, value.slice(comma + 1));
          target.functions ??= new Map();
          const hits = number(value.slice(0, comma), 'FNDA hits', line);
          const previous = target.functions.get(name);
          target.functions.set(previous === undefined ? detach(name) : name, Math.max(previous ?? 0, hits));
          return;
        }
        case 'end_of_record':
          if (current) files.close(current);
          current = undefined;
          return;
        case 'TN':
        case 'VER':
        case 'LF':
        case 'LH':
        case 'BRF':
        case 'BRH':
        case 'FNF':
        case 'FNH':
        case 'FNL':
        case 'FNA':
        case 'MCDC':
          return;
        default:
          fail(`unknown record '${text.slice(0, 40)}'`, line);
      }
    },
    fast,
  );
  return { file, format: 'lcov', files: files.finish() };
}
