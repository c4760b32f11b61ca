import { ArrayPages } from './array-pages.js';

type Numbers = Uint32Array | Float64Array;

const EMPTY = new Uint32Array(0);
// Whole numbers below 2^32 (all real line numbers and hits) take 4 bytes; an array that meets any other number
// a report may hold becomes a Float64Array, so every value stays exact.
const tablePages = new ArrayPages((length) => new Uint32Array(length));
const hitPages = new ArrayPages((length) => new Uint32Array(length));
const wideTablePages = new ArrayPages((length) => new Float64Array(length));
const wideHitPages = new ArrayPages((length) => new Float64Array(length));

const fitsUint32 = (value: number): boolean => Number.isInteger(value) && value >= 0 && value <= 0xffffffff;

function resize(
  view: Numbers,
  length: number,
  narrow: ArrayPages<Uint32Array>,
  wide: ArrayPages<Float64Array>,
): Numbers {
  if (view instanceof Float64Array) return length > view.length ? wide.grow(view, length) : wide.shrink(view, length);
  return length > view.length ? narrow.grow(view, length) : narrow.shrink(view, length);
}

function giveBack(view: Numbers, narrow: ArrayPages<Uint32Array>, wide: ArrayPages<Float64Array>): void {
  if (view instanceof Float64Array) wide.release(view);
  else narrow.release(view);
}

function widen(view: Numbers, wide: ArrayPages<Float64Array>): Float64Array {
  if (view instanceof Float64Array) return view;
  const copy = wide.cut(Math.max(view.length, 16));
  copy.set(view);
  return copy;
}

/**
 * Line number → the hits of each branch leaving that line, and optionally an identity per branch (an LCOV block
 * and branch, a coverage.py destination). Stored in two flat typed arrays per file instead of two arrays per line:
 * a 2-million-line report has some 200 000 branch lines, which took ~200 bytes each as a Map of small arrays.
 */
export class LineBranches {
  /** Per line with branches, 4 numbers: line, start in `hits`, branch count, 1 when the branches have ids. */
  private table: Numbers = EMPTY;
  private rows = 0;
  /** The hits of every branch, each line's branches next to each other. */
  private hits: Numbers = EMPTY;
  private used = 0;
  /** Parallel to `hits` once any branch has an id ('' for none); the strings are shared, not copied. */
  private ids: string[] | undefined;
  /** Row by line, built only once lines arrive out of ascending order; until then rows are binary-searched. */
  private index: Map<number, number> | undefined;

  get size(): number {
    return this.rows;
  }

  /** The row of `line`, or -1. */
  row(line: number): number {
    const rows = this.rows;
    if (rows === 0) return -1;
    // Reports list a line's branches together, so the last row is the usual answer.
    if (this.table[(rows - 1) * 4] === line) return rows - 1;
    if (this.index) return this.index.get(line) ?? -1;
    let low = 0;
    let high = rows - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const at = this.table[mid * 4];
      if (at === line) return mid;
      if (at < line) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }

  length(row: number): number {
    return this.table[row * 4 + 2];
  }

  hasIds(row: number): boolean {
    return this.table[row * 4 + 3] === 1;
  }

  hit(row: number, i: number): number {
    return this.hits[this.table[row * 4 + 1] + i];
  }

  /** The first branch of the row with this id, or -1. */
  findId(row: number, id: string): number {
    if (!this.ids || !this.hasIds(row)) return -1;
    const start = this.table[row * 4 + 1];
    const end = start + this.table[row * 4 + 2];
    for (let i = start; i < end; i++) if (this.ids[i] === id) return i - start;
    return -1;
  }

  addHits(row: number, i: number, hits: number): void {
    const at = this.table[row * 4 + 1] + i;
    const sum = this.hits[at] + hits;
    if (!fitsUint32(sum)) this.hits = widen(this.hits, wideHitPages);
    this.hits[at] = sum;
  }

  /** Replaces (or creates) the branches of a line; with `ids` they keep one id each. */
  set(line: number, hits: ArrayLike<number>, ids?: ArrayLike<string>): void {
    let row = this.row(line);
    if (row === -1) row = this.addRow(line);
    const start = this.used;
    for (let i = 0; i < hits.length; i++) this.pushBranch(hits[i], ids ? ids[i] : '');
    // The old branches stay as dead slots: replacing a line is rare (a Cobertura line listed twice).
    this.table[row * 4 + 1] = start;
    this.table[row * 4 + 2] = hits.length;
    this.table[row * 4 + 3] = ids ? 1 : 0;
  }

