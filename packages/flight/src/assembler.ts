/**
 * Lays out a record batch as the body of an Arrow IPC message: field nodes, buffer regions and
 * the buffers themselves, as views wherever the Arrow layout allows.
 *
 * This replaces apache-arrow's VectorAssembler on our hot path because, for sliced data (which the
 * chunker produces all the time), VectorAssembler copies the *whole* parent validity bitmap into
 * every slice (`truncateBitmap` keeps the parent's size) and re-packs bits one by one when the
 * slice starts mid-byte. Here a slice starting on a multiple of 8 rows sends a view of exactly its
 * own bytes, and other slices copy only their own bytes with a byte-wise shift.
 *
 * The same walk also runs in "measure" mode, which computes the body length without allocating,
 * so the chunker can size slices exactly.
 */
import { Data, DataType, type RecordBatch, type Vector } from 'apache-arrow';
import { BufferRegion, FieldNode } from 'apache-arrow/ipc/metadata/message';

export interface BodyLayout {
  readonly nodes: FieldNode[];
  readonly regions: BufferRegion[];
  /** One entry per region; each is padded to 8 bytes when laid out. */
  readonly buffers: Uint8Array[];
  readonly variadicBufferCounts: number[];
  /** Body length including padding. */
  readonly byteLength: number;
}

const EMPTY = new Uint8Array(0);
const MAX_LENGTH = 2 ** 31 - 1;
const pad8 = (n: number): number => (n + 7) & ~7;

