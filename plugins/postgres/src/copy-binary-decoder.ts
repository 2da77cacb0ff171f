/**
 * PostgreSQL binary COPY (`COPY (query) TO STDOUT (FORMAT binary)`) → Arrow RecordBatches.
 *
 * Binary COPY is the cheapest way out of PostgreSQL: no text formatting on the server, no per-row
 * protocol messages, and values arrive in fixed layouts that copy straight into Arrow buffers.
 * Each column appends into typed arrays of its own rather than through Arrow's Builder classes
 * (less work per value: no per-value type dispatch or conversion to JS strings), and a RecordBatch
 * is cut every `batchRows` rows so memory stays bounded however large the result is.
 *
 * Stream layout (all integers big-endian): the 11-byte signature, int32 flags, int32 header
 * extension length and the extension; then tuples, each an int16 field count (−1 ends the stream)
 * followed per field by an int32 byte length (−1 = NULL) and that many bytes. Tuples straddle the
 * chunks the connection delivers, so the unparsed tail of a chunk waits for the next one.
 */
import { endianness } from 'node:os';
import { Field, RecordBatch, Schema, Struct, makeData, type Data, type DataType } from 'apache-arrow';
import { PG_ARRAY_ELEMENT, PG_OID, arrowTypeForPg } from './pg-types.ts';

/** A result column as the server describes it (RowDescription: name and type OID). */
export interface PgColumn {
  readonly name: string;
  readonly typeOid: number;
}

/** The schema of the batches decoded from these columns; every field is nullable. */
export function schemaForColumns(columns: readonly PgColumn[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowTypeForPg(c.typeOid, c.name), true)));
}

export const DEFAULT_BATCH_ROWS = 65_536;

// 64-bit values are written as two 32-bit words into a view of a BigInt64Array (no BigInt per
// value); that needs the word order of a little-endian host, as Arrow's own buffers do.
if (endianness() !== 'LE') throw new Error('larder decodes PostgreSQL COPY on little-endian hosts only');

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER_BYTES = SIGNATURE.length + 8;
/** Flags bit 16: each tuple carries an OID field (servers before 12, `WITH OIDS` only). */
const FLAG_HAS_OIDS = 1 << 16;

/**
 * Decodes one binary COPY stream. Feed it chunks in order with push(), then call finish(); both
 * return the batches completed so far (each exactly `batchRows` rows, except the last).
 */
export class CopyBinaryDecoder {
  readonly schema: Schema;
  private readonly columns: Column[];
  private readonly batchRows: number;
  private rows = 0;
  private headerDone = false;
  private trailerSeen = false;
  /**
   * The unparsed end of earlier chunks (an incomplete header or tuple) in a reused buffer; the
   * next chunk is appended to it, so a tuple cut by a chunk boundary costs a copy, not an allocation.
   */
  private carry = new Uint8Array(1 << 16);
  private carryBytes = 0;
  /** How many bytes the incomplete item needs at least, so tiny chunks are not re-parsed. */
  private neededBytes = 0;

  constructor(columns: readonly PgColumn[], batchRows = DEFAULT_BATCH_ROWS) {
    if (!Number.isInteger(batchRows) || batchRows < 1) throw new Error(`batchRows must be a positive integer, not ${batchRows}`);
    this.schema = schemaForColumns(columns);
    this.batchRows = batchRows;
    this.columns = columns.map((c, i) => columnFor(c.typeOid, this.schema.fields[i]!.type, batchRows));
  }

