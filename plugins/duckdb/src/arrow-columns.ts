/**
 * DuckDB vectors → Arrow columns, by copying DuckDB's vector memory.
 *
 * @duckdb/node-api has no Arrow output, and reading values one by one through its JS accessors
 * is several times slower than copying memory (node-stack-notes §3.1). DuckDB's fixed-width
 * vectors have Arrow's value layout, and its validity mask has Arrow's bitmap layout (bit set =
 * valid, least significant bit first), so those are copied as bytes; strings (16-byte string_t),
 * booleans (a byte each) and lists (offset/length pairs) are re-laid out.
 *
 * A builder accumulates rows from any number of vectors and then yields one Arrow `Data`.
 */
import duckdb from '@duckdb/node-bindings';
import { type DuckDBDecimalType, type DuckDBListType, DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Int8,
  List,
  Time,
  TimeUnit,
  Timestamp,
  Uint16,
  Uint32,
  Uint64,
  Uint8,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';

/**
 * A DuckDB type larder cannot hand to a Feast client as Arrow. Such a column comes from data or
 * SQL a client controls (a source's parquet file, entity_df_sql), so query-stream.ts reports it
 * as the client's to fix, naming the column.
 */
export class UnsupportedColumnType extends Error {
  constructor(readonly duckdbType: string) {
    super(`DuckDB type ${duckdbType} has no Arrow mapping in larder's duckdb store`);
  }
}

/** DECIMAL(width, scale): DuckDB stores it as a 2-, 4-, 8- or 16-byte integer by width. */
function decimalStorageBytes(type: DuckDBDecimalType): number {
  const { width } = type;
  if (width <= 4) return 2;
  if (width <= 9) return 4;
  if (width <= 18) return 8;
  if (width <= 38) return 16;
  throw new UnsupportedColumnType(type.toString());
}

interface FixedWidth {
  readonly arrow: () => DataType;
  readonly width: number;
}

const FIXED: Partial<Record<DuckDBTypeId, FixedWidth>> = {
  [DuckDBTypeId.TINYINT]: { arrow: () => new Int8(), width: 1 },
  [DuckDBTypeId.SMALLINT]: { arrow: () => new Int16(), width: 2 },
  [DuckDBTypeId.INTEGER]: { arrow: () => new Int32(), width: 4 },
  [DuckDBTypeId.BIGINT]: { arrow: () => new Int64(), width: 8 },
  [DuckDBTypeId.UTINYINT]: { arrow: () => new Uint8(), width: 1 },
  [DuckDBTypeId.USMALLINT]: { arrow: () => new Uint16(), width: 2 },
  [DuckDBTypeId.UINTEGER]: { arrow: () => new Uint32(), width: 4 },
  [DuckDBTypeId.UBIGINT]: { arrow: () => new Uint64(), width: 8 },
  [DuckDBTypeId.FLOAT]: { arrow: () => new Float32(), width: 4 },
  [DuckDBTypeId.DOUBLE]: { arrow: () => new Float64(), width: 8 },
  [DuckDBTypeId.DATE]: { arrow: () => new DateDay(), width: 4 },
  [DuckDBTypeId.TIME]: { arrow: () => new Time(TimeUnit.MICROSECOND, 64), width: 8 },
  [DuckDBTypeId.TIMESTAMP_S]: { arrow: () => new Timestamp(TimeUnit.SECOND), width: 8 },
  [DuckDBTypeId.TIMESTAMP_MS]: { arrow: () => new Timestamp(TimeUnit.MILLISECOND), width: 8 },
  [DuckDBTypeId.TIMESTAMP]: { arrow: () => new Timestamp(TimeUnit.MICROSECOND), width: 8 },
  [DuckDBTypeId.TIMESTAMP_NS]: { arrow: () => new Timestamp(TimeUnit.NANOSECOND), width: 8 },
  // DuckDB stores TIMESTAMPTZ as UTC microseconds: exactly Arrow's tz-aware layout.
  [DuckDBTypeId.TIMESTAMP_TZ]: { arrow: () => new Timestamp(TimeUnit.MICROSECOND, 'UTC'), width: 8 },
};

/** The Arrow type a DuckDB column arrives as; throws UnsupportedColumnType. */
export function arrowTypeOf(type: DuckDBType): DataType {
  const fixed = FIXED[type.typeId];
  if (fixed) return fixed.arrow();
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Bool();
    case DuckDBTypeId.VARCHAR:
      return new Utf8();
    case DuckDBTypeId.BLOB:
      return new Binary();
    case DuckDBTypeId.LIST:
      return new List(new Field('item', arrowTypeOf((type as DuckDBListType).valueType), true));
    case DuckDBTypeId.DECIMAL: {
      // As Feast's duckdb store (through pyarrow) returns it: decimal128 of the same precision and scale.
      const decimal = type as DuckDBDecimalType;
      decimalStorageBytes(decimal);
      return new Decimal(decimal.scale, decimal.width, 128);
    }
    default:
      throw new UnsupportedColumnType(type.toString());
  }
}

