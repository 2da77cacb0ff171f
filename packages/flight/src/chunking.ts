/**
 * Re-chunking of outgoing record batches, as pure functions over batches.
 *
 * - Splitting: many clients keep gRPC's default 4 MiB receive limit (the Rust/tonic client does),
 *   so no FlightData may exceed it. Large batches are sliced (zero copy) into pieces of about
 *   `targetBytes`; slices start on multiples of 8 rows so validity bitmaps stay views.
 * - Coalescing: stores that produce many tiny batches (DuckDB's 2048-row chunks) would cost a
 *   gRPC message and a client-side chunk each; consecutive small batches are copied into one
 *   batch of about `targetBytes`. This is the only place that copies, and only small batches.
 */
import { Data, DataType, RecordBatch, type Schema, Struct, type Field, type Vector } from 'apache-arrow';
import { compareSchemas } from 'apache-arrow/visitor/typecomparator';
import { measureBody } from './assembler.ts';

export interface ChunkingOptions {
  /** Hard cap on one FlightData message: header, body and protobuf framing. */
  readonly maxMessageBytes: number;
  /** Body size that split pieces and coalesced batches aim for. */
  readonly targetBytes: number;
  /** Batches with a smaller body are merged with their neighbours; 0 disables merging. */
  readonly coalesceBelowBytes: number;
}

export const DEFAULT_CHUNKING: ChunkingOptions = {
  maxMessageBytes: 4 * 1024 * 1024 - 32 * 1024,
  targetBytes: 2 * 1024 * 1024,
  coalesceBelowBytes: 256 * 1024,
};

function countFields(fields: readonly Field[]): number {
  let n = 0;
  for (const f of fields) n += 1 + countFields(f.type.children ?? []);
  return n;
}

/**
 * Room left for the body once the header is accounted for: a record batch header holds one
 * 16-byte FieldNode per field and up to three 16-byte buffer regions per field, plus a fixed part.
 */
export function maxBodyBytes(schema: Schema, options: ChunkingOptions = DEFAULT_CHUNKING): number {
  return options.maxMessageBytes - (1024 + 64 * countFields(schema.fields));
}

const align8Down = (n: number): number => n & ~7;

/** Slices `batch` so every piece's body fits `maxBodyBytes`; a batch that fits is returned as is. */
export function splitBatch(batch: RecordBatch, options: ChunkingOptions = DEFAULT_CHUNKING): RecordBatch[] {
  const limit = maxBodyBytes(batch.schema, options);
  const size = measureBody(batch);
  if (size <= limit || batch.numRows <= 1) return [batch];
  const pieces = Math.ceil(size / Math.min(options.targetBytes, limit));
  let rows = Math.ceil(batch.numRows / pieces);
  if (rows > 8) rows = align8Down(rows);
  const out: RecordBatch[] = [];
  for (let start = 0; start < batch.numRows; start += rows) {
    fit(batch, start, Math.min(rows, batch.numRows - start), limit, out);
  }
  return out;
}

/** Halves a slice until it fits (rows can be very uneven in variable-width columns). */
function fit(batch: RecordBatch, start: number, count: number, limit: number, out: RecordBatch[]): void {
  const piece = batch.slice(start, start + count);
  if (count <= 1 || measureBody(piece) <= limit) {
    // A single row above the limit cannot be split; it is sent as it is.
    out.push(piece);
    return;
  }
  let half = Math.ceil(count / 2);
  if (half > 8) half = align8Down(half);
  fit(batch, start, half, limit, out);
  fit(batch, start + half, count - half, limit, out);
}

// ---------------------------------------------------------------------------------------------
// Concatenation (for coalescing)

/** Whether batches of this type can be merged by `concatBatches`. */
export function canConcat(type: DataType): boolean {
  if (DataType.isUnion(type) || DataType.isUtf8View(type) || DataType.isBinaryView(type)) return false;
  if (DataType.isDictionary(type)) return canConcat(type.indices);
  return (type.children ?? []).every((f: Field) => canConcat(f.type));
}

function dictionariesOf(batch: RecordBatch): (Vector | undefined)[] {
  return batch.data.children.map((c) => c.dictionary);
}