  /** Parses a chunk of the stream; returns the batches it completed. */
  push(chunk: Uint8Array): RecordBatch[] {
    if (chunk.length === 0) return [];
    if (this.trailerSeen) throw new Error('binary COPY stream has data after its trailer');
    let bytes = chunk;
    if (this.carryBytes > 0) {
      this.appendCarry(chunk);
      if (this.carryBytes < this.neededBytes) return [];
      bytes = this.carry;
    }
    const end = bytes === chunk ? chunk.length : this.carryBytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, end);
    const batches: RecordBatch[] = [];
    let pos = 0;
    let needed = 0;
    if (!this.headerDone) {
      needed = headerLength(bytes.subarray(0, end));
      if (needed <= end) {
        pos = needed;
        needed = 0;
        this.headerDone = true;
      }
    }
    if (this.headerDone) {
      const { columns, batchRows } = this;
      const count = columns.length;
      while (true) {
        if (pos + 2 > end) {
          needed = pos + 2;
          break;
        }
        const fields = view.getInt16(pos);
        if (fields === -1) {
          this.trailerSeen = true;
          pos += 2;
          if (pos < end) throw new Error('binary COPY stream has data after its trailer');
          break;
        }
        if (fields !== count) throw new Error(`binary COPY tuple has ${fields} fields, expected ${count}`);
        // Fields are appended as they come; a tuple cut short by the chunk's end is taken back
        // out of the columns it reached, and parsed again once the rest has arrived.
        let p = pos + 2;
        let c = 0;
        for (; c < count; c++) {
          if (p + 4 > end) {
            needed = p + 4;
            break;
          }
          const len = view.getInt32(p);
          p += 4;
          if (len < 0) {
            if (len !== -1) throw new Error(`binary COPY field has length ${len}`);
            columns[c]!.appendNull();
          } else if (p + len > end) {
            needed = p + len;
            break;
          } else {
            columns[c]!.append(view, bytes, p, len);
            p += len;
          }
        }
        if (c < count) {
          for (let k = 0; k < c; k++) columns[k]!.truncate(this.rows);
          break;
        }
        pos = p;
        if (++this.rows === batchRows) batches.push(this.cutBatch());
      }
    }
    this.keepTail(bytes, pos, end);
    this.neededBytes = needed > 0 ? needed - pos : 0;
    return batches;
  }

  /** Ends the stream: returns the last, partial batch (none when it would be empty). */
  finish(): RecordBatch[] {
    if (!this.trailerSeen) {
      const where = this.carryBytes > 0 ? (this.headerDone ? 'in the middle of a tuple' : 'in its header') : 'without its trailer';
      throw new Error(`binary COPY stream ended ${where} (after ${this.rows} rows of the current batch)`);
    }
    return this.rows > 0 ? [this.cutBatch()] : [];
  }

  private appendCarry(chunk: Uint8Array): void {
    const total = this.carryBytes + chunk.length;
    if (total > this.carry.length) {
      const carry = new Uint8Array(Math.max(total, this.carry.length * 2));
      carry.set(this.carry.subarray(0, this.carryBytes));
      this.carry = carry;
    }
    this.carry.set(chunk, this.carryBytes);
    this.carryBytes = total;
  }

  /** Moves bytes[pos, end) to the start of the carry buffer. */
  private keepTail(bytes: Uint8Array, pos: number, end: number): void {
    if (bytes === this.carry) {
      this.carry.copyWithin(0, pos, end);
      this.carryBytes = end - pos;
    } else {
      this.carryBytes = 0;
      if (pos < end) this.appendCarry(bytes.subarray(pos, end));
    }
  }

  private cutBatch(): RecordBatch {
    const length = this.rows;
    this.rows = 0;
    const children = this.columns.map((c) => c.flush());
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }
}

/** Decodes a whole binary COPY stream (e.g. pg-copy-streams' `to` Readable) batch by batch. */
export async function* decodeCopyBinary(
  chunks: AsyncIterable<Uint8Array>,
  columns: readonly PgColumn[],
  batchRows = DEFAULT_BATCH_ROWS,
): AsyncGenerator<RecordBatch> {
  const decoder = new CopyBinaryDecoder(columns, batchRows);
  for await (const chunk of chunks) yield* decoder.push(chunk);
  yield* decoder.finish();
}

/** The header's total length, once its fixed part is there (until then, its fixed length). */
function headerLength(bytes: Uint8Array): number {
  if (bytes.length < HEADER_BYTES) return HEADER_BYTES;
  if (SIGNATURE.compare(bytes, 0, SIGNATURE.length) !== 0) throw new Error('not a PostgreSQL binary COPY stream (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getInt32(SIGNATURE.length) & FLAG_HAS_OIDS) throw new Error('binary COPY stream WITH OIDS is not supported');
  return HEADER_BYTES + view.getInt32(SIGNATURE.length + 4);
}


// ---------------------------------------------------------------------------------------------
// Columns: each appends one PostgreSQL binary value at a time and hands its rows over as Data.
// Every class implements append() itself, so a value costs one dynamic call, not two.

/**
 * Storage grows on demand (doubling from the batch size), so a list's element column uses the
 * same code as a top-level column. Validity starts all-set and a NULL clears its bit, so non-null
 * values cost nothing there; the bitmap is left out of the Data when there were no NULLs.
 */
abstract class Column {
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

function malformed(what: string, len: number): Error {
  return new Error(`malformed binary COPY value: ${what} of ${len} bytes`);
}

type FixedArray = Int32Array | Float32Array | Float64Array | BigInt64Array;

/** Columns with one typed-array slot per row. */
abstract class FixedColumn<A extends FixedArray> extends Column {
  protected values: A;

  constructor(
    type: DataType,
    capacity: number,
    private readonly ArrayType: { new (n: number): A },
  ) {
    super(type, capacity);
    this.values = new ArrayType(0);
  }

  protected resize(capacity: number): void {
    const values = new this.ArrayType(capacity);
    values.set(this.values.subarray(0, this.length) as never);
    this.values = values;
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.type as never, length, nullCount, nullBitmap, data: this.values.subarray(0, length) as never });
  }
}

