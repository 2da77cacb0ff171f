/**
 * Verifies one Arrow IPC Message flatbuffer (a FlightData `data_header`) before apache-arrow reads
 * it, and returns what later checks need: the schema's field tree with each field's buffer layout,
 * or a batch's nodes and buffers as plain numbers.
 *
 * The walk follows Arrow's Message.fbs and Schema.fbs field by field (field ids in the comments),
 * through the bounds-checked accessors of flatbuffer-verifier.ts, so nothing is read that does
 * not lie inside the message. On top of the flatbuffer checks it checks what a reader of Arrow
 * metadata must not take on trust: union types known, type parameters that apache-arrow can lay
 * out (an Int of 7 bits, a Time whose width does not match its unit), the children each type needs,
 * field nesting at most 64 deep (Arrow C++'s limit), a bounded number of fields and metadata
 * entries, dictionaries that are not nested in dictionaries. Types apache-arrow 21 cannot read
 * (RunEndEncoded, ListView, LargeListView; Tensor messages; big-endian data) are refused here with
 * a message rather than failing later.
 *
 * Batches against a schema are checked by ipc-batch-check.ts.
 */
import { type FbTable, FlatbufferError, FlatbufferVerifier } from './flatbuffer-verifier.ts';

/** A message that is not valid Arrow IPC (or not one larder can read). The message says why. */
export class IpcDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpcDataError';
  }
}

export interface IpcLimits {
  /** Deepest table nesting in a flatbuffer (Arrow C++: 128). */
  readonly maxTableDepth: number;
  /** Deepest field nesting in a schema (Arrow C++: 64). */
  readonly maxFieldDepth: number;
  /** Most fields in a schema, nested ones included. */
  readonly maxFields: number;
  /** Most entries in one custom_metadata list. */
  readonly maxMetadataEntries: number;
}

export const IPC_LIMITS: IpcLimits = Object.freeze({
  maxTableDepth: 128,
  maxFieldDepth: 64,
  maxFields: 10_000,
  maxMetadataEntries: 1_024,
});

/** How a field's values are laid out in a batch body (the value type's, for a dictionary field). */
export type Layout =
  | { readonly kind: 'null' }
  /** Validity bitmap, then values of `bits` bits each (Bool: 1). */
  | { readonly kind: 'fixed'; readonly bits: number }
  /** Validity, offsets (4 or 8 bytes each), data bytes: Utf8, Binary and their Large forms. */
  | { readonly kind: 'binary'; readonly offsetBytes: 4 | 8 }
  /** Validity, 16-byte views, then variadic data buffers: Utf8View, BinaryView. */
  | { readonly kind: 'view' }
  /** Validity, offsets into the one child: List, LargeList, Map. */
  | { readonly kind: 'list'; readonly offsetBytes: 4 | 8 }
  | { readonly kind: 'fixedList'; readonly size: number }
  | { readonly kind: 'struct' }
  | { readonly kind: 'union'; readonly dense: boolean; readonly typeIds: readonly number[] };

export interface DictionaryInfo {
  readonly id: number;
  readonly indexBytes: 1 | 2 | 4 | 8;
  readonly indexSigned: boolean;
}

export interface FieldInfo {
  /** Dotted path from the schema root, for messages. */
  readonly path: string;
  readonly typeName: string;
  readonly layout: Layout;
  readonly children: readonly FieldInfo[];
  /** Set when the field is dictionary-encoded: its batches carry indices; `layout` is the dictionary's. */
  readonly dictionary: DictionaryInfo | null;
  /** The value type with its parameters and children, to compare two uses of one dictionary id. */
  readonly signature: string;
}

export interface SchemaInfo {
  readonly fields: readonly FieldInfo[];
  /** The value field of each dictionary id (the first field that uses the id). */
  readonly dictionaries: ReadonlyMap<number, FieldInfo>;
}

export interface BatchInfo {
  readonly length: number;
  readonly nodeLengths: readonly number[];
  readonly nodeNullCounts: readonly number[];
  readonly bufferOffsets: readonly number[];
  readonly bufferLengths: readonly number[];
  readonly compressed: boolean;
  readonly variadicBufferCounts: readonly number[];
}

interface Common {
  /** MetadataVersion: 3 = V4, 4 = V5. */
  readonly version: number;
  readonly bodyLength: number;
}

