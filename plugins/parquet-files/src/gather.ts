/**
 * "Take" for Arrow JS, which has no compute kernels: builds a column whose row i is row
 * `rowOf[i]` of chunk `chunks[chunkOf[i]]`, or null when `chunkOf[i]` is negative.
 *
 * Buffers are copied directly for every type a feature column usually has (numbers, timestamps,
 * strings, binary, bools, lists, maps, structs), so values keep their exact bits (nanosecond
 * timestamps included). Anything else goes through `Vector.get` and a builder, which is slower
 * and, for timestamps nested in unusual types, only millisecond-exact.
 *
 * Arrow JS slicing conventions relied on here: `values` and `valueOffsets` of a sliced Data are
 * already sub-arrays (index them with the local row), except bool values, which like the validity
 * bitmap are indexed with `offset + row`; struct children are sliced along with their parent.
 */
import { makeBuilder, makeData, makeVector, Type, type Data, type DataType, type Field } from 'apache-arrow';

export function gather(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const kind = String(type);
  if (!chunks.every((c) => c.typeId === type.typeId && String(c.type) === kind)) return gatherByValue(type, chunks, chunkOf, rowOf);
  switch (type.typeId) {
    case Type.Null:
      return makeData({ type, length: chunkOf.length, nullCount: chunkOf.length } as never);
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Duration:
    case Type.Decimal:
    case Type.FixedSizeBinary:
    case Type.Interval:
      return gatherFixedWidth(type, chunks, chunkOf, rowOf);
    case Type.Bool:
      return gatherBool(type, chunks, chunkOf, rowOf);
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return gatherVariableWidth(type, chunks, chunkOf, rowOf);
    case Type.List:
    case Type.LargeList:
    case Type.Map:
      return gatherList(type, chunks, chunkOf, rowOf);
    case Type.FixedSizeList:
      return gatherFixedSizeList(type, chunks, chunkOf, rowOf);
    case Type.Struct:
      return gatherStruct(type, chunks, chunkOf, rowOf);
    case Type.Dictionary:
      return gatherDictionary(type, chunks, chunkOf, rowOf);
    default:
      return gatherByValue(type, chunks, chunkOf, rowOf);
  }
}

/** A column of `length` nulls. */
export function nullColumn(type: DataType, length: number): Data {
  return gather(type, [], new Int32Array(length).fill(-1), new Int32Array(length));
}

function isValid(data: Data, row: number): boolean {
  if (data.nullCount === 0) return true;
  const bit = data.offset + row;
  return (data.nullBitmap![bit >> 3]! & (1 << (bit & 7))) !== 0;
}

interface Validity {
  readonly nullBitmap: Uint8Array | null;
  readonly nullCount: number;
  readonly valid: Uint8Array;
}

function validityOf(chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Validity {
  const n = chunkOf.length;
  const valid = new Uint8Array(n);
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nullCount = 0;
  for (let i = 0; i < n; i++) {
    const c = chunkOf[i]!;
    if (c >= 0 && isValid(chunks[c]!, rowOf[i]!)) {
      valid[i] = 1;
      bitmap[i >> 3]! |= 1 << (i & 7);
    } else nullCount++;
  }
  return { nullBitmap: nullCount > 0 ? bitmap : null, nullCount, valid };
}

function strideOf(type: DataType): number {
  const t = type as DataType & Record<string, unknown>;
  if (type.typeId === Type.Decimal) return (t.bitWidth as number) / 32;
  if (type.typeId === Type.FixedSizeBinary) return t.byteWidth as number;
  if (type.typeId === Type.Interval) return t.unit === 0 ? 1 : t.unit === 1 ? 2 : 4;
  return 1;
}

function gatherFixedWidth(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const n = chunkOf.length;
  const { nullBitmap, nullCount, valid } = validityOf(chunks, chunkOf, rowOf);
  const ArrayType = type.ArrayType as unknown as { new (length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
  const out = new ArrayType(n * strideOf(type));
  // Values are copied as 8-, 16- or 32-bit words: exact bits (NaN payloads too) and no BigInts.
  const bytesPerValue = ArrayType.BYTES_PER_ELEMENT * strideOf(type);
  const wordBytes = Math.min(4, bytesPerValue);
  const words = bytesPerValue / wordBytes;
  const view = (v: ArrayBufferView, length: number) =>
    wordBytes === 4
      ? new Int32Array(v.buffer, v.byteOffset, length)
      : wordBytes === 2
        ? new Uint16Array(v.buffer, v.byteOffset, length)
        : new Uint8Array(v.buffer, v.byteOffset, length);
  const target = view(out, n * words);
  const sources = chunks.map((c) => view(c.values as ArrayBufferView, (c.values as ArrayBufferView).byteLength / wordBytes));
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const src = sources[chunkOf[i]!]!;
    const from = rowOf[i]! * words;
    for (let k = 0; k < words; k++) target[i * words + k] = src[from + k]!;
  }
  return makeData({ type, length: n, nullCount, nullBitmap, data: out } as never);
}

function gatherBool(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const n = chunkOf.length;
  const { nullBitmap, nullCount, valid } = validityOf(chunks, chunkOf, rowOf);
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const src = chunks[chunkOf[i]!]!;
    const bit = src.offset + rowOf[i]!;
    if ((src.values as Uint8Array)[bit >> 3]! & (1 << (bit & 7))) out[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type, length: n, nullCount, nullBitmap, data: out } as never);
}

function gatherVariableWidth(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const n = chunkOf.length;
  const large = type.typeId === Type.LargeUtf8 || type.typeId === Type.LargeBinary;
  const { nullBitmap, nullCount, valid } = validityOf(chunks, chunkOf, rowOf);
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const offsets = chunks[chunkOf[i]!]!.valueOffsets as Int32Array | BigInt64Array;
    starts[i] = Number(offsets[rowOf[i]!]!);
    ends[i] = Number(offsets[rowOf[i]! + 1]!);
    total += ends[i]! - starts[i]!;
  }
  const bytes = new Uint8Array(total);
  const offsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) {
      bytes.set((chunks[chunkOf[i]!]!.values as Uint8Array).subarray(starts[i]!, ends[i]!), at);
      at += ends[i]! - starts[i]!;
    }
    offsets[i + 1] = large ? BigInt(at) : at;
  }
  return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, data: bytes } as never);
}