/** Whether two batches can share one merged batch: same schema, same dictionaries. */
function mergeable(a: RecordBatch, b: RecordBatch): boolean {
  if (a.schema !== b.schema && !compareSchemas(a.schema, b.schema)) return false;
  const da = dictionariesOf(a);
  const db = dictionariesOf(b);
  return da.every((d, i) => d === db[i]);
}

type Bitmap = { bits: Uint8Array | null | undefined; offset: number; length: number };

/** Concatenates bit ranges; a missing bitmap means all bits set (no nulls). */
function concatBits(ranges: readonly Bitmap[], total: number): Uint8Array {
  const out = new Uint8Array(((total + 63) & ~63) >> 3);
  let pos = 0;
  for (const { bits, offset, length } of ranges) {
    if (!bits) {
      for (let i = 0; i < length; i++, pos++) out[pos >> 3]! |= 1 << (pos & 7);
      continue;
    }
    if ((pos & 7) === 0 && (offset & 7) === 0) {
      const n = (length + 7) >> 3;
      out.set(bits.subarray(offset >> 3, (offset >> 3) + n), pos >> 3);
      // Clear bits past `length` copied from the source's last byte.
      if (length & 7) out[(pos + length) >> 3]! &= (1 << ((pos + length) & 7)) - 1;
      pos += length;
      continue;
    }
    for (let i = 0; i < length; i++, pos++) {
      const s = offset + i;
      if (bits[s >> 3]! & (1 << (s & 7))) out[pos >> 3]! |= 1 << (pos & 7);
    }
  }
  return out;
}

type TypedArray = Exclude<ArrayBufferView, DataView> & { length: number; set(a: ArrayLike<unknown>, o?: number): void };
type TypedArrayCtor = new (n: number) => TypedArray;

function concatTyped(parts: readonly TypedArray[]): TypedArray {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new (parts[0]!.constructor as TypedArrayCtor)(total);
  let pos = 0;
  for (const p of parts) {
    out.set(p as unknown as ArrayLike<unknown>, pos);
    pos += p.length;
  }
  return out;
}

/** Offsets of consecutive ranges, rebased to one 0-based run. Returns the offsets and each range. */
function concatOffsets(parts: readonly Data[]): { offsets: Int32Array | BigInt64Array; ranges: [number, number][] } {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const wide = parts[0]!.valueOffsets instanceof BigInt64Array;
  const out = wide ? new BigInt64Array(total + 1) : new Int32Array(total + 1);
  const ranges: [number, number][] = [];
  let pos = 0;
  let base = 0;
  for (const p of parts) {
    const offs = p.valueOffsets as Int32Array | BigInt64Array;
    const first = Number(offs[0]!);
    const last = Number(offs[p.length]!);
    if (wide) {
      const o = offs as BigInt64Array;
      const shift = BigInt(base) - o[0]!;
      for (let i = 1; i <= p.length; i++) (out as BigInt64Array)[pos + i] = o[i]! + shift;
    } else {
      const o = offs as Int32Array;
      const shift = base - o[0]!;
      for (let i = 1; i <= p.length; i++) (out as Int32Array)[pos + i] = o[i]! + shift;
    }
    ranges.push([first, last]);
    pos += p.length;
    base += last - first;
  }
  return { offsets: out, ranges };
}