  /** Adds one branch to the end of a line's branches. */
  append(row: number, hits: number, id?: string): void {
    const start = this.table[row * 4 + 1];
    const count = this.table[row * 4 + 2];
    if (start + count !== this.used) {
      // Not the last line written: move its branches to the end so they stay next to each other.
      this.table[row * 4 + 1] = this.used;
      for (let i = start; i < start + count; i++) this.pushBranch(this.hits[i], this.ids ? this.ids[i] : '');
    }
    this.pushBranch(hits, id ?? '');
    this.table[row * 4 + 2] = count + 1;
  }

  /** The line's branches are counts only from now on (merged with a report that has no ids). */
  dropIds(row: number): void {
    this.table[row * 4 + 3] = 0;
  }

  /** A new line with no branches yet. */
  addRow(line: number): number {
    const rows = this.rows;
    if (!this.index && rows > 0 && this.table[(rows - 1) * 4] > line) {
      this.index = new Map();
      for (let r = 0; r < rows; r++) this.index.set(this.table[r * 4], r);
    }
    this.index?.set(line, rows);
    if ((rows + 1) * 4 > this.table.length)
      this.table = resize(this.table, Math.max(32, this.table.length * 2), tablePages, wideTablePages);
    if (!fitsUint32(line)) this.table = widen(this.table, wideTablePages);
    this.table[rows * 4] = line;
    this.table[rows * 4 + 1] = this.used;
    this.table[rows * 4 + 2] = 0;
    this.table[rows * 4 + 3] = 0;
    this.rows = rows + 1;
    return rows;
  }

  /** Gives back the room the arrays reserved for growth once a file is complete. */
  trim(): void {
    this.table = resize(this.table, this.rows * 4, tablePages, wideTablePages);
    this.hits = resize(this.hits, this.used, hitPages, wideHitPages);
    if (this.ids) this.ids = this.ids.slice();
  }

  /** Empties the branches and gives their arrays back to their pages. */
  release(): void {
    giveBack(this.table, tablePages, wideTablePages);
    giveBack(this.hits, hitPages, wideHitPages);
    this.table = EMPTY;
    this.hits = EMPTY;
    this.rows = 0;
    this.used = 0;
    this.ids = undefined;
    this.index = undefined;
  }

  /** Covered (hits above zero) and all branches. */
  coverage(): { covered: number; total: number } {
    let covered = 0;
    let total = 0;
    for (let row = 0; row < this.size; row++) {
      const start = this.table[row * 4 + 1];
      const end = start + this.table[row * 4 + 2];
      for (let i = start; i < end; i++) if (this.hits[i] > 0) covered++;
      total += end - start;
    }
    return { covered, total };
  }

  /** Each line with its branches' hits and, for lines with ids, their ids (fresh arrays). */
  *entries(): IterableIterator<[number, number[], string[] | undefined]> {
    for (let row = 0; row < this.size; row++) {
      const start = this.table[row * 4 + 1];
      const end = start + this.table[row * 4 + 2];
      yield [
        this.table[row * 4],
        Array.from(this.hits.subarray(start, end)),
        this.hasIds(row) ? (this.ids ?? []).slice(start, end) : undefined,
      ];
    }
  }

  /** Each line's branch hits (fresh arrays), the Map-like view the gate's callers use. */
  get(line: number): number[] | undefined {
    const row = this.row(line);
    if (row === -1) return undefined;
    const start = this.table[row * 4 + 1];
    return Array.from(this.hits.subarray(start, start + this.table[row * 4 + 2]));
  }

  private pushBranch(hits: number, id: string): void {
    if (id !== '' && !this.ids) this.ids = new Array<string>(this.used).fill('');
    if (this.used === this.hits.length)
      this.hits = resize(this.hits, Math.max(16, this.hits.length * 2), hitPages, wideHitPages);
    if (!fitsUint32(hits)) this.hits = widen(this.hits, wideHitPages);
    this.hits[this.used++] = hits;
    this.ids?.push(id);
  }
}