function gatherList(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const n = chunkOf.length;
  const large = type.typeId === Type.LargeList;
  const { nullBitmap, nullCount, valid } = validityOf(chunks, chunkOf, rowOf);
  const offsets = large ? new BigInt64Array(n + 1) : new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i]) {
      const src = chunks[chunkOf[i]!]!.valueOffsets as Int32Array | BigInt64Array;
      total += Number(src[rowOf[i]! + 1]!) - Number(src[rowOf[i]!]!);
    }
    offsets[i + 1] = large ? BigInt(total) : total;
  }
  const childChunkOf = new Int32Array(total);
  const childRowOf = new Int32Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    const src = chunks[chunkOf[i]!]!.valueOffsets as Int32Array | BigInt64Array;
    for (let k = Number(src[rowOf[i]!]!), end = Number(src[rowOf[i]! + 1]!); k < end; k++) {
      childChunkOf[at] = chunkOf[i]!;
      childRowOf[at++] = k;
    }
  }
  const childType = (type.children[0] as Field).type;
  const child = gather(
    childType,
    chunks.map((c) => c.children[0]!),
    childChunkOf,
    childRowOf,
  );
  return makeData({ type, length: n, nullCount, nullBitmap, valueOffsets: offsets, child } as never);
}

function gatherFixedSizeList(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const n = chunkOf.length;
  const size = (type as DataType & { listSize: number }).listSize;
  const { nullBitmap, nullCount, valid } = validityOf(chunks, chunkOf, rowOf);
  const childChunkOf = new Int32Array(n * size).fill(-1);
  const childRowOf = new Int32Array(n * size);
  for (let i = 0; i < n; i++) {
    if (!valid[i]) continue;
    for (let k = 0; k < size; k++) {
      childChunkOf[i * size + k] = chunkOf[i]!;
      childRowOf[i * size + k] = rowOf[i]! * size + k;
    }
  }
  const childType = (type.children[0] as Field).type;
  const child = gather(
    childType,
    chunks.map((c) => c.children[0]!),
    childChunkOf,
    childRowOf,
  );
  return makeData({ type, length: n, nullCount, nullBitmap, child } as never);
}

function gatherStruct(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const { nullBitmap, nullCount } = validityOf(chunks, chunkOf, rowOf);
  const children = (type.children as Field[]).map((field, j) =>
    gather(
      field.type,
      chunks.map((c) => c.children[j]!),
      chunkOf,
      rowOf,
    ),
  );
  return makeData({ type, length: chunkOf.length, nullCount, nullBitmap, children } as never);
}

function gatherDictionary(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const dictionary = chunks[0]?.dictionary;
  if (!chunks.every((c) => c.dictionary === dictionary)) return gatherByValue(type, chunks, chunkOf, rowOf);
  const indexType = (type as DataType & { indices: DataType }).indices;
  const indices = gatherFixedWidth(
    indexType,
    chunks.map((c) => c.clone(indexType)),
    chunkOf,
    rowOf,
  );
  return makeData({
    type,
    length: chunkOf.length,
    nullCount: indices.nullCount,
    nullBitmap: indices.nullBitmap,
    data: indices.values,
    dictionary,
  } as never);
}

/** The slow, general path: read each value as JS and rebuild the column with a builder. */
function gatherByValue(type: DataType, chunks: readonly Data[], chunkOf: Int32Array, rowOf: Int32Array): Data {
  const vectors = chunks.map((c) => makeVector(c));
  const builder = makeBuilder({ type, nullValues: [null, undefined] });
  for (let i = 0; i < chunkOf.length; i++) {
    const c = chunkOf[i]!;
    builder.append(c < 0 ? null : vectors[c]!.get(rowOf[i]!));
  }
  return builder.finish().flush();
}
