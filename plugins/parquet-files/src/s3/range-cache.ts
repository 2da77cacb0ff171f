/**
 * The footer ranges of S3 objects, kept between calls: opening a parquet object costs small GETs
 * before any data (the `PAR1` probe, the 8-byte tail, the metadata; then the page index, which is
 * not kept), and every call opens each object again. Entries are keyed by the object's ETag, so a replaced
 * object is a new key and never served stale bytes; the cache holds at most `maxBytes`, least
 * recently used first out.
 */

/** A footer read larger than this is not kept (a file with very many row groups). */
const MAX_ENTRY_BYTES = 4 * 1024 * 1024;

export class RangeCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Whether a read of [start, end) of an object of `size` bytes is footer-like: the `PAR1` probe
   * at the head, a read of the tail (which ends with the footer's length), or a read inside the
   * footer once its start (`footerFrom`) is known. Column chunks and page indexes never are.
   */
  static footerLike(start: number, end: number, size: number, footerFrom: number | undefined): boolean {
    if (end - start > MAX_ENTRY_BYTES) return false;
    return (start === 0 && end <= 8) || end === size || (footerFrom !== undefined && start >= footerFrom);
  }

  /** The cache key of bytes [start, end) of one version of an object. */
  static key(endpoint: string, uri: string, etag: string, start: number, end: number): string {
    return `${endpoint}\n${uri}\n${etag}\n${start}-${end}`;
  }

  get(key: string): Buffer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used goes last.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: Buffer): void {
    if (value.length > this.maxBytes || this.entries.has(key)) return;
    this.entries.set(key, value);
    this.bytes += value.length;
    for (const [oldest, buffer] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= buffer.length;
    }
  }

  /** Bytes held. */
  get size(): number {
    return this.bytes;
  }
}
