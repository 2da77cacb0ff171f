/**
 * Arrow → PostgreSQL binary COPY (`COPY t FROM STDIN (FORMAT binary)`), the reverse of
 * copy-binary-decoder.ts, for a table whose columns have pgTypeForArrow's types in the Arrow
 * schema's order. Binary COPY spares the server parsing text, and each value is read straight
 * from the Arrow buffers (no Vector.get per value).
 *
 * Values widen as pgOidForArrow says (int8/uint8 → smallint, uint16 → integer, uint32 → bigint,
 * float16 → real); timestamps of any unit become µs since 2000-01-01; dates become days since
 * 2000-01-01; a dictionary writes its decoded values; a list writes a 1-D array.
 */
import { DataType, DateUnit, Precision, Table, TimeUnit, type Data, type Int, type RecordBatch, type Vector } from 'apache-arrow';
import { pgOidForArrow } from './pg-types.ts';

/** Writes one field (its int32 length, then its bytes; −1 alone for NULL) for row `i` of a Data. */
type FieldWriter = (w: ChunkWriter, i: number) => void;

const HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]); // flags 0, no extension

/**
 * The binary COPY stream of these rows: the header, then tuples in chunks of about `chunkBytes`,
 * then the trailer. Throws (when iterated) for a column type pgTypeForArrow rejects.
 */
export function* encodeCopyBinary(table: Table | Iterable<RecordBatch>, chunkBytes = 1 << 20): Generator<Buffer> {
  const w = new ChunkWriter(chunkBytes);
  w.bytes(HEADER);
  for (const batch of table instanceof Table ? table.batches : table) yield* tuples(w, batch);
  yield trailer(w);
}

/** encodeCopyBinary for batches that arrive asynchronously (a store's result stream). */
export async function* encodeCopyBinaryStream(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  chunkBytes = 1 << 20,
): AsyncGenerator<Buffer> {
  const w = new ChunkWriter(chunkBytes);
  w.bytes(HEADER);
  for await (const batch of batches) yield* tuples(w, batch);
  yield trailer(w);
}

/** Writes a batch's rows, yielding each time a chunk fills up. */
function* tuples(w: ChunkWriter, batch: RecordBatch): Generator<Buffer> {
  const writers = batch.schema.fields.map((f, c) => {
    pgOidForArrow(f.type, f.name); // the clear error for a type no writer below handles
    return fieldWriter(batch.data.children[c]!);
  });
  const n = writers.length;
  for (let r = 0; r < batch.numRows; r++) {
    w.ensure(2);
    w.int16(n);
    for (let c = 0; c < n; c++) writers[c]!(w, r);
    if (w.full()) yield w.take();
  }
}

function trailer(w: ChunkWriter): Buffer {
  w.ensure(2);
  w.int16(-1);
  return w.take();
}

/**
 * A growable output buffer; take() hands over what was written and starts a fresh one. Numbers go
 * through a DataView, whose big-endian setters V8 compiles inline (Buffer's writeInt32BE & co.
 * are plain functions with argument checks).
 */
class ChunkWriter {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(private readonly chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(this.allocation());
    this.view = viewOf(this.buf);
  }

  /** Slack past chunkBytes, so the tuple that crosses it rarely forces a reallocation. */
  private allocation(): number {
    return this.chunkBytes + (64 << 10);
  }

  full(): boolean {
    return this.pos >= this.chunkBytes;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const buf = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(buf, 0, 0, this.pos);
    this.buf = buf;
    this.view = viewOf(buf);
  }

  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.allocation());
    this.view = viewOf(this.buf);
    this.pos = 0;
    return out;
  }

  int16(v: number): void {
    this.view.setInt16(this.pos, v);
    this.pos += 2;
  }

  int32(v: number): void {
    this.view.setInt32(this.pos, v);
    this.pos += 4;
  }

  float32(v: number): void {
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
  }

  float64(v: number): void {
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const len = end - start;
    this.ensure(len);
    const { buf, pos } = this;
    if (len < 32) for (let k = 0; k < len; k++) buf[pos + k] = src[start + k]!;
    else buf.set(src.subarray(start, end), pos);
    this.pos = pos + len;
  }
}