/** int2 and int4 → Int32 (Feast widens smallint). */
class Int32Column extends FixedColumn<Int32Array> {
  constructor(type: DataType, capacity: number, private readonly width: 2 | 4) {
    super(type, capacity, Int32Array);
  }

  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== this.width) throw malformed(`int${this.width}`, len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = this.width === 4 ? view.getInt32(pos) : view.getInt16(pos);
  }
}

class Float32Column extends FixedColumn<Float32Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 4) throw malformed('float4', len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = view.getFloat32(pos);
  }
}

class Float64Column extends FixedColumn<Float64Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('float8', len);
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = view.getFloat64(pos);
  }
}

/** Powers of ten a double holds exactly (as literals, so no pow() rounding). */
const EXACT_POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

/**
 * numeric → the nearest double (what float(Decimal) gives in Feast). The value is ±digits ×
 * 10000^(weight − ndigits + 1) with base-10000 digits; when the digits form an exact integer and
 * the power of ten is exact, one multiplication or division rounds correctly; otherwise the
 * decimal text goes through Number(), which also rounds correctly.
 */
class NumericColumn extends FixedColumn<Float64Array> {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (this.length === this.capacity) this.grow();
    this.values[this.length++] = readNumeric(view, pos, len);
  }
}

function readNumeric(view: DataView, pos: number, len: number): number {
  if (len < 8) throw malformed('numeric', len);
  const ndigits = view.getUint16(pos);
  const weight = view.getInt16(pos + 2);
  const sign = view.getUint16(pos + 4);
  if (sign === 0xc000) return NaN;
  if (sign === 0xd000) return Infinity;
  if (sign === 0xf000) return -Infinity;
  if (len !== 8 + 2 * ndigits) throw malformed('numeric', len);
  let mantissa = 0;
  for (let k = 0; k < ndigits; k++) mantissa = mantissa * 10_000 + view.getUint16(pos + 8 + 2 * k);
  const exponent = 4 * (weight - ndigits + 1);
  let value: number;
  if (Number.isSafeInteger(mantissa) && Math.abs(exponent) <= 22) {
    value = exponent >= 0 ? mantissa * EXACT_POW10[exponent]! : mantissa / EXACT_POW10[-exponent]!;
  } else {
    let digits = '';
    for (let k = 0; k < ndigits; k++) digits += String(view.getUint16(pos + 8 + 2 * k)).padStart(4, '0');
    value = Number(`${digits}e${exponent}`);
  }
  return sign === 0x4000 ? -value : value;
}

/** PostgreSQL's epoch (2000-01-01) as Unix microseconds, split into 32-bit words. */
const PG_EPOCH_US = 946_684_800_000_000;
const EPOCH_HI = Math.floor(PG_EPOCH_US / 2 ** 32);
const EPOCH_LO = PG_EPOCH_US - EPOCH_HI * 2 ** 32;
const US_PER_DAY = 86_400_000_000;
const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/**
 * 64-bit columns (int8, timestamps, dates) in a BigInt64Array, written through a view of its
 * 32-bit words (the low word first on a little-endian host) so no value becomes a BigInt.
 */
abstract class Int64Column extends FixedColumn<BigInt64Array> {
  protected words: Int32Array<ArrayBufferLike> = new Int32Array(0);

  constructor(type: DataType, capacity: number) {
    super(type, capacity, BigInt64Array);
  }

  protected override resize(capacity: number): void {
    super.resize(capacity);
    this.words = new Int32Array(this.values.buffer);
  }
}

class BigintColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('int8', len);
    if (this.length === this.capacity) this.grow();
    const w = 2 * this.length++;
    this.words[w] = view.getInt32(pos + 4);
    this.words[w + 1] = view.getInt32(pos);
  }
}