/** Rows appended from DuckDB vectors, finished into one Arrow Data. */
export interface ColumnBuilder {
  readonly type: DataType;
  readonly length: number;
  /** Appends rows [offset, offset + count) of a flat vector. */
  append(vector: duckdb.Vector, offset: number, count: number): void;
  /** The rows appended so far as Arrow; the builder starts over empty. */
  finish(): Data;
}

/**
 * A builder for a column of `type`; `rows` is how many rows it will most likely take, so
 * fixed-width values get their whole buffer at once: growing by doubling and trimming at the end
 * allocated and copied each batch about three times, and fresh memory is slow to fill.
 */
export function columnBuilder(type: DuckDBType, rows = 2048): ColumnBuilder {
  const fixed = FIXED[type.typeId];
  if (fixed) return new FixedWidthBuilder(fixed.arrow(), fixed.width, rows);
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new BoolBuilder();
    case DuckDBTypeId.VARCHAR:
      return new BytesBuilder(new Utf8());
    case DuckDBTypeId.BLOB:
      return new BytesBuilder(new Binary());
    case DuckDBTypeId.LIST:
      return new ListBuilder(arrowTypeOf(type) as List, columnBuilder((type as DuckDBListType).valueType));
    case DuckDBTypeId.DECIMAL:
      return new DecimalBuilder(arrowTypeOf(type) as Decimal, decimalStorageBytes(type as DuckDBDecimalType), rows);
    default:
      throw new UnsupportedColumnType(type.toString());
  }
}

/** A growable byte buffer (doubling), handing out its filled part. */
class Bytes {
  buffer: Uint8Array;
  length = 0;

  constructor(initial = 1024) {
    this.buffer = new Uint8Array(initial);
  }

  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = Math.max(this.buffer.length * 2, 1024);
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  push(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The filled part; shared, not copied, when it is most of the buffer (the buffer is then replaced). */
  take(): Uint8Array {
    const filled = this.length * 2 > this.buffer.length ? this.buffer.subarray(0, this.length) : this.buffer.slice(0, this.length);
    if (filled.buffer === this.buffer.buffer) this.buffer = new Uint8Array(0);
    this.length = 0;
    return filled;
  }
}

/**
 * Arrow validity built from DuckDB masks. Stays absent (no nulls) until the first null, as Arrow
 * allows; DuckDB also reports "all valid" as a missing mask.
 */
class Validity {
  private bits: Uint8Array | null = null;
  private capacity = 0;
  nullCount = 0;

  append(vector: duckdb.Vector, offset: number, count: number, at: number): void {
    const mask = duckdb.vector_get_validity(vector, Math.ceil((offset + count) / 64) * 8);
    if (!mask) {
      if (this.bits) this.setValid(at, count);
      return;
    }
    for (let i = 0; i < count; i++) {
      const source = offset + i;
      if ((mask[source >>> 3]! >>> (source & 7)) & 1) {
        if (this.bits) this.setValid(at + i, 1);
      } else {
        this.markNull(at + i);
      }
    }
  }

  /** A null at `row`, all earlier rows valid unless marked. */
  markNull(row: number): void {
    if (!this.bits) {
      this.ensure(row + 1);
      this.setValid(0, row);
    }
    this.ensure(row + 1);
    this.bits![row >>> 3]! &= ~(1 << (row & 7));
    this.nullCount++;
  }