export type VerifiedMessage =
  | (Common & { readonly type: 'schema'; readonly schema: SchemaInfo })
  | (Common & { readonly type: 'recordBatch'; readonly batch: BatchInfo })
  | (Common & { readonly type: 'dictionaryBatch'; readonly id: number; readonly isDelta: boolean; readonly batch: BatchInfo });

/** MessageHeader union (Message.fbs). */
const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;

/** Type union (Schema.fbs), in declaration order from 1. */
const TYPE_NAMES = [
  'NONE',
  'Null',
  'Int',
  'FloatingPoint',
  'Binary',
  'Utf8',
  'Bool',
  'Decimal',
  'Date',
  'Time',
  'Timestamp',
  'Interval',
  'List',
  'Struct',
  'Union',
  'FixedSizeBinary',
  'FixedSizeList',
  'Map',
  'Duration',
  'LargeBinary',
  'LargeUtf8',
  'LargeList',
  'RunEndEncoded',
  'BinaryView',
  'Utf8View',
  'ListView',
  'LargeListView',
] as const;

/**
 * Verifies `header` as an Arrow IPC Message and returns its contents. Throws IpcDataError.
 * Work and memory are linear in `header.byteLength`.
 */
export function verifyMessage(header: Uint8Array, limits: IpcLimits = IPC_LIMITS): VerifiedMessage {
  const verifier = new FlatbufferVerifier(header, {
    maxDepth: limits.maxTableDepth,
    // A table needs its 4-byte soffset and a 4-byte uoffset pointing at it; sharing is the only way past size/8.
    maxTables: Math.max(16, header.byteLength >>> 2),
  });
  try {
    return readMessage(verifier, limits);
  } catch (error) {
    if (error instanceof FlatbufferError) throw new IpcDataError(error.message);
    throw error;
  }
}

function fail(message: string): never {
  throw new IpcDataError(message);
}

function readMessage(verifier: FlatbufferVerifier, limits: IpcLimits): VerifiedMessage {
  const root = verifier.root('the Message');
  const version = root.int16(0, 'version'); // Message.version
  if (version !== 3 && version !== 4) {
    fail(`metadata version ${version >= 0 && version < 16 ? `V${version + 1}` : version} is not supported (V4 and V5 are)`);
  }
  const headerType = root.uint8(1, 'header_type'); // Message.header (type)
  const bodyLength = root.int64(3, 'bodyLength'); // Message.bodyLength
  if (bodyLength < 0) fail(`the Message declares a negative bodyLength (${bodyLength})`);
  readMetadata(root, 4, 'the Message', limits); // Message.custom_metadata
  const common = { version, bodyLength };
  switch (headerType) {
    case HEADER_SCHEMA: {
      const table = required(root.table(2, 'header', 'the Schema header'), 'the Message has no Schema table');
      if (bodyLength !== 0) fail(`a Schema message has no body, but this one declares ${bodyLength} bytes`);
      return { ...common, type: 'schema', schema: readSchema(table, limits) };
    }
    case HEADER_RECORD_BATCH: {
      const table = required(root.table(2, 'header', 'the RecordBatch header'), 'the Message has no RecordBatch table');
      return { ...common, type: 'recordBatch', batch: readBatch(table) };
    }
    case HEADER_DICTIONARY_BATCH: {
      const table = required(root.table(2, 'header', 'the DictionaryBatch header'), 'the Message has no DictionaryBatch table');
      const id = table.int64(0, 'id'); // DictionaryBatch.id
      const data = required(table.table(1, 'data', 'the DictionaryBatch data'), 'the DictionaryBatch has no data'); // DictionaryBatch.data
      const isDelta = table.bool(2, 'isDelta'); // DictionaryBatch.isDelta
      return { ...common, type: 'dictionaryBatch', id, isDelta, batch: readBatch(data) };
    }
    case 0:
      return fail('the Message has no header (its header type is NONE)');
    case 4:
    case 5:
      return fail(
        `${headerType === 4 ? 'Tensor' : 'SparseTensor'} messages are not supported (expected Schema, DictionaryBatch or RecordBatch)`,
      );
    default:
      return fail(`unknown MessageHeader type ${headerType} (expected Schema, DictionaryBatch or RecordBatch)`);
  }
}

function required<T>(value: T | null, message: string): T {
  if (value === null) fail(message);
  return value;
}

