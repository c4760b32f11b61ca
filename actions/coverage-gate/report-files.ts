import { byMissedThenPath, detach, newFile, trimFile, type FileCoverage } from './model.js';
import { globToRegExp, type NormalisedPath } from './paths.js';
import { fileTotals, hasMisses, packageOf, TotalsSum, type CoverageTotals, type FoldedFiles } from './totals.js';

/**
 * What a reading does with files once their parser is done with them. Only the files `keepsLines` names keep
 * their per-line counts (changed lines are looked up in them, or they are merged with another copy); every other
 * file is folded into sums when the parser closes it and then forgotten, so that reading a report takes memory
 * for the file being read, not for all of its files and lines.
 */
export interface Folding {
  /** The repository path a report path stands for. */
  key(path: string, sourceRoots: readonly string[]): string;
  keepsLines(key: string): boolean;
  /** A file is folded: its counts, and its uncovered lines while they are still known. */
  fold(key: string, totals: CoverageTotals, missing: () => number[]): void;
}

/**
 * The files of one report while a parser reads it. Parsers `get` a file by the path the report gives (the same
 * path again returns the same file while it is open or kept) and `close` it when its element or record ends.
 * Without a `Folding` (the parsers' tests, the reference model) every file keeps its lines.
 */
export class ReportFiles {
  /** The files kept with their lines, by the path the report gives. */
  readonly files = new Map<string, FileCoverage>();
  /** Directories the report's relative paths are relative to (Cobertura's <source>), as the parser meets them. */
  readonly sourceRoots: string[] = [];
  /** Files folded (a file listed twice and folded twice counts twice: the reading is then done again). */
  folded = 0;
  /** The report's own totals, recounted from its detail; complete once `finish` has run. */
  readonly counted = new TotalsSum();
  private readonly open = new Set<FileCoverage>();
  /**
   * The file closed last, settled (trimmed or folded) only when another file is opened: a report that lists one
   * file in several elements one after the other (a Cobertura class per C# class, as coverlet writes) adds them
   * all to one file instead of folding it twice and having to be read again.
   */
  private pending: FileCoverage | undefined;

  constructor(private readonly folding?: Folding) {}

  /** The file to add to under this report path. */
  get(path: string): FileCoverage {
    if (this.pending && this.pending.path !== path) this.settle();
    let file = this.files.get(path);
    if (file === undefined) {
      const own = detach(path);
      this.files.set(own, (file = newFile(own)));
    }
    this.open.add(file);
    return file;
  }

  /** The parser is done with the file for now; it is trimmed, or folded into its counts and dropped. */
  close(file: FileCoverage): void {
    if (!this.open.delete(file)) return;
    if (!this.folding) {
      trimFile(file);
      return;
    }
    if (this.pending !== file) this.settle();
    this.pending = file;
  }

  private settle(): void {
    const file = this.pending;
    this.pending = undefined;
    if (!file || !this.folding || this.open.has(file)) return;
    const key = file.key ?? this.folding.key(file.path, this.sourceRoots);
    file.key = key;
    if (this.folding.keepsLines(key)) {
      trimFile(file);
      return;
    }
    const totals = fileTotals(file);
    this.counted.add(totals);
    this.folding.fold(key, totals, () => file.lines.missing());
    this.folded++;
    // The arrays go back to their pages, so the next file is written where this one was.
    file.lines.release();
    file.branches.release();
    this.files.delete(file.path);
  }

  /** Closes what the parser left open (a record without end_of_record, the last Go file). */
  finish(): Map<string, FileCoverage> {
    for (const file of [...this.open]) this.close(file);
    this.settle();
    for (const file of this.files.values()) this.counted.add(fileTotals(file));
    return this.files;
  }
}

/** The first `size` rows in `compare` order among all offered, holding at most twice `size` rows at a time. */
export class TopRows<T> {
  private list: T[] = [];
  /** The last row kept by the latest pruning: a row that sorts after it cannot make the list. */
  private floor: T | undefined;

  constructor(
    private readonly size: number,
    private readonly compare: (a: T, b: T) => number,
  ) {}

  /** Offers a row; `complete` fills in what is costly to compute, only for a row that may make the list. */
  offer(row: T, complete?: (row: T) => void): void {
    if (this.size === 0 || (this.floor !== undefined && this.compare(row, this.floor) >= 0)) return;
    complete?.(row);
    this.list.push(row);
    if (this.list.length >= 2 * this.size) this.prune();
  }

  rows(): T[] {
    this.prune();
    return [...this.list];
  }

  private prune(): void {
    this.list.sort(this.compare);
    if (this.list.length >= this.size) {
      this.list.length = this.size;
      this.floor = this.list[this.size - 1];
    }
  }
}

type ListedRow = FoldedFiles['listed'][number];