  setValid(from: number, count: number): void {
    this.ensure(from + count);
    for (let row = from; row < from + count; row++) this.bits![row >>> 3]! |= 1 << (row & 7);
  }

  private ensure(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, this.capacity * 2, 2048);
    const grown = new Uint8Array(Math.ceil(capacity / 8));
    if (this.bits) grown.set(this.bits);
    this.bits = grown;
    this.capacity = capacity;
  }

  take(length: number): { nullBitmap?: Uint8Array; nullCount: number } {
    const result = this.bits ? { nullBitmap: this.bits.slice(0, Math.ceil(length / 8)), nullCount: this.nullCount } : { nullCount: 0 };
    this.bits = null;
    this.capacity = 0;
    this.nullCount = 0;
    return result;
  }
}

class FixedWidthBuilder implements ColumnBuilder {
  length = 0;
  private readonly values: Bytes;
  private readonly validity = new Validity();

  constructor(
    readonly type: DataType,
    private readonly width: number,
    rows: number,
  ) {
    this.values = new Bytes(rows * width);
  }

  append(vector: duckdb.Vector, offset: number, count: number): void {
    const w = this.width;
    const data = duckdb.vector_get_data(vector, (offset + count) * w);
    this.values.push(data.subarray(offset * w, (offset + count) * w));
    this.validity.append(vector, offset, count, this.length);
    this.length += count;
  }

  finish(): Data {
    const bytes = this.values.take();
    const ArrayType = (this.type as DataType & { ArrayType: { new (b: ArrayBuffer, o: number, n: number): ArrayLike<unknown> } }).ArrayType;
    const data = new ArrayType(bytes.buffer, bytes.byteOffset, this.length);
    const out = makeData({ type: this.type as never, length: this.length, data: data as never, ...this.validity.take(this.length) });
    this.length = 0;
    return out;
  }
}

class BoolBuilder implements ColumnBuilder {
  readonly type = new Bool();
  length = 0;
  private bits = new Uint8Array(256);
  private readonly validity = new Validity();

  append(vector: duckdb.Vector, offset: number, count: number): void {
    const data = duckdb.vector_get_data(vector, offset + count);
    const needed = Math.ceil((this.length + count) / 8);
    if (needed > this.bits.length) {
      const grown = new Uint8Array(Math.max(needed, this.bits.length * 2));
      grown.set(this.bits);
      this.bits = grown;
    }
    for (let i = 0; i < count; i++) {
      const row = this.length + i;
      if (data[offset + i]) this.bits[row >>> 3]! |= 1 << (row & 7);
    }
    this.validity.append(vector, offset, count, this.length);
    this.length += count;
  }

  finish(): Data {
    const out = makeData({
      type: this.type,
      length: this.length,
      data: this.bits.slice(0, Math.ceil(this.length / 8)),
      ...this.validity.take(this.length),
    });
    this.bits = new Uint8Array(256);
    this.length = 0;
    return out;
  }
}

/**
 * DECIMAL → Arrow decimal128: each value is DuckDB's little-endian integer of 2, 4, 8 or 16 bytes
 * (16: hugeint_t, lower uint64 then upper int64, which is an int128's little-endian layout),
 * sign-extended to 16 bytes. Precision and scale carry over unchanged.
 */
class DecimalBuilder implements ColumnBuilder {
  length = 0;
  private readonly values: Bytes;
  private readonly validity = new Validity();

  constructor(
    readonly type: Decimal,
    private readonly width: number,
    rows: number,
  ) {
    this.values = new Bytes(rows * 16);
  }

  append(vector: duckdb.Vector, offset: number, count: number): void {
    const w = this.width;
    const raw = duckdb.vector_get_data(vector, (offset + count) * w);
    this.values.reserve(count * 16);
    const out = this.values.buffer.subarray(this.values.length, this.values.length + count * 16);
    if (w === 16) {
      out.set(raw.subarray(offset * 16, (offset + count) * 16));
    } else {
      for (let i = 0; i < count; i++) {
        const from = (offset + i) * w;
        out.set(raw.subarray(from, from + w), i * 16);
        // Sign extension: the remaining bytes are 0xff for a negative value, else they stay 0.
        out.fill(raw[from + w - 1]! & 0x80 ? 0xff : 0, i * 16 + w, i * 16 + 16);
      }
    }
    this.values.length += count * 16;
    this.validity.append(vector, offset, count, this.length);
    this.length += count;
  }