function readMetadata(table: FbTable, id: number, owner: string, limits: IpcLimits): void {
  const entries = table.tables(id, 'custom_metadata', (i) => `${owner}'s metadata entry ${i}`, limits.maxMetadataEntries);
  for (const entry of entries) {
    entry.string(0, 'key'); // KeyValue.key
    entry.string(1, 'value'); // KeyValue.value
  }
}

// ---------------------------------------------------------------------------------------------
// Schema

interface SchemaState {
  fields: number;
  readonly dictionaries: Map<number, FieldInfo>;
  readonly limits: IpcLimits;
}

function readSchema(table: FbTable, limits: IpcLimits): SchemaInfo {
  const endianness = table.int16(0, 'endianness'); // Schema.endianness
  if (endianness === 1) fail('big-endian data is not supported; send little-endian Arrow data');
  if (endianness !== 0) fail(`the Schema declares an unknown endianness ${endianness}`);
  const state: SchemaState = { fields: 0, dictionaries: new Map(), limits };
  const tables = table.tables(1, 'fields', (i) => `schema field ${i}`, limits.maxFields); // Schema.fields
  const fields = tables.map((t) => readField(t, '', 1, state, false));
  readMetadata(table, 2, 'the Schema', limits); // Schema.custom_metadata
  table.vector(3, 'features', 8); // Schema.features
  return { fields, dictionaries: state.dictionaries };
}

function readField(table: FbTable, parent: string, depth: number, state: SchemaState, inDictionary: boolean): FieldInfo {
  if (depth > state.limits.maxFieldDepth) {
    fail(`the schema nests fields more than ${state.limits.maxFieldDepth} deep (below "${parent}")`);
  }
  if (++state.fields > state.limits.maxFields) fail(`the schema has more than ${state.limits.maxFields} fields`);
  const name = table.string(0, 'name'); // Field.name
  // apache-arrow turns a missing name into null in the schema but "null" in each batch's, and then
  // refuses to put the batches in one Table; every writer writes a name (perhaps empty).
  if (name === null) fail(`${table.what} has no name`);
  const path = parent ? `${parent}.${name}` : name;
  const label = `field "${path}"`;
  table.bool(1, 'nullable'); // Field.nullable
  const typeType = table.uint8(2, 'type_type'); // Field.type (type)
  const typeTable = table.table(3, 'type', `the type of ${label}`); // Field.type
  const dictionaryTable = table.table(4, 'dictionary', `the dictionary encoding of ${label}`); // Field.dictionary
  const dictionary = dictionaryTable ? readDictionaryEncoding(dictionaryTable, label) : null;
  if (dictionary && inDictionary) fail(`${label} is dictionary-encoded inside a dictionary-encoded field`);
  const childTables = table.tables(5, 'children', (i) => `child ${i} of ${label}`); // Field.children
  const children = childTables.map((t) => readField(t, path, depth + 1, state, inDictionary || dictionary !== null));
  readMetadata(table, 6, label, state.limits); // Field.custom_metadata

  const typeName = TYPE_NAMES[typeType] ?? `type ${typeType}`;
  if (typeType === 0) fail(`${label} has no type`);
  if (typeType >= TYPE_NAMES.length) fail(`${label} has an unknown type id ${typeType}`);
  if (!typeTable) fail(`${label} of type ${typeName} has no type table`);
  const { layout, params } = readType(typeType, typeName, typeTable, children, label);
  const signature = `${typeName}(${params})<${children.map((c) => c.signature).join(',')}>`;
  const field: FieldInfo = { path, typeName, layout, children, dictionary, signature };
  if (dictionary) {
    const known = state.dictionaries.get(dictionary.id);
    if (!known) state.dictionaries.set(dictionary.id, field);
    else if (known.signature !== signature) {
      fail(`${label} and field "${known.path}" share dictionary id ${dictionary.id} but their value types differ`);
    }
  }
  return field;
}

function readDictionaryEncoding(table: FbTable, label: string): DictionaryInfo {
  const id = table.int64(0, 'id'); // DictionaryEncoding.id
  const indexType = table.table(1, 'indexType', `the dictionary index type of ${label}`); // DictionaryEncoding.indexType
  table.bool(2, 'isOrdered'); // DictionaryEncoding.isOrdered
  const kind = table.int16(3, 'dictionaryKind'); // DictionaryEncoding.dictionaryKind
  if (kind !== 0) fail(`${label} has an unknown dictionaryKind ${kind}`);
  if (!indexType) return { id, indexBytes: 4, indexSigned: true }; // the default index type is int32
  const bits = indexType.int32(0, 'bitWidth'); // Int.bitWidth
  const signed = indexType.bool(1, 'is_signed'); // Int.is_signed
  if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64)
    fail(`${label} has a dictionary index of ${bits} bits (8, 16, 32 or 64 allowed)`);
  return { id, indexBytes: (bits / 8) as 1 | 2 | 4 | 8, indexSigned: signed };
}

