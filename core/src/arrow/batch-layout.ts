/**
 * Checks that a record batch a client sent really has the layout its schema declares — Arrow
 * C++'s `ValidateFull`, for what larder accepts. A record batch message carries no schema of its
 * own: apache-arrow reads its buffers by the stream's schema, so a batch built for another schema
 * (a string column where the schema says int64, a missing column) decodes into columns whose
 * buffers are too short or whose offsets point outside their data. Nothing fails until a store
 * indexes past the end — a RangeError deep inside a join, reported as larder's own bug. Checked
 * here, such a batch is refused with the column named, before any store sees it.
 *
 * The work is linear in the batch's size: buffer lengths, offsets (monotonic and inside their
 * data), dictionary indices, union type ids and view references are each looked at once.
 */
import { DataType, Type, type Data, type RecordBatch, type Vector } from 'apache-arrow';
import { InvalidArgumentError } from '../errors.ts';

/** Throws InvalidArgumentError naming the first column of `batch` whose data does not fit its type. */
export function assertBatchLayout(batch: RecordBatch, what: string): void {
  const fields = batch.schema.fields;
  const columns = batch.data.children;
  if (columns.length !== fields.length) {
    throw new InvalidArgumentError(`${what} has ${columns.length} columns, but the stream's schema has ${fields.length}`);
  }
  fields.forEach((field, i) => {
    const problem = layoutProblem(columns[i]!, batch.numRows, field.name);
    if (problem) {
      throw new InvalidArgumentError(`${what} does not match the stream's schema: column "${problem.column}" (${String(problem.type)}) ${problem.text}`);
    }
  });
}

interface Problem {
  readonly column: string;
  readonly type: DataType;
  readonly text: string;
}

const checkedDictionaries = new WeakSet<Data>();

/** What is wrong with `data` as `rows` rows of column `name`, or null. */
function layoutProblem(data: Data, rows: number, name: string): Problem | null {
  const problem = (text: string): Problem => ({ column: name, type: data.type, text });
  const end = data.offset + data.length;
  if (data.length < rows) return problem(`has ${data.length} rows, fewer than the batch's ${rows}`);
  if (data.typeId === Type.Null) return null;
  if (!DataType.isUnion(data.type)) {
    const nulls = data.nullCount;
    if (nulls > data.length) return problem(`declares ${nulls} nulls in ${data.length} rows`);
    if (nulls > 0 && (data.nullBitmap?.length ?? 0) < Math.ceil(end / 8)) return problem(`has a validity bitmap too short for ${data.length} rows`);
  }
  const text = ownProblem(data, end, name);
  if (typeof text === 'string') return problem(text);
  return text;
}

/** The problem of `data`'s own buffers (a string), of one of its children (a Problem), or null. */
function ownProblem(data: Data, end: number, name: string): string | Problem | null {
  const type = data.type;
  switch (data.typeId) {
    case Type.Bool:
      return byteLength(data.values) < Math.ceil(end / 8) ? `has ${byteLength(data.values)} bytes of values for ${data.length} rows` : null;
    case Type.Int:
    case Type.Float:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
    case Type.Interval:
    case Type.Duration:
    case Type.Decimal:
    case Type.FixedSizeBinary:
      return elements(data.values) < end * data.stride ? `has ${byteLength(data.values)} bytes of values for ${data.length} rows` : null;
    case Type.Utf8:
    case Type.Binary:
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return offsetsProblem(data, end, byteLength(data.values), 'bytes of values');
    case Type.Utf8View:
    case Type.BinaryView:
      return viewsProblem(data, end);
    case Type.List:
    case Type.LargeList:
    case Type.Map: {
      const child = data.children[0];
      if (!child) return 'has no child data';
      const offsets = offsetsProblem(data, end, child.offset + child.length, 'child values');
      return offsets ?? layoutProblem(child, 0, `${name}.${type.children[0]!.name}`);
    }
    case Type.FixedSizeList: {
      const child = data.children[0];
      if (!child) return 'has no child data';
      return layoutProblem(child, end * data.stride, `${name}.${type.children[0]!.name}`);
    }
    case Type.Struct:
      if (data.children.length !== type.children.length) return `has ${data.children.length} child columns, its type ${type.children.length}`;
      for (let i = 0; i < data.children.length; i++) {
        const nested = layoutProblem(data.children[i]!, end, `${name}.${type.children[i]!.name}`);
        if (nested) return nested;
      }
      return null;
    case Type.Union:
      return unionProblem(data, end, name);
    case Type.Dictionary:
      return dictionaryProblem(data, end, name);
    default:
      return `has a type larder does not accept in uploads`;
  }
}