function bytesOf(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** The bits [offset, offset+length) of a bitmap, starting at bit 0 of the result. */
export function sliceBitmap(bitmap: Uint8Array, offset: number, length: number): Uint8Array {
  const nbytes = (length + 7) >> 3;
  const start = offset >> 3;
  const shift = offset & 7;
  if (shift === 0) return bitmap.subarray(start, start + nbytes);
  const out = new Uint8Array(nbytes);
  const last = bitmap.byteLength - 1;
  for (let i = 0; i < nbytes; i++) {
    const lo = bitmap[start + i]! >>> shift;
    const hi = start + i + 1 <= last ? (bitmap[start + i + 1]! << (8 - shift)) & 0xff : 0;
    out[i] = lo | hi;
  }
  return out;
}

/** Offsets [0, length] shifted so the first is 0 (a view when already 0-based). */
function rebasedOffsets(offsets: Int32Array | BigInt64Array, length: number): Int32Array | BigInt64Array {
  const view = offsets.subarray(0, length + 1);
  const first = view[0]!;
  if (first === 0 || first === 0n) return view;
  if (view instanceof BigInt64Array) {
    const out = new BigInt64Array(length + 1);
    const delta = first as bigint;
    for (let i = 0; i <= length; i++) out[i] = view[i]! - delta;
    return out;
  }
  const out = new Int32Array(length + 1);
  const delta = first as number;
  for (let i = 0; i <= length; i++) out[i] = view[i]! - delta;
  return out;
}

class Walker {
  readonly nodes: FieldNode[] = [];
  readonly regions: BufferRegion[] = [];
  readonly buffers: Uint8Array[] = [];
  readonly variadicBufferCounts: number[] = [];
  byteLength = 0;

  constructor(private readonly measureOnly: boolean) {}

  /** In measure mode `make` is never called: only the length counts. */
  private add(byteLength: number, make: () => ArrayBufferView): void {
    const padded = pad8(byteLength);
    if (!this.measureOnly) {
      const bytes = byteLength === 0 ? EMPTY : bytesOf(make());
      if (bytes.byteLength !== byteLength) throw new Error(`internal: buffer of ${bytes.byteLength} bytes, expected ${byteLength}`);
      this.buffers.push(bytes);
      this.regions.push(new BufferRegion(this.byteLength, padded));
    }
    this.byteLength += padded;
  }

  private node(length: number, nullCount: number): void {
    if (!this.measureOnly) this.nodes.push(new FieldNode(length, nullCount));
  }

  visit(data: Data): void {
    const type = data.type as DataType;
    if (DataType.isDictionary(type)) {
      // Indices travel in the record batch; the dictionary goes in its own DictionaryBatch.
      return this.visit(data.clone(type.indices));
    }
    const { length, offset } = data;
    if (length > MAX_LENGTH) throw new RangeError('Cannot write arrays longer than 2^31 - 1 in Arrow IPC');
    if (DataType.isUnion(type)) {
      this.node(length, 0);
      return this.visitUnion(data);
    }
    const nullCount = DataType.isNull(type) ? length : data.nullCount;
    this.node(length, nullCount);
    if (DataType.isNull(type)) return;
    const bitmap = data.nullBitmap;
    if (nullCount > 0 && bitmap && bitmap.byteLength > 0) {
      this.add((length + 7) >> 3, () => sliceBitmap(bitmap, offset, length));
    } else {
      this.add(0, () => EMPTY);
    }

    if (DataType.isBool(type)) {
      const values = data.values as Uint8Array | undefined;
      const n = (length + 7) >> 3;
      if (!values || values.byteLength === 0) return this.add(n, () => new Uint8Array(n));
      return this.add(n, () => sliceBitmap(values, offset, length));
    }
    if (
      DataType.isInt(type) ||
      DataType.isFloat(type) ||
      DataType.isDecimal(type) ||
      DataType.isDate(type) ||
      DataType.isTime(type) ||
      DataType.isTimestamp(type) ||
      DataType.isInterval(type) ||
      DataType.isDuration(type) ||
      DataType.isFixedSizeBinary(type)
    ) {
      // Data.slice already moved `values` to the first row of the slice.
      const values = data.values as ArrayBufferView & { BYTES_PER_ELEMENT: number; subarray(a: number, b: number): ArrayBufferView };
      const count = length * data.stride;
      return this.add(count * values.BYTES_PER_ELEMENT, () => values.subarray(0, count));
    }
    if (DataType.isUtf8(type) || DataType.isBinary(type) || DataType.isLargeUtf8(type) || DataType.isLargeBinary(type)) {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const begin = Number(offsets[0]!);
      const end = Number(offsets[length]!);
      const values = data.values as Uint8Array;
      this.add((length + 1) * offsets.BYTES_PER_ELEMENT, () => rebasedOffsets(offsets, length));
      return this.add(end - begin, () => values.subarray(begin, end));
    }
    if (DataType.isUtf8View(type) || DataType.isBinaryView(type)) {
      const views = data.values as Uint8Array;
      const width = 16;
      this.add(length * width, () => views.subarray(0, length * width));
      const variadic = (data.variadicBuffers ?? []) as readonly Uint8Array[];
      for (const buffer of variadic) this.add(buffer.byteLength, () => buffer);
      if (!this.measureOnly) this.variadicBufferCounts.push(variadic.length);
      return;
    }
    if (DataType.isList(type) || DataType.isLargeList(type) || DataType.isMap(type)) {
      const offsets = data.valueOffsets as Int32Array | BigInt64Array;
      const begin = Number(offsets[0]!);
      const end = Number(offsets[length]!);
      this.add((length + 1) * offsets.BYTES_PER_ELEMENT, () => rebasedOffsets(offsets, length));
      return this.visit(data.children[0]!.slice(begin, end - begin));
    }
    if (DataType.isFixedSizeList(type)) {
      // Data.slice already sliced the child by `listSize` per row.
      return this.visit(data.children[0]!);
    }
    if (DataType.isStruct(type)) {
      for (let i = 0; i < type.children.length; i++) this.visit(data.children[i]!);
      return;
    }
    throw new TypeError(`Arrow type ${String(type)} cannot be sent over Flight by larder`);
  }

  private visitUnion(data: Data): void {
    const type = data.type as DataType;
    const { length } = data;
    const typeIds = data.typeIds as Int8Array;
    this.add(length, () => typeIds.subarray(0, length));
    if (DataType.isSparseUnion(type)) {
      for (const child of data.children) this.visit(child);
      return;
    }
    // Dense union: each child is addressed through its own offsets; send, per child, only the
    // range this slice refers to, with offsets rebased to it.
    const offsets = data.valueOffsets as Int32Array;
    const typeIdList = (type as unknown as { typeIds: number[] }).typeIds;
    const first = new Map<number, number>();
    const last = new Map<number, number>();
    for (let i = 0; i < length; i++) {
      const id = typeIds[i]!;
      const o = offsets[i]!;
      if (!first.has(id) || o < first.get(id)!) first.set(id, o);
      if (!last.has(id) || o > last.get(id)!) last.set(id, o);
    }
    this.add(length * 4, () => {
      const shifted = new Int32Array(length);
      for (let i = 0; i < length; i++) shifted[i] = offsets[i]! - first.get(typeIds[i]!)!;
      return shifted;
    });
    data.children.forEach((child, index) => {
      const id = typeIdList[index]!;
      const begin = first.get(id);
      this.visit(begin === undefined ? child.slice(0, 0) : child.slice(begin, last.get(id)! - begin + 1));
    });
  }
}

function columns(source: RecordBatch | Vector | Data): readonly Data[] {
  if (source instanceof Data) return [source];
  if ('schema' in source) return (source as RecordBatch).data.children;
  return (source as Vector).data;
}

/** The body of a RecordBatch message for `batch` (or a DictionaryBatch for a dictionary vector). */
export function assembleBody(source: RecordBatch | Vector | Data): BodyLayout {
  const walker = new Walker(false);
  for (const data of columns(source)) walker.visit(data);
  return walker;
}

/** The body length `assembleBody` would produce, without allocating. */
export function measureBody(source: RecordBatch | Vector | Data): number {
  const walker = new Walker(true);
  for (const data of columns(source)) walker.visit(data);
  return walker.byteLength;
}
