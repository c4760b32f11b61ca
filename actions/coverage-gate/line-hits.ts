/** Beyond this a line number is stored sparsely: a dense array would be mostly holes. */
const DENSE_LIMIT = 1 << 24;

/**
 * Line number → hits, with the Map methods the gate uses, stored as one Float64Array per file (NaN for a line
 * that is not a statement). Two million lines take 16 MB instead of the ~150 MB of Map entries, which keeps a
 * 200 MB report's model well below the report's size. Falls back to a Map for very sparse line numbers.
 */
export class LineHits {
  private dense = new Float64Array(0);
  private sparse: Map<number, number> | undefined;
  private count = 0;

  constructor(entries?: Iterable<[number, number]>) {
    if (entries) for (const [line, hits] of entries) this.set(line, hits);
  }

  get size(): number {
    return this.sparse ? this.sparse.size : this.count;
  }

  get(line: number): number | undefined {
    if (this.sparse) return this.sparse.get(line);
    const hits = line >= 0 && line < this.dense.length ? this.dense[line] : NaN;
    return Number.isNaN(hits) ? undefined : hits;
  }

  has(line: number): boolean {
    return this.get(line) !== undefined;
  }

  set(line: number, hits: number): this {
    if (this.sparse) {
      this.sparse.set(line, hits);
      return this;
    }
    if (!Number.isInteger(line) || line < 0 || line >= DENSE_LIMIT || line > 8 * (this.count + 1024)) {
      this.sparse = new Map(this.entries());
      this.sparse.set(line, hits);
      return this;
    }
    if (line >= this.dense.length) {
      const grown = new Float64Array(Math.max(line + 1, this.dense.length * 2, 64)).fill(NaN);
      grown.set(this.dense);
      this.dense = grown;
    }
    if (Number.isNaN(this.dense[line])) this.count++;
    this.dense[line] = hits;
    return this;
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
    for (let line = 0; line < dense.length; line++) if (dense[line] > 0) covered++;
    return { covered, total: this.count };
  }

  *entries(): IterableIterator<[number, number]> {
    if (this.sparse) {
      yield* this.sparse.entries();
      return;
    }
    for (let line = 0; line < this.dense.length; line++) {
      const hits = this.dense[line];
      if (!Number.isNaN(hits)) yield [line, hits];
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