function viewOf(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.length);
}

/** The writer for a column's Data, NULLs included. */
function fieldWriter(data: Data): FieldWriter {
  const write = valueWriter(data);
  if (data.nullCount === 0) return write;
  const { nullBitmap, offset } = data;
  return (w, i) => {
    const j = offset + i;
    if ((nullBitmap![j >> 3]! & (1 << (j & 7))) === 0) {
      w.ensure(4);
      w.int32(-1);
    } else {
      write(w, i);
    }
  };
}

/** PostgreSQL's epoch (2000-01-01) as Unix µs, and in days. */
const PG_EPOCH_US = 946_684_800_000_000n;
const EPOCH_HI = Number(PG_EPOCH_US >> 32n);
const EPOCH_LO = Number(PG_EPOCH_US & 0xffffffffn);
const PG_EPOCH_DAYS = 10_957;
const MS_PER_DAY = 86_400_000;

/** The writer of a non-null value of this Data's type. */
function valueWriter(data: Data): FieldWriter {
  const type: DataType = data.type;
  if (DataType.isInt(type)) return intWriter(data as Data<Int>);
  if (DataType.isFloat(type)) {
    const values = data.values as Float32Array | Float64Array | Uint16Array;
    if (type.precision === Precision.DOUBLE) {
      return (w, i) => {
        w.ensure(12);
        w.int32(8);
        w.float64(values[i]!);
      };
    }
    const read = type.precision === Precision.HALF ? (i: number) => halfToFloat(values[i]!) : (i: number) => values[i]!;
    return (w, i) => {
      w.ensure(8);
      w.int32(4);
      w.float32(read(i));
    };
  }
  if (DataType.isBool(type)) {
    const { values, offset } = data;
    return (w, i) => {
      const j = offset + i;
      w.ensure(5);
      w.int32(1);
      w.buf[w.pos++] = (values[j >> 3] >> (j & 7)) & 1;
    };
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
    const offsets = data.valueOffsets as Int32Array | BigInt64Array;
    const values = data.values as Uint8Array;
    const large = offsets instanceof BigInt64Array;
    return (w, i) => {
      const start = large ? Number(offsets[i]) : (offsets[i] as number);
      const end = large ? Number(offsets[i + 1]) : (offsets[i + 1] as number);
      w.ensure(4);
      w.int32(end - start);
      w.bytes(values, start, end);
    };
  }
  if (DataType.isTimestamp(type)) return timestampWriter(data.values as BigInt64Array, type.unit);
  if (DataType.isDate(type)) {
    const days =
      type.unit === DateUnit.DAY
        ? (i: number) => (data.values as Int32Array)[i]!
        : (i: number) => Math.floor(Number((data.values as BigInt64Array)[i]) / MS_PER_DAY);
    return (w, i) => {
      w.ensure(8);
      w.int32(4);
      w.int32(days(i) - PG_EPOCH_DAYS);
    };
  }
  if (DataType.isDictionary(type)) return dictionaryWriter(data.values as ArrayLike<number | bigint>, data.dictionary!);
  if (DataType.isList(type) || DataType.isLargeList(type)) return listWriter(data);
  throw new Error(`Arrow type ${type} cannot be written to PostgreSQL`);
}