/** Offsets [offset, end] exist, start at or above 0, never decrease, and end within `limit`. */
function offsetsProblem(data: Data, end: number, limit: number, of: string): string | null {
  const offsets = data.valueOffsets as ArrayLike<number | bigint> | undefined;
  if (!offsets || offsets.length < end + 1) return `has ${offsets?.length ?? 0} offsets for ${data.length} rows`;
  let previous = Number(offsets[data.offset]!);
  if (previous < 0) return `has a negative offset`;
  for (let i = data.offset + 1; i <= end; i++) {
    const next = Number(offsets[i]!);
    if (next < previous) return `has offsets that decrease at row ${i - data.offset}`;
    previous = next;
  }
  return previous > limit ? `has offsets reaching ${previous}, beyond its ${limit} ${of}` : null;
}

/** Each view is 16 bytes; one longer than 12 bytes points into a variadic buffer, which must hold it. */
function viewsProblem(data: Data, end: number): string | null {
  const views = data.values as Uint8Array;
  if (byteLength(views) < end * 16) return `has ${byteLength(views)} bytes of views for ${data.length} rows`;
  const read = new DataView(views.buffer, views.byteOffset, views.byteLength);
  for (let row = data.offset; row < end; row++) {
    if (!data.getValid(row - data.offset)) continue;
    const size = read.getInt32(row * 16, true);
    if (size < 0) return `has a negative length at row ${row - data.offset}`;
    if (size <= 12) continue;
    const buffer = data.variadicBuffers[read.getInt32(row * 16 + 8, true)];
    const at = read.getInt32(row * 16 + 12, true);
    if (!buffer || at < 0 || at + size > buffer.length) return `has a view at row ${row - data.offset} that points outside its data buffers`;
  }
  return null;
}

function unionProblem(data: Data, end: number, name: string): string | Problem | null {
  const type = data.type as DataType & { typeIds: Int32Array | number[]; mode: number };
  const ids = data.typeIds as Int8Array | undefined;
  if (!ids || ids.length < end) return `has ${ids?.length ?? 0} type ids for ${data.length} rows`;
  if (data.children.length !== type.children.length) return `has ${data.children.length} child columns, its type ${type.children.length}`;
  const childOf = new Map<number, number>(Array.from(type.typeIds, (id, i) => [id, i]));
  const offsets = DataType.isDenseUnion(data.type) ? (data.valueOffsets as Int32Array | undefined) : null;
  if (offsets !== null && (!offsets || offsets.length < end)) return `has ${offsets?.length ?? 0} offsets for ${data.length} rows`;
  for (let row = data.offset; row < end; row++) {
    const child = childOf.get(ids[row]!);
    if (child === undefined) return `has an unknown type id ${ids[row]} at row ${row - data.offset}`;
    if (offsets && (offsets[row]! < 0 || offsets[row]! >= data.children[child]!.length)) return `has an offset outside its child at row ${row - data.offset}`;
  }
  for (let i = 0; i < data.children.length; i++) {
    const nested = layoutProblem(data.children[i]!, offsets ? 0 : end, `${name}.${type.children[i]!.name}`);
    if (nested) return nested;
  }
  return null;
}

function dictionaryProblem(data: Data, end: number, name: string): string | Problem | null {
  const indices = data.values as ArrayLike<number | bigint>;
  if (elements(indices) < end) return `has ${elements(indices)} dictionary indices for ${data.length} rows`;
  const dictionary = data.dictionary as Vector | undefined;
  if (!dictionary) return 'has no dictionary';
  for (const chunk of dictionary.data) {
    if (checkedDictionaries.has(chunk)) continue;
    const nested = layoutProblem(chunk, chunk.length, `${name} (dictionary)`);
    if (nested) return nested;
    checkedDictionaries.add(chunk);
  }
  const size = dictionary.length;
  for (let row = data.offset; row < end; row++) {
    if (!data.getValid(row - data.offset)) continue;
    const index = Number(indices[row]!);
    if (index < 0 || index >= size) return `has dictionary index ${index} at row ${row - data.offset}, outside its ${size}-entry dictionary`;
  }
  return null;
}

function elements(values: ArrayLike<unknown> | undefined): number {
  return values?.length ?? 0;
}

function byteLength(values: ArrayLike<unknown> | undefined): number {
  return (values as ArrayBufferView | undefined)?.byteLength ?? 0;
}
