import { ArrayPages } from './array-pages.js';

/** Beyond this a line number is stored sparsely: a dense array would be mostly holes. */
const DENSE_LIMIT = 1 << 24;

/** Hits are stored plus one, so that 0 marks a line that is not a statement; larger counts go to the Map. */
const DENSE_MAX_HITS = 0xfffffffe;

const EMPTY = new Uint32Array(0);
const pages = new ArrayPages((length) => new Uint32Array(length));

/**
 * Line number → hits, with the Map methods the gate uses, stored as one Uint32Array per file (hits + 1, 0 for a
 * line that is not a statement), trimmed to its last line when the parser leaves the file. Two million lines
 * take 8 MB instead of the ~150 MB of Map entries. Falls back to a Map for very sparse line numbers and for hit
 * counts that are not whole numbers below 2^32 - 1.
 */
export class LineHits {
  private dense = EMPTY;
  private sparse: Map<number, number> | undefined;
  private count = 0;
  /** One past the highest line stored densely. */
  private end = 0;

  constructor(entries?: Iterable<[number, number]>) {
    if (entries) for (const [line, hits] of entries) this.set(line, hits);
  }

  get size(): number {
    return this.sparse ? this.sparse.size : this.count;
  }

  get(line: number): number | undefined {
    if (this.sparse) return this.sparse.get(line);
    const stored = line >= 0 && line < this.end ? this.dense[line] : 0;
    return stored === 0 ? undefined : stored - 1;
  }

  has(line: number): boolean {
    return this.get(line) !== undefined;
  }

  set(line: number, hits: number): this {
    if (this.sparse) {
      this.sparse.set(line, hits);
      return this;
    }
    if (
      !Number.isInteger(line) ||
      line < 0 ||
      line >= DENSE_LIMIT ||
      line > 8 * (this.count + 1024) ||
      !Number.isInteger(hits) ||
      hits < 0 ||
      hits > DENSE_MAX_HITS
    ) {
      this.sparse = new Map(this.entries());
      this.dense = EMPTY;
      this.sparse.set(line, hits);
      return this;
    }
    if (line >= this.dense.length) {
      this.dense = pages.grow(this.dense, Math.max(line + 1, this.dense.length * 2, 64));
    }
    if (this.dense[line] === 0) this.count++;
    this.dense[line] = hits + 1;
    if (line >= this.end) this.end = line + 1;
    return this;
  }

  /** Gives back the room reserved for growth once a file is complete (it can still grow again). */
  trim(): void {
    if (!this.sparse) this.dense = pages.shrink(this.dense, this.end);
  }

  /** Lines with hits above zero and all lines, in one pass over the array. */
  coverage(): { covered: number; total: number } {
    if (this.sparse) {
      let covered = 0;
      for (const hits of this.sparse.values()) if (hits > 0) covered++;
      return { covered, total: this.sparse.size };
    }
    let covered = 0;
    const dense = this.dense;
    for (let line = 0; line < this.end; line++) if (dense[line] > 1) covered++;
    return { covered, total: this.count };
  }

  /** Lines with no hits, ascending. */
  missing(): number[] {
    if (this.sparse)
      return [...this.sparse]
        .filter(([, hits]) => hits === 0)
        .map(([line]) => line)
        .sort((a, b) => a - b);
    const lines: number[] = [];
    for (let line = 0; line < this.end; line++) if (this.dense[line] === 1) lines.push(line);
    return lines;
  }

  /** Empties the counts and gives their array back to its page. */
  release(): void {
    pages.release(this.dense);
    this.dense = EMPTY;
    this.sparse = undefined;
    this.count = 0;
    this.end = 0;
  }

  *entries(): IterableIterator<[number, number]> {
    if (this.sparse) {
      yield* this.sparse.entries();
      return;
    }
    for (let line = 0; line < this.end; line++) {
      const stored = this.dense[line];
      if (stored !== 0) yield [line, stored - 1];
    }
  }

  *keys(): IterableIterator<number> {
    for (const [line] of this.entries()) yield line;
  }

  *values(): IterableIterator<number> {
    for (const [, hits] of this.entries()) yield hits;
  }

  [Symbol.iterator](): IterableIterator<[number, number]> {
    return this.entries();
  }
}