/** Integers, widened to the smallint/integer/bigint pgOidForArrow picks. */
function intWriter(data: Data<Int>): FieldWriter {
  const { bitWidth, isSigned } = data.type;
  if (bitWidth === 8 || (bitWidth === 16 && isSigned)) {
    const values = data.values as Int8Array | Uint8Array | Int16Array;
    return (w, i) => {
      w.ensure(6);
      w.int32(2);
      w.int16(values[i]!);
    };
  }
  if (bitWidth === 16 || (bitWidth === 32 && isSigned)) {
    const values = data.values as Uint16Array | Int32Array;
    return (w, i) => {
      w.ensure(8);
      w.int32(4);
      w.int32(values[i]!);
    };
  }
  if (bitWidth === 32) {
    const values = data.values as Uint32Array;
    return (w, i) => {
      w.ensure(12);
      w.int32(8);
      w.int32(0);
      w.int32(values[i]! | 0); // the same 32 bits, read as signed
    };
  }
  // int64: copy the two 32-bit words (low word first on a little-endian host), no BigInt.
  const values = data.values as BigInt64Array;
  const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
  return (w, i) => {
    w.ensure(12);
    w.int32(8);
    w.int32(words[2 * i + 1]!);
    w.int32(words[2 * i]!);
  };
}

/** Timestamps of any unit → int64 µs since 2000-01-01 (finer units round toward −∞, as floor). */
function timestampWriter(values: BigInt64Array, unit: TimeUnit): FieldWriter {
  if (unit === TimeUnit.MICROSECOND) {
    // The common case, in 32-bit words (low word first on a little-endian host): no BigInt per value.
    const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
    return (w, i) => {
      const lo = words[2 * i]! >>> 0;
      const hi = words[2 * i + 1]!;
      const diffLo = lo - EPOCH_LO;
      w.ensure(12);
      w.int32(8);
      w.int32(hi - EPOCH_HI - (diffLo < 0 ? 1 : 0));
      w.int32(diffLo | 0);
    };
  }
  const toMicros: (v: bigint) => bigint =
    unit === TimeUnit.SECOND
      ? (v) => v * 1_000_000n
      : unit === TimeUnit.MILLISECOND
        ? (v) => v * 1_000n
        : (v) => (v >= 0n ? v / 1_000n : -((-v + 999n) / 1_000n));
  return (w, i) => {
    w.ensure(12);
    w.int32(8);
    w.view.setBigInt64(w.pos, BigInt.asIntN(64, toMicros(values[i]!) - PG_EPOCH_US));
    w.pos += 8;
  };
}

/** A dictionary column writes the value its index points at (the value may itself be NULL). */
function dictionaryWriter(indices: ArrayLike<number | bigint>, dictionary: Vector): FieldWriter {
  // The dictionary Vector may have several chunks: find the one holding each index.
  const chunks = dictionary.data.map((d) => ({ length: d.length, write: fieldWriter(d) }));
  return (w, i) => {
    let k = Number(indices[i]);
    for (const chunk of chunks) {
      if (k < chunk.length) return chunk.write(w, k);
      k -= chunk.length;
    }
    throw new Error(`dictionary index ${Number(indices[i])} is out of range`);
  };
}

/**
 * A list → a 1-D array: int32 ndim, int32 has-null flag, int32 element OID, int32 size and lower
 * bound 1, then the elements as fields. An empty list is the zero-dimensional empty array.
 * The array's byte length is known only once the elements are written, so it is patched in after.
 */
function listWriter(data: Data): FieldWriter {
  const offsets = data.valueOffsets as Int32Array | BigInt64Array;
  const child = data.children[0]!;
  const elementOid = pgOidForArrow(child.type, 'list element');
  const element = fieldWriter(child);
  return (w, i) => {
    const start = Number(offsets[i]);
    const count = Number(offsets[i + 1]) - start;
    w.ensure(24);
    const lengthAt = w.pos;
    w.pos += 4;
    w.int32(count === 0 ? 0 : 1);
    w.int32(hasNull(child, start, count) ? 1 : 0);
    w.int32(elementOid | 0);
    if (count > 0) {
      w.int32(count);
      w.int32(1);
      for (let k = start; k < start + count; k++) element(w, k);
    }
    w.view.setInt32(lengthAt, w.pos - lengthAt - 4);
  };
}

function hasNull(data: Data, start: number, count: number): boolean {
  if (data.nullCount === 0) return false;
  for (let k = start; k < start + count; k++) if (!data.getValid(k)) return true;
  return false;
}

/** An IEEE 754 half-precision bit pattern → its value. */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