/** timestamp and timestamptz: int64 µs since 2000-01-01 → Unix µs. */
class TimestampColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 8) throw malformed('timestamp', len);
    const hi = view.getInt32(pos);
    const lo = view.getUint32(pos + 4);
    if (this.length === this.capacity) this.grow();
    const w = 2 * this.length++;
    // ±infinity are int64's extremes, and adding the epoch would wrap them around: keep them.
    if (hi === INT32_MAX || hi === INT32_MIN) {
      this.words[w] = lo;
      this.words[w + 1] = hi;
      return;
    }
    const sumLo = lo + EPOCH_LO;
    this.words[w] = sumLo; // an Int32Array stores it modulo 2^32
    this.words[w + 1] = hi + EPOCH_HI + (sumLo >= 2 ** 32 ? 1 : 0);
  }
}

/** date: int32 days since 2000-01-01 → Unix µs at midnight; ±infinity → int64's extremes. */
class DateColumn extends Int64Column {
  append(view: DataView, _bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 4) throw malformed('date', len);
    const days = view.getInt32(pos);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    if (days === INT32_MAX || days === INT32_MIN) {
      this.values[i] = days === INT32_MAX ? 0x7fffffffffffffffn : -0x8000000000000000n;
      return;
    }
    const us = days * US_PER_DAY + PG_EPOCH_US;
    if (Number.isSafeInteger(us)) {
      const hi = Math.floor(us / 2 ** 32);
      this.words[2 * i] = us - hi * 2 ** 32;
      this.words[2 * i + 1] = hi;
    } else {
      // Beyond ±285 years of 1970 the double is inexact: do it in BigInt (rare, slower).
      this.values[i] = BigInt.asIntN(64, BigInt(days) * BigInt(US_PER_DAY) + BigInt(PG_EPOCH_US));
    }
  }
}

/** bool: one byte per value → Arrow's bit-packed values. */
class BoolColumn extends Column {
  private bits = new Uint8Array(0);

  append(_view: DataView, bytes: Uint8Array, pos: number, len: number): void {
    if (len !== 1) throw malformed('bool', len);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    if (bytes[pos] !== 0) this.bits[i >> 3]! |= 1 << (i & 7);
  }

  protected resize(capacity: number): void {
    const bits = new Uint8Array((capacity + 7) >> 3);
    bits.set(this.bits.subarray(0, (this.length + 7) >> 3));
    this.bits = bits;
  }

  protected override truncated(length: number, previous: number): void {
    // Those rows will be written again, and a write only ever sets bits.
    for (let i = length; i < previous; i++) this.bits[i >> 3]! &= ~(1 << (i & 7));
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({ type: this.type as never, length, nullCount, nullBitmap, data: this.bits.subarray(0, (length + 7) >> 3) as never });
  }
}

/** Variable-width values (Utf8, Binary): int32 offsets plus one byte buffer, copied verbatim. */
class BytesColumn extends Column {
  protected offsets = new Int32Array(1);
  protected bytes = new Uint8Array(0);
  protected used = 0;

  append(_view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    const at = this.reserve(len);
    const { bytes } = this;
    // Short values are the common case, and a loop beats a native copy's call cost there.
    if (len < 32) for (let k = 0; k < len; k++) bytes[at + k] = src[pos + k]!;
    else bytes.set(src.subarray(pos, pos + len), at);
    this.offsets[i + 1] = this.used;
  }

  protected override nullAppended(i: number): void {
    this.offsets[i + 1] = this.used;
  }

  protected override truncated(length: number): void {
    this.used = this.offsets[length]!;
  }

  /** Makes room for `len` more bytes; returns where they go (and counts them as used). */
  protected reserve(len: number): number {
    const at = this.used;
    const end = at + len;
    if (end > INT32_MAX) throw new Error('one text/bytea column of a batch exceeds 2 GiB: use a smaller batchRows');
    if (end > this.bytes.length) {
      const bytes = new Uint8Array(Math.min(INT32_MAX, Math.max(end, this.bytes.length * 2, 1 << 16)));
      bytes.set(this.bytes.subarray(0, at));
      this.bytes = bytes;
    }
    this.used = end;
    return at;
  }

  protected resize(capacity: number): void {
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = offsets;
    if (capacity === 0) {
      this.bytes = new Uint8Array(0);
      this.used = 0;
    }
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({
      type: this.type as never, length, nullCount, nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1), data: this.bytes.subarray(0, this.used),
    });
  }
}

/** jsonb: a format version byte (1), then the JSON text. */
class JsonbColumn extends BytesColumn {
  override append(view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (len < 1 || src[pos] !== 1) throw new Error(`unsupported jsonb binary format version ${src[pos]}`);
    super.append(view, src, pos + 1, len - 1);
  }
}

