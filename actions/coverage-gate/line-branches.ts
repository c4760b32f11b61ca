/**
 * Line number → the hits of each branch leaving that line, and optionally an identity per branch (an LCOV block
 * and branch, a coverage.py destination). Stored in a few flat arrays per file instead of two arrays per line:
 * a 2-million-line report has some 200 000 branch lines, which took ~200 bytes each as a Map of small arrays.
 */
export class LineBranches {
  /** Per line with branches, 4 numbers: line, start in `hits`, branch count, 1 when the branches have ids. */
  private table: number[] = [];
  /** The hits of every branch, each line's branches next to each other. */
  private hits: number[] = [];
  /** Parallel to `hits` once any branch has an id ('' for none); the strings are shared, not copied. */
  private ids: string[] | undefined;
  /** Row by line, built only once lines arrive out of ascending order; until then rows are binary-searched. */
  private index: Map<number, number> | undefined;

  get size(): number {
    return this.table.length / 4;
  }

  /** The row of `line`, or -1. */
  row(line: number): number {
    const rows = this.table.length / 4;
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
    this.hits[this.table[row * 4 + 1] + i] += hits;
  }

  /** Replaces (or creates) the branches of a line; with `ids` they keep one id each. */
  set(line: number, hits: ArrayLike<number>, ids?: ArrayLike<string>): void {
    let row = this.row(line);
    if (row === -1) row = this.addRow(line);
    const start = this.hits.length;
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
    if (start + count !== this.hits.length) {
      // Not the last line written: move its branches to the end so they stay next to each other.
      this.table[row * 4 + 1] = this.hits.length;
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
    const rows = this.table.length / 4;
    if (!this.index && rows > 0 && this.table[(rows - 1) * 4] > line) {
      this.index = new Map();
      for (let r = 0; r < rows; r++) this.index.set(this.table[r * 4], r);
    }
    this.index?.set(line, rows);
    this.table.push(line, this.hits.length, 0, 0);
    return rows;
  }

  /** Gives back the room the arrays reserved for growth once a file is complete. */
  trim(): void {
    this.table = this.table.slice();
    this.hits = this.hits.slice();
    if (this.ids) this.ids = this.ids.slice();
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
        this.hits.slice(start, end),
        this.hasIds(row) ? (this.ids ?? []).slice(start, end) : undefined,
      ];
    }
  }

  /** Each line's branch hits (fresh arrays), the Map-like view the gate's callers use. */
  get(line: number): number[] | undefined {
    const row = this.row(line);
    if (row === -1) return undefined;
    const start = this.table[row * 4 + 1];
    return this.hits.slice(start, start + this.table[row * 4 + 2]);
  }

  private pushBranch(hits: number, id: string): void {
    if (id !== '' && !this.ids) this.ids = new Array<string>(this.hits.length).fill('');
    this.hits.push(hits);
    this.ids?.push(id);
  }
}
