import { LineHits } from '../../../actions/coverage-gate/line-hits.js';
import { detach } from '../../../actions/coverage-gate/model.js';

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