const HEX = new TextEncoder().encode('0123456789abcdef');

/** uuid: 16 bytes → the canonical lowercase 8-4-4-4-12 text (36 ASCII bytes). */
class UuidColumn extends BytesColumn {
  override append(_view: DataView, src: Uint8Array, pos: number, len: number): void {
    if (len !== 16) throw malformed('uuid', len);
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    let at = this.reserve(36);
    const { bytes } = this;
    for (let k = 0; k < 16; k++) {
      if (k === 4 || k === 6 || k === 8 || k === 10) bytes[at++] = 0x2d; // '-'
      const b = src[pos + k]!;
      bytes[at++] = HEX[b >> 4]!;
      bytes[at++] = HEX[b & 15]!;
    }
    this.offsets[i + 1] = this.used;
  }
}

/**
 * 1-D arrays → List<element>: int32 ndim, int32 has-null flag, int32 element OID, per dimension
 * int32 size and lower bound, then the elements as fields (int32 length or −1, bytes).
 */
class ListColumn extends Column {
  private offsets = new Int32Array(1);

  constructor(
    type: DataType,
    capacity: number,
    private readonly elementOid: number,
    private readonly elements: Column,
  ) {
    super(type, capacity);
  }

  append(view: DataView, bytes: Uint8Array, pos: number, len: number): void {
    const end = pos + len;
    if (len < 12) throw malformed('array', len);
    const ndim = view.getInt32(pos);
    const elementOid = view.getUint32(pos + 8);
    if (elementOid !== this.elementOid) throw new Error(`array element type oid ${elementOid}, expected ${this.elementOid}`);
    if (ndim > 1) throw new Error(`${ndim}-dimensional arrays cannot be returned as Arrow lists (only 1-dimensional)`);
    let count = 0;
    let p = pos + 12;
    if (ndim === 1) {
      if (len < 20) throw malformed('array', len);
      count = view.getInt32(p);
      p += 8; // size and lower bound: an Arrow list starts at 0 whatever the lower bound
    }
    for (let k = 0; k < count; k++) {
      if (p + 4 > end) throw malformed('array', len);
      const elen = view.getInt32(p);
      p += 4;
      if (elen < 0) {
        this.elements.appendNull();
      } else {
        if (p + elen > end) throw malformed('array', len);
        this.elements.append(view, bytes, p, elen);
        p += elen;
      }
    }
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.offsets[i + 1] = this.offsets[i]! + count;
  }

  protected override nullAppended(i: number): void {
    this.offsets[i + 1] = this.offsets[i]!;
  }

  protected override truncated(length: number): void {
    this.elements.truncate(this.offsets[length]!);
  }

  protected resize(capacity: number): void {
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets.subarray(0, this.length + 1));
    this.offsets = offsets;
  }

  protected toData(length: number, nullCount: number, nullBitmap: Uint8Array | undefined): Data {
    return makeData({
      type: this.type as never, length, nullCount, nullBitmap,
      valueOffsets: this.offsets.subarray(0, length + 1), child: this.elements.flush(),
    });
  }
}

/** The column that decodes values of `oid` into Arrow `type` (as arrowTypeForPg chose it). */
function columnFor(oid: number, type: DataType, capacity: number): Column {
  const element = PG_ARRAY_ELEMENT.get(oid);
  if (element !== undefined) {
    // Elements have no known count per batch: start small and let the column grow.
    return new ListColumn(type, capacity, element, columnFor(element, type.children[0]!.type, 1024));
  }
  switch (oid) {
    case PG_OID.int2: return new Int32Column(type, capacity, 2);
    case PG_OID.int4: return new Int32Column(type, capacity, 4);
    case PG_OID.float4: return new Float32Column(type, capacity, Float32Array);
    case PG_OID.float8: return new Float64Column(type, capacity, Float64Array);
    case PG_OID.numeric: return new NumericColumn(type, capacity, Float64Array);
    case PG_OID.int8: return new BigintColumn(type, capacity);
    case PG_OID.timestamp:
    case PG_OID.timestamptz: return new TimestampColumn(type, capacity);
    case PG_OID.date: return new DateColumn(type, capacity);
    case PG_OID.bool: return new BoolColumn(type, capacity);
    case PG_OID.uuid: return new UuidColumn(type, capacity);
    case PG_OID.jsonb: return new JsonbColumn(type, capacity);
    default: return new BytesColumn(type, capacity); // text-like, json (its text) and bytea
  }
}