/** One contiguous Data holding the rows of `parts` in order. */
export function concatData(parts: readonly Data[]): Data {
  const first = parts[0]!;
  const type = first.type as DataType;
  if (parts.length === 1 && first.offset === 0) return first;
  const length = parts.reduce((n, p) => n + p.length, 0);
  if (DataType.isNull(type)) return new Data(type, 0, length, length);
  const nullCount = parts.reduce((n, p) => n + p.nullCount, 0);
  const nullBitmap =
    nullCount > 0
      ? concatBits(
          parts.map((p) => ({ bits: p.nullCount > 0 ? p.nullBitmap : null, offset: p.offset, length: p.length })),
          length,
        )
      : undefined;
  const make = (valueOffsets: unknown, values: unknown, children: Data[] = [], dictionary?: Vector) =>
    new Data(type, 0, length, nullCount, [valueOffsets, values, nullBitmap] as never, children, dictionary);

  if (DataType.isDictionary(type)) {
    const indices = concatTyped(
      parts.map((p) => (p.values as TypedArray & { subarray(a: number, b: number): TypedArray }).subarray(0, p.length)),
    );
    return make(undefined, indices, [], first.dictionary);
  }
  if (DataType.isBool(type)) {
    const values = concatBits(
      parts.map((p) => ({ bits: p.values as Uint8Array, offset: p.offset, length: p.length })),
      length,
    );
    return make(undefined, values);
  }
  if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
    const { offsets, ranges } = concatOffsets(parts);
    const values = concatTyped(parts.map((p, i) => (p.values as Uint8Array).subarray(ranges[i]![0], ranges[i]![1])));
    return make(offsets, values);
  }
  if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isMap(type)) {
    const { offsets, ranges } = concatOffsets(parts);
    const child = concatData(parts.map((p, i) => p.children[0]!.slice(ranges[i]![0], ranges[i]![1] - ranges[i]![0])));
    return make(offsets, undefined, [child]);
  }
  if (DataType.isFixedSizeList(type)) {
    return make(undefined, undefined, [concatData(parts.map((p) => p.children[0]!))]);
  }
  if (DataType.isStruct(type)) {
    const children = type.children.map((_: Field, i: number) => concatData(parts.map((p) => p.children[i]!)));
    return make(undefined, undefined, children);
  }
  if (!canConcat(type) || !first.values) throw new TypeError(`Cannot concatenate Arrow ${String(type)} data`);
  // Fixed width: ints, floats, decimals, dates, times, timestamps, intervals, durations, fixed binary.
  const values = concatTyped(
    parts.map((p) => (p.values as TypedArray & { subarray(a: number, b: number): TypedArray }).subarray(0, p.length * p.stride)),
  );
  return make(undefined, values);
}

/** Merges batches of one schema (and the same dictionaries) into one batch, copying once. */
export function concatBatches(batches: readonly RecordBatch[]): RecordBatch {
  if (batches.length === 1) return batches[0]!;
  const schema = batches[0]!.schema;
  const length = batches.reduce((n, b) => n + b.numRows, 0);
  const children = schema.fields.map((_, i) => concatData(batches.map((b) => b.data.children[i]!)));
  const data = new Data(new Struct(schema.fields), 0, length, 0, undefined, children);
  return new RecordBatch(schema, data as Data<Struct>, batches[0]!.metadata);
}

// ---------------------------------------------------------------------------------------------
// The stream transformation

/**
 * Splits and coalesces a sequence of batches. Pure state machine: `push` each batch, take the
 * batches it returns, and `flush` at the end.
 */
export class Rechunker {
  private pending: RecordBatch[] = [];
  private pendingBytes = 0;

  constructor(private readonly options: ChunkingOptions = DEFAULT_CHUNKING) {}

  push(batch: RecordBatch): RecordBatch[] {
    const { coalesceBelowBytes, targetBytes } = this.options;
    const size = coalesceBelowBytes > 0 ? measureBody(batch) : Infinity;
    const small = size < coalesceBelowBytes && batch.schema.fields.every((f) => canConcat(f.type));
    if (!small) return [...this.flush(), ...splitBatch(batch, this.options)];

    const out: RecordBatch[] = [];
    const last = this.pending[this.pending.length - 1];
    if (last && (!mergeable(last, batch) || this.pendingBytes + size > targetBytes)) out.push(...this.flush());
    this.pending.push(batch);
    this.pendingBytes += size;
    if (this.pendingBytes >= targetBytes) out.push(...this.flush());
    return out;
  }

  flush(): RecordBatch[] {
    if (this.pending.length === 0) return [];
    const merged = concatBatches(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    // A merge of batches each under the cap can still exceed it when targetBytes is set high.
    return splitBatch(merged, this.options);
  }
}

/** Re-chunks a whole list of batches. */
export function rechunkAll(batches: Iterable<RecordBatch>, options: ChunkingOptions = DEFAULT_CHUNKING): RecordBatch[] {
  const r = new Rechunker(options);
  const out: RecordBatch[] = [];
  for (const b of batches) out.push(...r.push(b));
  out.push(...r.flush());
  return out;
}

/** Re-chunks a stream of batches; returning early returns the source too. */
export async function* rechunk(
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  options: ChunkingOptions = DEFAULT_CHUNKING,
): AsyncGenerator<RecordBatch, void, undefined> {
  const r = new Rechunker(options);
  for await (const b of batches) yield* r.push(b);
  yield* r.flush();
}
