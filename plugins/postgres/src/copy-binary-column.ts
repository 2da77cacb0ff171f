/**
 * The base of the binary COPY column builders (copy-binary-columns.ts): growing storage and the
 * validity bitmap, shared by every kind of value.
 */
import type { Data, DataType } from 'apache-arrow';

export const INT32_MAX = 2 ** 31 - 1;
export const INT32_MIN = -(2 ** 31);

/**
 * Storage grows on demand (doubling from the batch size), so a list's element column uses the
 * same code as a top-level column. Validity starts all-set and a NULL clears its bit, so non-null
 * values cost nothing there; the bitmap is left out of the Data when there were no NULLs.
 */
export abstract class Column {
  protected length = 0;
  protected capacity = 0;
  private nullCount = 0;
  private validity = new Uint8Array(0);

  constructor(
    readonly type: DataType,
    private readonly initialCapacity: number,
  ) {}

  /** Appends one non-null value: the `len` bytes at `pos` (read through `view` or `bytes`). */
  abstract append(view: DataView, bytes: Uint8Array, pos: number, len: number): void;

  appendNull(): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.validity[i >> 3]! &= ~(1 << (i & 7));
    this.nullCount++;
    this.nullAppended(i);
  }

  /** Drops the rows from `length` on (the fields of a tuple the chunk cut short). */
  truncate(length: number): void {
    for (let i = length; i < this.length; i++) {
      const bit = 1 << (i & 7);
      if ((this.validity[i >> 3]! & bit) === 0) {
        this.validity[i >> 3]! |= bit;
        this.nullCount--;
      }
    }
    const previous = this.length;
    this.length = length;
    this.truncated(length, previous);
  }

  /** The rows appended so far as Arrow Data; the column starts over empty. */
  flush(): Data {
    const { length, nullCount } = this;
    const nullBitmap = nullCount > 0 ? this.validity.subarray(0, (length + 7) >> 3) : undefined;
    const data = this.toData(length, nullCount, nullBitmap);
    this.length = 0;
    this.capacity = 0;
    this.nullCount = 0;
    this.validity = new Uint8Array(0);
    this.resize(0);
    return data;
  }

  /**
   * Makes room when full. Each append() claims its row inline with
   * `if (this.length === this.capacity) this.grow(); const i = this.length++;`:
   * as a shared method, V8 did not inline it and decoding took half as long again.
   */
  protected grow(): void {
    const capacity = Math.max(this.initialCapacity, this.capacity * 2);
    const validity = new Uint8Array((capacity + 7) >> 3).fill(0xff);
    validity.set(this.validity.subarray(0, (this.length + 7) >> 3));
    this.validity = validity;
    this.resize(capacity);
    this.capacity = capacity;
  }

  /** Reallocates value storage for `capacity` rows, keeping the first `length`. */
  protected abstract resize(capacity: number): void;
  protected nullAppended(_i: number): void {}
  protected truncated(_length: number, _previous: number): void {}
  protected abstract toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data;
}

export function malformed(what: string, len: number): Error {
  return new Error(`malformed binary COPY value: ${what} of ${len} bytes`);
}