function readType(
  _typeType: number,
  typeName: string,
  t: FbTable,
  children: readonly FieldInfo[],
  label: string,
): { layout: Layout; params: string } {
  const childCount = (n: number) => {
    if (children.length !== n) fail(`${label} of type ${typeName} has ${children.length} children (expected ${n})`);
  };
  const unit = (id: number, name: string, fallback: number, max: number) => {
    const value = t.int16(id, name, fallback);
    if (value < 0 || value > max) fail(`${label} of type ${typeName} has an invalid ${name} ${value}`);
    return value;
  };
  const fixed = (bits: number, params: string | number = bits) => {
    childCount(0);
    return { layout: { kind: 'fixed', bits } as Layout, params: String(params) };
  };
  switch (typeName) {
    case 'Null':
      childCount(0);
      return { layout: { kind: 'null' }, params: '' };
    case 'Bool':
      return fixed(1);
    case 'Int': {
      const bits = t.int32(0, 'bitWidth'); // Int.bitWidth
      const signed = t.bool(1, 'is_signed'); // Int.is_signed
      if (bits !== 8 && bits !== 16 && bits !== 32 && bits !== 64) fail(`${label} is an Int of ${bits} bits (8, 16, 32 or 64 allowed)`);
      return fixed(bits, `${bits},${signed}`);
    }
    case 'FloatingPoint': {
      const precision = unit(0, 'precision', 0, 2); // FloatingPoint.precision
      return fixed([16, 32, 64][precision]!);
    }
    case 'Decimal': {
      const precision = t.int32(0, 'precision'); // Decimal.precision
      const scale = t.int32(1, 'scale'); // Decimal.scale
      const bits = t.int32(2, 'bitWidth', 128); // Decimal.bitWidth
      if (bits !== 32 && bits !== 64 && bits !== 128 && bits !== 256)
        fail(`${label} is a Decimal of ${bits} bits (32, 64, 128 or 256 allowed)`);
      if (precision < 1 || precision > 76) fail(`${label} is a Decimal of precision ${precision}`);
      return fixed(bits, `${precision},${scale},${bits}`);
    }
    case 'Date': {
      const u = unit(0, 'unit', 1, 1); // Date.unit: DAY (int32) or MILLISECOND (int64)
      return fixed(u === 0 ? 32 : 64, u);
    }
    case 'Time': {
      const u = unit(0, 'unit', 1, 3); // Time.unit
      const bits = t.int32(1, 'bitWidth', 32); // Time.bitWidth
      if (bits !== (u <= 1 ? 32 : 64)) fail(`${label} is a Time of ${bits} bits, which its unit does not allow`);
      return fixed(bits, u);
    }
    case 'Timestamp': {
      const u = unit(0, 'unit', 0, 3); // Timestamp.unit
      const tz = t.string(1, 'timezone'); // Timestamp.timezone
      return fixed(64, `${u},${tz ?? ''}`);
    }
    case 'Interval': {
      const u = unit(0, 'unit', 0, 2); // Interval.unit: YEAR_MONTH, DAY_TIME, MONTH_DAY_NANO
      return fixed([32, 64, 128][u]!, u);
    }
    case 'Duration':
      return fixed(64, unit(0, 'unit', 1, 3)); // Duration.unit
    case 'FixedSizeBinary': {
      const width = t.int32(0, 'byteWidth'); // FixedSizeBinary.byteWidth
      if (width < 0) fail(`${label} is a FixedSizeBinary of ${width} bytes`);
      return fixed(width * 8, width);
    }
    case 'Binary':
    case 'Utf8':
      childCount(0);
      return { layout: { kind: 'binary', offsetBytes: 4 }, params: '' };
    case 'LargeBinary':
    case 'LargeUtf8':
      childCount(0);
      return { layout: { kind: 'binary', offsetBytes: 8 }, params: '' };
    case 'BinaryView':
    case 'Utf8View':
      childCount(0);
      return { layout: { kind: 'view' }, params: '' };
    case 'List':
    case 'LargeList':
      childCount(1);
      return { layout: { kind: 'list', offsetBytes: typeName === 'List' ? 4 : 8 }, params: '' };
    case 'Map': {
      const sorted = t.bool(0, 'keysSorted'); // Map.keysSorted
      childCount(1);
      const entries = children[0]!;
      if (entries.typeName !== 'Struct' || entries.children.length !== 2 || entries.dictionary) {
        fail(`${label} is a Map whose entries are not a struct of key and value`);
      }
      return { layout: { kind: 'list', offsetBytes: 4 }, params: String(sorted) };
    }
    case 'FixedSizeList': {
      const size = t.int32(0, 'listSize'); // FixedSizeList.listSize
      if (size < 0) fail(`${label} is a FixedSizeList of size ${size}`);
      childCount(1);
      return { layout: { kind: 'fixedList', size }, params: String(size) };
    }
    case 'Struct':
      return { layout: { kind: 'struct' }, params: '' };
    case 'Union': {
      const mode = unit(0, 'mode', 0, 1); // Union.mode: Sparse, Dense
      const vector = t.vector(1, 'typeIds', 4); // Union.typeIds
      if (!vector && children.length > 0) fail(`${label} is a Union without typeIds, which is not supported`);
      const typeIds: number[] = [];
      for (let i = 0; i < (vector?.length ?? 0); i++) typeIds.push(t.verifier.view.getInt32(vector!.start + 4 * i, true));
      if (typeIds.length !== children.length) fail(`${label} is a Union of ${children.length} children with ${typeIds.length} typeIds`);
      if (typeIds.some((id) => id < 0 || id > 127)) fail(`${label} is a Union with a type id outside 0..127`);
      if (new Set(typeIds).size !== typeIds.length) fail(`${label} is a Union with a repeated type id`);
      return { layout: { kind: 'union', dense: mode === 1, typeIds }, params: `${mode},${typeIds.join('/')}` };
    }
    case 'RunEndEncoded':
    case 'ListView':
    case 'LargeListView':
      return fail(`${label} is of type ${typeName}, which larder cannot read`);
    default:
      return fail(`${label} has an unknown type ${typeName}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Batches

function readBatch(t: FbTable): BatchInfo {
  const what = t.what;
  const length = t.int64(0, 'length'); // RecordBatch.length
  const nodes = t.vector(1, 'nodes', 16); // RecordBatch.nodes: [FieldNode {length, null_count}]
  const buffers = t.vector(2, 'buffers', 16); // RecordBatch.buffers: [Buffer {offset, length}]
  const compression = t.table(3, 'compression', `the compression of ${what}`); // RecordBatch.compression
  if (compression) {
    const codec = compression.int8(0, 'codec'); // BodyCompression.codec: LZ4_FRAME, ZSTD
    const method = compression.int8(1, 'method'); // BodyCompression.method: BUFFER
    if (codec !== 0 && codec !== 1) fail(`${what} declares an unknown compression codec ${codec}`);
    if (method !== 0) fail(`${what} declares an unknown compression method ${method}`);
  }
  const variadic = t.vector(4, 'variadicBufferCounts', 8); // RecordBatch.variadicBufferCounts
  const v = t.verifier;
  const pairs = (vector: typeof nodes, first: number[], second: number[], a: string, b: string, kind: string) => {
    for (let i = 0; i < (vector?.length ?? 0); i++) {
      const at = vector!.start + 16 * i;
      first.push(v.int64At(at, `${what}'s ${kind} ${i} ${a}`));
      second.push(v.int64At(at + 8, `${what}'s ${kind} ${i} ${b}`));
    }
  };
  const nodeLengths: number[] = [];
  const nodeNullCounts: number[] = [];
  pairs(nodes, nodeLengths, nodeNullCounts, 'length', 'null_count', 'FieldNode');
  const bufferOffsets: number[] = [];
  const bufferLengths: number[] = [];
  pairs(buffers, bufferOffsets, bufferLengths, 'offset', 'length', 'Buffer');
  const variadicBufferCounts: number[] = [];
  for (let i = 0; i < (variadic?.length ?? 0); i++) {
    variadicBufferCounts.push(v.int64At(variadic!.start + 8 * i, `${what}'s variadicBufferCounts[${i}]`));
  }
  return { length, nodeLengths, nodeNullCounts, bufferOffsets, bufferLengths, compressed: compression !== null, variadicBufferCounts };
}