  finish(): Data {
    const bytes = this.values.take();
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, this.length * 4);
    const out = makeData({ type: this.type, length: this.length, data: words, ...this.validity.take(this.length) });
    this.length = 0;
    return out;
  }
}

/** VARCHAR and BLOB: DuckDB's string_t is a uint32 length, then 12 inline bytes or a pointer. */
class BytesBuilder implements ColumnBuilder {
  length = 0;
  private readonly bytes = new Bytes(64 * 1024);
  private offsets = new Int32Array(2049);
  private readonly validity = new Validity();

  constructor(readonly type: Utf8 | Binary) {}

  append(vector: duckdb.Vector, offset: number, count: number): void {
    const raw = duckdb.vector_get_data(vector, (offset + count) * 16);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const mask = duckdb.vector_get_validity(vector, Math.ceil((offset + count) / 64) * 8);
    if (this.offsets.length < this.length + count + 1) {
      const grown = new Int32Array(Math.max(this.length + count + 1, this.offsets.length * 2));
      grown.set(this.offsets);
      this.offsets = grown;
    }
    for (let i = 0; i < count; i++) {
      const row = offset + i;
      const valid = !mask || ((mask[row >>> 3]! >>> (row & 7)) & 1) === 1;
      if (valid) {
        const at = row * 16;
        const size = view.getUint32(at, true);
        const value =
          size <= 12
            ? raw.subarray(at + 4, at + 4 + size)
            : duckdb.get_data_from_pointer(raw.buffer as ArrayBuffer, raw.byteOffset + at + 8, size);
        this.bytes.push(value);
      }
      this.offsets[this.length + i + 1] = this.bytes.length;
    }
    this.validity.append(vector, offset, count, this.length);
    this.length += count;
  }

  finish(): Data {
    const valueOffsets = this.offsets.slice(0, this.length + 1);
    const out = makeData({
      type: this.type as Utf8,
      length: this.length,
      valueOffsets,
      data: this.bytes.take(),
      ...this.validity.take(this.length),
    });
    this.offsets = new Int32Array(2049);
    this.length = 0;
    return out;
  }
}

/** LIST: DuckDB gives each row an (offset, length) into one child vector. */
class ListBuilder implements ColumnBuilder {
  length = 0;
  private offsets = new Int32Array(2049);
  private readonly validity = new Validity();

  constructor(
    readonly type: List,
    private readonly child: ColumnBuilder,
  ) {}

  append(vector: duckdb.Vector, offset: number, count: number): void {
    const raw = duckdb.vector_get_data(vector, (offset + count) * 16);
    const entries = new BigUint64Array(raw.buffer, raw.byteOffset, (offset + count) * 2);
    const childVector = duckdb.list_vector_get_child(vector);
    if (this.offsets.length < this.length + count + 1) {
      const grown = new Int32Array(Math.max(this.length + count + 1, this.offsets.length * 2));
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.validity.append(vector, offset, count, this.length);
    // Rows usually point at consecutive child ranges: copy those in one go.
    let runStart = -1;
    let runEnd = -1;
    const flush = () => {
      if (runEnd > runStart) this.child.append(childVector, runStart, runEnd - runStart);
    };
    for (let i = 0; i < count; i++) {
      const childOffset = Number(entries[(offset + i) * 2]!);
      const childLength = Number(entries[(offset + i) * 2 + 1]!);
      if (childLength > 0) {
        if (childOffset !== runEnd) {
          flush();
          runStart = childOffset;
        }
        runEnd = childOffset + childLength;
      }
      this.offsets[this.length + i + 1] = this.offsets[this.length + i]! + childLength;
    }
    flush();
    this.length += count;
  }

  finish(): Data {
    const valueOffsets = this.offsets.slice(0, this.length + 1);
    const out = makeData({
      type: this.type,
      length: this.length,
      valueOffsets,
      child: this.child.finish(),
      ...this.validity.take(this.length),
    });
    this.offsets = new Int32Array(2049);
    this.length = 0;
    return out;
  }
}
