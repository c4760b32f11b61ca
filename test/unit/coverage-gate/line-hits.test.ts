import { LineHits } from '../../../actions/coverage-gate/lines/line-hits.js';
import {
  addBranches,
  addBranchHit,
  addLine,
  detach,
  mergeFile,
  newFile,
  setBranchCounts,
  trimFile,
} from '../../../actions/coverage-gate/model.js';
import { fileTotals } from '../../../actions/coverage-gate/totals.js';

describe('LineHits', () => {
  test('behaves like a Map of line → hits, in line order', () => {
    const lines = new LineHits([
      [3, 0],
      [1, 5],
    ]);
    lines.set(2, 1).set(3, 4);
    expect(lines.size).toBe(3);
    expect(lines.get(3)).toBe(4);
    expect(lines.get(9)).toBeUndefined();
    expect(lines.has(1)).toBe(true);
    expect([...lines]).toEqual([
      [1, 5],
      [2, 1],
      [3, 4],
    ]);
    expect([...lines.keys()]).toEqual([1, 2, 3]);
    expect([...lines.values()]).toEqual([5, 1, 4]);
  });

  test('switches to a Map for very sparse or odd line numbers, keeping what it had', () => {
    const lines = new LineHits([[1, 1]]);
    lines.set(50_000_000, 2);
    lines.set(7, 0);
    expect(lines.size).toBe(3);
    expect(lines.get(50_000_000)).toBe(2);
    expect(lines.get(1)).toBe(1);
    expect(new LineHits([[-1, 3]]).get(-1)).toBe(3);
  });

  test('detach copies a string', () => {
    const big = 'x'.repeat(100) + 'path/to/file.py';
    expect(detach(big.slice(100))).toBe('path/to/file.py');
    expect(detach('')).toBe('');
  });
});

describe('LineHits storage limits', () => {
  test('keeps hit counts beyond 32 bits and fractional ones exactly, and survives trimming', () => {
    const lines = new LineHits([
      [1, 0],
      [2, 7],
    ]);
    lines.trim();
    expect([...lines]).toEqual([
      [1, 0],
      [2, 7],
    ]);
    lines.set(3, 2 ** 40);
    lines.set(4, 0.5);
    expect(lines.get(3)).toBe(2 ** 40);
    expect(lines.get(4)).toBe(0.5);
    expect(lines.coverage()).toEqual({ covered: 3, total: 4 });
  });

  test('a trimmed file can still grow', () => {
    const lines = new LineHits([[100, 1]]);
    lines.trim();
    lines.set(500, 0);
    expect(lines.size).toBe(2);
    expect([...lines.keys()]).toEqual([100, 500]);
    expect(lines.coverage()).toEqual({ covered: 1, total: 2 });
  });
});

describe('branches per line', () => {
  test('LCOV branch records in any line order add up by id, and moved lines keep their branches together', () => {
    const file = newFile('a.js');
    addBranchHit(file, 10, 1, '0,0');
    addBranchHit(file, 3, 0, '0,0');
    addBranchHit(file, 10, 2, '0,1');
    addBranchHit(file, 3, 4, '0,1');
    addBranchHit(file, 10, 5, '0,0');
    trimFile(file);
    expect(file.branches.get(10)).toEqual([6, 2]);
    expect(file.branches.get(3)).toEqual([0, 4]);
    expect(file.branches.get(4)).toBeUndefined();
    expect(fileTotals(file).branches).toEqual({ covered: 3, total: 4 });
  });

  test('merging two reports: ids merge branch by branch, counts keep the larger of each report', () => {
    const a = newFile('a.js');
    addBranches(a, 5, [0, 1], ['x', 'y']);
    setBranchCounts(a, 8, 1, 2);
    const b = newFile('a.js');
    addBranches(b, 5, [2, 0, 0], ['x', 'y', 'z']);
    setBranchCounts(b, 8, 2, 3);
    addBranches(b, 9, [1]);
    mergeFile(a, b);
    expect(a.branches.get(5)).toEqual([2, 1, 0]);
    expect(a.branches.get(8)).toEqual([1, 1, 0]);
    expect(a.branches.get(9)).toEqual([1]);
    expect(fileTotals(a).branches).toEqual({ covered: 5, total: 7 });
  });

  test('a line with ids merged with one without them is counted, not matched', () => {
    const a = newFile('a.py');
    addBranches(a, 2, [1, 0], ['3', '4']);
    addBranches(a, 2, [0, 0]);
    addBranches(a, 2, [1], ['3']);
    expect(a.branches.get(2)).toEqual([1, 0, 0, 0, 1]);
    expect(fileTotals(a).branches).toEqual({ covered: 2, total: 5 });
  });
});

describe('storage across files', () => {
  test('many files filled one after another keep their own lines, also when one grows again later', () => {
    const files = Array.from({ length: 3000 }, (_, f) => {
      const file = newFile(`f${f}.py`);
      for (let line = 1; line <= 150; line++) addLine(file, line, (f + line) % 3);
      addBranchHit(file, 7, f % 2, '0,0');
      addBranchHit(file, 7, 1, '0,1');
      trimFile(file);
      return file;
    });
    addLine(files[0], 400, 9);
    addBranchHit(files[0], 7, 3, '0,2');
    addBranches(files[0], 2, [0, 1]);
    for (const [f, file] of files.entries()) {
      expect(file.lines.size).toBe(f === 0 ? 151 : 150);
      expect(file.lines.get(150)).toBe((f + 150) % 3);
      expect(file.branches.get(7)).toEqual(f === 0 ? [0, 1, 3] : [f % 2, 1]);
    }
    expect(files[0].lines.get(400)).toBe(9);
    expect(fileTotals(files[0]).branches).toEqual({ covered: 3, total: 5 });
  });

  test('a file of 100 000 lines, line numbers and hits beyond 32 bits in branches', () => {
    const big = newFile('big.c');
    for (let line = 1; line <= 100_000; line++) addLine(big, line, line % 2);
    trimFile(big);
    expect(fileTotals(big).lines).toEqual({ covered: 50_000, total: 100_000 });
    addBranches(big, 2 ** 40, [2 ** 35, 0.5]);
    addBranchHit(big, 5, 2 ** 32, 'a');
    addBranchHit(big, 5, 2 ** 32, 'a');
    trimFile(big);
    expect(big.branches.get(2 ** 40)).toEqual([2 ** 35, 0.5]);
    expect(big.branches.get(5)).toEqual([2 ** 33]);
    expect(fileTotals(big).branches).toEqual({ covered: 3, total: 3 });
  });
});
