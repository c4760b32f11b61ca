type NumberArray = Uint32Array | Float64Array;

const PAGE_BYTES = 1 << 20;

/**
 * Typed arrays cut from shared 1 MiB pages. One typed array per source file costs a buffer object and a malloc
 * each, and every small array kept on the JS heap makes V8 grow its young generation (which it sizes by what
 * survives): for 50 000 files of 100 lines that weighed more than the counts themselves. A parser fills one file
 * at a time, so the array being filled is the page's last cut and grows in place.
 */
export class ArrayPages<T extends NumberArray> {
  private page: T;
  private tail = 0;

  constructor(private readonly create: (length: number) => T) {
    this.page = create(0);
  }

  /** A zero-filled array; a large one gets its own buffer. */
  cut(length: number): T {
    const perPage = PAGE_BYTES / this.page.BYTES_PER_ELEMENT;
    if (length > perPage / 8) return this.create(length);
    if (this.tail + length > this.page.length) {
      this.page = this.create(perPage);
      this.tail = 0;
    }
    this.tail += length;
    return this.page.subarray(this.tail - length, this.tail) as T;
  }

  /** A longer array with the same contents, extended in place when it is the page's last cut. */
  grow(view: T, length: number): T {
    const start = view.byteOffset / view.BYTES_PER_ELEMENT;
    if (this.isLastCut(view) && start + length <= this.page.length) {
      this.tail = start + length;
      return this.page.subarray(start, this.tail) as T;
    }
    const grown = this.cut(length);
    grown.set(view);
    return grown;
  }

  /** Gives back what lies past `length`; the caller never wrote there, so a page keeps its zeros. */
  shrink(view: T, length: number): T {
    if (view.length === length) return view;
    if (this.isLastCut(view)) {
      const start = view.byteOffset / view.BYTES_PER_ELEMENT;
      this.tail = start + length;
      return this.page.subarray(start, this.tail) as T;
    }
    const own = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
    return own ? (view.slice(0, length) as T) : view;
  }

  /**
   * The array is no longer used: zeroed, and given back when it is the page's last cut, so that the next file
   * of a report is written where the previous one was.
   */
  release(view: T): void {
    if (!this.isLastCut(view)) return;
    view.fill(0);
    this.tail = view.byteOffset / view.BYTES_PER_ELEMENT;
  }

  private isLastCut(view: T): boolean {
    return (
      view.length > 0 &&
      view.buffer === this.page.buffer &&
      view.byteOffset / view.BYTES_PER_ELEMENT + view.length === this.tail
    );
  }
}