/** Sums of folded files: in all, by package, by path-threshold glob; and the rows the file table lists first. */
export class FoldedSums {
  private count = 0;
  private listable = 0;
  private readonly totals = new TotalsSum();
  private readonly packages = new Map<string, TotalsSum>();
  private readonly paths: { glob: string; pattern: RegExp; files: number; totals: TotalsSum }[];
  private readonly listed: TopRows<ListedRow>;

  constructor(globs: readonly string[], listed: number) {
    this.paths = globs.map((glob) => ({ glob, pattern: globToRegExp(glob), files: 0, totals: new TotalsSum() }));
    this.listed = new TopRows<ListedRow>(listed, byMissedThenPath);
  }

  add(path: string, totals: CoverageTotals, missing: () => number[]): void {
    this.count++;
    this.totals.add(totals);
    const name = packageOf(path);
    let sum = this.packages.get(name);
    if (!sum) this.packages.set(name, (sum = new TotalsSum()));
    sum.add(totals);
    for (const p of this.paths) {
      if (!p.pattern.test(path)) continue;
      p.files++;
      p.totals.add(totals);
    }
    const missed = totals.lines.total - totals.lines.covered;
    if (hasMisses(totals)) {
      this.listable++;
      this.listed.offer({ path, totals, missed, missingLines: [] }, (row) => (row.missingLines = missing()));
    }
  }

  result(): FoldedFiles {
    return {
      count: this.count,
      listable: this.listable,
      totals: this.totals.result(),
      packages: new Map([...this.packages].map(([name, sum]) => [name, sum.result()])),
      paths: new Map(this.paths.map((p) => [p.glob, { files: p.files, totals: p.totals.result() }])),
      listed: this.listed.rows(),
    };
  }
}

/**
 * A set of strings kept as 53-bit hashes in one typed array (8 bytes a slot) instead of the strings themselves.
 * Two different strings share a hash with a chance of about n / 2^53: `add` may then call a new string known.
 */
export class StringHashes {
  private table = new Float64Array(1024);
  private used = 0;

  /** Adds the string; true when it was not in the set. */
  add(text: string): boolean {
    if (this.add53(StringHashes.hash(text))) {
      if (++this.used * 2 > this.table.length) this.grow();
      return true;
    }
    return false;
  }

  has(text: string): boolean {
    const value = StringHashes.hash(text);
    const mask = this.table.length - 1;
    for (let slot = value % (mask + 1); this.table[slot] !== 0; slot = (slot + 1) & mask) {
      if (this.table[slot] === value) return true;
    }
    return false;
  }

  private static hash(text: string): number {
    let h1 = 0x811c9dc5;
    let h2 = 0x1b873593;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // 32 bits of one hash and 21 of the other: a whole number below 2^53, plus one so that 0 marks a free slot.
    return (h1 >>> 0) * 0x200000 + (h2 & 0x1fffff) + 1;
  }

  private add53(value: number): boolean {
    const mask = this.table.length - 1;
    for (let slot = value % (mask + 1); ; slot = (slot + 1) & mask) {
      const at = this.table[slot];
      if (at === value) return false;
      if (at === 0) {
        this.table[slot] = value;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Float64Array(old.length * 2);
    for (const value of old) if (value !== 0) this.add53(value);
  }
}

/**
 * Folding for one reading of a set of reports: which keys keep their lines, which files were folded twice (so
 * that the reading must be done again keeping them), the sums of the folded files, and the paths that are not
 * in the repository (counted once each, the first `listed` of them in order kept).
 */
export class ReportCollector implements Folding {
  readonly duplicates = new Set<string>();
  readonly sums: FoldedSums;
  readonly unmatched: TopRows<string>;
  unmatchedCount = 0;
  private readonly foldedKeys = new StringHashes();
  private readonly knownKeys = new StringHashes();

  constructor(
    private readonly normalise: (path: string, sourceRoots: readonly string[]) => NormalisedPath,
    private readonly keep: ReadonlySet<string>,
    globs: readonly string[],
    listed: number,
  ) {
    this.sums = new FoldedSums(globs, listed);
    this.unmatched = new TopRows(listed, (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  key(path: string, sourceRoots: readonly string[]): string {
    const normalised = this.normalise(path, sourceRoots);
    if (this.knownKeys.add(normalised.path) && !normalised.matched) {
      this.unmatchedCount++;
      this.unmatched.offer(normalised.path);
    }
    return normalised.path;
  }

  keepsLines(key: string): boolean {
    return this.keep.has(key);
  }

  /** Whether a file of this key was folded (a summary-only entry of it must not count it again). */
  wasFolded(key: string): boolean {
    return this.foldedKeys.has(key);
  }

  fold(key: string, totals: CoverageTotals, missing: () => number[]): void {
    if (!this.foldedKeys.add(key)) this.duplicates.add(key);
    this.sums.add(key, totals, missing);
  }
}
