/**
 * The checks of an IPC stream that need more than one message: the order of messages, and each
 * RecordBatch and DictionaryBatch against the stream's schema and its own body, before
 * apache-arrow's VectorLoader builds arrays from them.
 *
 * apache-arrow trusts a batch header: a missing FieldNode is a TypeError deep in the loader, a
 * buffer past the body is silently clamped, an offsets buffer pointing past its data yields
 * garbage, and a length of 2^50 rows with no buffers behind it is taken at its word by whatever
 * iterates the column. So, in the spirit of Arrow C++'s `Validate` (and part of `ValidateFull`):
 *
 *   - the node count equals the number of fields in the schema's flattened field tree (a
 *     dictionary-encoded field is one node: its values come in DictionaryBatches);
 *   - the buffer count equals what the fields' layouts need, with the variadic buffer counts of
 *     view types honoured (one count per view field);
 *   - each buffer lies inside the declared body, 8-byte aligned, and the body was received whole;
 *     no two buffers overlap, so one region of the body cannot be counted as a thousand columns;
 *   - each length and null count is non-negative, null_count ≤ length, top-level columns have the
 *     batch's length, and no length exceeds 8 rows per byte of the message (the most a Bool column
 *     can pack); rows that no byte stands for (the batch's own, Null columns, structs without a
 *     validity bitmap) share one budget of 8 per byte of the message, so a few bytes cannot stand
 *     for billions of rows of Null or of empty structs, however many columns the header lists;
 *   - each buffer is as long as its length needs (validity bitmaps when there are nulls, values,
 *     offsets, views, type ids, indices), and children are as long as their parents need;
 *   - the contents that index other memory are read once: offsets start at ≥ 0, never decrease, and
 *     end inside their data or child; views point inside their variadic buffers; union type ids
 *     name a child and dense offsets lie inside it; dictionary indices lie inside the dictionary
 *     (a DictionaryBatch for each id must come first, deltas add to its length).
 *
 * Each check is linear in the message's size, so a message costs a small multiple of its bytes.
 */
import type { BatchInfo, FieldInfo, SchemaInfo, VerifiedMessage } from './ipc-verify.ts';
import { IPC_LIMITS, IpcDataError, verifyMessage, type IpcLimits } from './ipc-verify.ts';

function fail(message: string): never {
  throw new IpcDataError(message);
}

/** Rows per message allowed whatever its size (a batch of only Null columns has no body at all). */
const MIN_ROW_ALLOWANCE = 4096;
/** Rows per byte of message: what a Bool column packs. */
const ROWS_PER_BYTE = 8;

/** The number of nodes, fixed buffers and view fields a list of fields flattens to. */
interface Shape {
  nodes: number;
  buffers: number;
  views: number;
}

function addShape(field: FieldInfo, asIndices: boolean, version: number, shape: Shape): void {
  shape.nodes++;
  if (asIndices && field.dictionary) {
    shape.buffers += 2; // validity, indices
    return;
  }
  const layout = field.layout;
  switch (layout.kind) {
    case 'null':
      break;
    case 'fixed':
      shape.buffers += 2;
      break;
    case 'binary':
      shape.buffers += 3;
      break;
    case 'view':
      shape.buffers += 2;
      shape.views++;
      break;
    case 'list':
      shape.buffers += 2;
      break;
    case 'fixedList':
    case 'struct':
      shape.buffers += 1;
      break;
    case 'union':
      // V5 unions have no validity bitmap; V4 ones do.
      shape.buffers += (layout.dense ? 2 : 1) + (version < 4 ? 1 : 0);
      break;
  }
  for (const child of field.children) addShape(child, asIndices, version, shape);
}

/**
 * Checks the messages of one IPC stream in order. Holds the schema and the length of each
 * dictionary received so far; nothing else.
 */
export class IpcStreamChecker {
  private schema: SchemaInfo | null = null;
  private readonly dictionaryLengths = new Map<number, number>();
  private count = 0;

  constructor(private readonly limits: IpcLimits = IPC_LIMITS) {}

  /** Verifies the next message of the stream: its header, and its body against the schema. Throws IpcDataError. */
  check(header: Uint8Array, body: Uint8Array): VerifiedMessage {
    const message = verifyMessage(header, this.limits);
    const first = this.count++ === 0;
    if (first && message.type !== 'schema') fail('the first message of a stream must be a Schema');
    if (!first && message.type === 'schema') fail('a second Schema message in the same stream');
    if (body.byteLength < message.bodyLength) {
      fail(`data_body has ${body.byteLength} bytes but the header declares ${message.bodyLength} (truncated message?)`);
    }
    if (message.type === 'schema') {
      this.schema = message.schema;
      return message;
    }
    const schema = this.schema!;
    const maxRows = MIN_ROW_ALLOWANCE + ROWS_PER_BYTE * (header.byteLength + message.bodyLength);
    if (message.type === 'recordBatch') {
      new BatchCheck('RecordBatch', message.batch, message.bodyLength, body, message.version, maxRows, this.dictionaryLengths).run(
        schema.fields,
      );
    } else {
      const field = schema.dictionaries.get(message.id);
      if (!field) fail(`a DictionaryBatch for dictionary id ${message.id}, which no field of the schema uses`);
      new BatchCheck('DictionaryBatch', message.batch, message.bodyLength, body, message.version, maxRows, null).run([field]);
      const previous = message.isDelta ? (this.dictionaryLengths.get(message.id) ?? 0) : 0;
      this.dictionaryLengths.set(message.id, previous + message.batch.length);
    }
    return message;
  }
}

/** One batch against its fields: counts first, then each node in pre-order. */
class BatchCheck {
  private node = 0;
  private buffer = 0;
  private view = 0;
  private unbackedRows = 0;
  private readonly data: DataView;

  constructor(
    private readonly what: 'RecordBatch' | 'DictionaryBatch',
    private readonly batch: BatchInfo,
    private readonly bodyLength: number,
    body: Uint8Array,
    private readonly version: number,
    private readonly maxRows: number,
    /** Dictionary lengths for a RecordBatch (its dictionary fields carry indices); null for a DictionaryBatch. */
    private readonly dictionaries: ReadonlyMap<number, number> | null,
  ) {
    this.data = new DataView(body.buffer, body.byteOffset, Math.min(body.byteLength, bodyLength));
  }

  run(fields: readonly FieldInfo[]): void {
    const { batch, what } = this;
    if (batch.compressed) fail('compressed IPC bodies are not supported; send uncompressed data');
    const asIndices = this.dictionaries !== null;
    const shape: Shape = { nodes: 0, buffers: 0, views: 0 };
    for (const field of fields) addShape(field, asIndices, this.version, shape);
    const columns = what === 'RecordBatch' ? `the schema's ${fields.length} columns` : `the dictionary's value type`;
    if (batch.nodeLengths.length !== shape.nodes) {
      fail(`the ${what} has ${batch.nodeLengths.length} field nodes but ${columns} flatten to ${shape.nodes}`);
    }
    const variadic = batch.variadicBufferCounts;
    if (variadic.length !== shape.views && !(shape.views === 0 && variadic.length === 0)) {
      fail(`the ${what} has ${variadic.length} variadicBufferCounts but ${columns} have ${shape.views} view fields`);
    }
    let expectedBuffers = shape.buffers;
    for (const count of variadic) {
      if (count < 0 || count > batch.bufferLengths.length) fail(`the ${what} declares a variadic buffer count of ${count}`);
      expectedBuffers += count;
    }
    if (batch.bufferLengths.length !== expectedBuffers) {
      fail(`the ${what} has ${batch.bufferLengths.length} buffers but ${columns} need ${expectedBuffers}`);
    }
    for (let i = 0; i < batch.bufferLengths.length; i++) {
      const offset = batch.bufferOffsets[i]!;
      const length = batch.bufferLengths[i]!;
      if (offset < 0 || length < 0 || offset + length > this.bodyLength) {
        fail(`the ${what}'s buffer ${i} at ${offset}+${length} lies outside the ${this.bodyLength}-byte body`);
      }
      if (offset % 8 !== 0) fail(`the ${what}'s buffer ${i} starts at ${offset}, which is not a multiple of 8`);
    }
    this.checkDisjoint();
    this.rows(batch.length, `the ${what}`);
    this.unbacked(batch.length, `the ${what}`);
    for (const field of fields) {
      const index = this.node;
      const length = this.column(field, asIndices);
      if (length !== batch.length) {
        fail(`the ${what}'s column "${field.path}" (FieldNode ${index}) has ${length} rows but the batch has ${batch.length}`);
      }
    }
  }

  /** Every writer lays buffers out one after another; overlapping ones would multiply the body. */
  private checkDisjoint(): void {
    const { bufferOffsets, bufferLengths } = this.batch;
    const order = bufferLengths.map((_, i) => i).filter((i) => bufferLengths[i]! > 0);
    order.sort((a, b) => bufferOffsets[a]! - bufferOffsets[b]!);
    for (let k = 1; k < order.length; k++) {
      const before = order[k - 1]!;
      const after = order[k]!;
      if (bufferOffsets[before]! + bufferLengths[before]! > bufferOffsets[after]!) {
        fail(`the ${this.what}'s buffers ${before} and ${after} overlap in the body`);
      }
    }
  }

  /** Counts rows that no byte of the body stands for against the message's budget. */
  private unbacked(length: number, where: string): void {
    this.unbackedRows += length;
    if (this.unbackedRows > this.maxRows) {
      fail(
        `${where} brings the rows without data in this message to ${this.unbackedRows} (Null columns, structs without validity); at most ${this.maxRows} for its size`,
      );
    }
  }

  private rows(length: number, where: string): void {
    if (length < 0) fail(`${where} declares a negative length (${length})`);
    if (length > this.maxRows) {
      fail(`${where} declares ${length} rows, more than its message can hold (at most ${this.maxRows} for its size)`);
    }
  }

  /** Checks one node and its children; returns its length. */
  private column(field: FieldInfo, asIndices: boolean): number {
    const index = this.node++;
    const length = this.batch.nodeLengths[index]!;
    const nulls = this.batch.nodeNullCounts[index]!;
    const where = `the ${this.what}'s column "${field.path}" (FieldNode ${index})`;
    this.rows(length, where);
    if (nulls < 0 || nulls > length) fail(`${where} declares ${nulls} nulls in ${length} rows`);

    if (asIndices && field.dictionary) {
      const validity = this.validity(length, nulls, where);
      const { id, indexBytes, indexSigned } = field.dictionary;
      const indices = this.next(length * indexBytes, `${where}'s dictionary indices`);
      const size = this.dictionaries!.get(id);
      // apache-arrow's writer sends no dictionary for an empty column; with no rows there is nothing to look up.
      if (size === undefined && length > 0) {
        fail(`${where} uses dictionary id ${id}, but no DictionaryBatch with that id came before the RecordBatch`);
      }
      this.checkIndices(indices, length, indexBytes, indexSigned, size ?? 0, validity, where);
      return length;
    }

    const layout = field.layout;
    switch (layout.kind) {
      case 'null':
        this.unbacked(length, where);
        break;
      case 'fixed': {
        this.validity(length, nulls, where);
        this.next(Math.ceil((length * layout.bits) / 8), `${where}'s values`);
        if (layout.bits === 0 && nulls === 0) this.unbacked(length, where);
        break;
      }
      case 'binary': {
        this.validity(length, nulls, where);
        const offsets = this.next(length > 0 ? (length + 1) * layout.offsetBytes : 0, `${where}'s offsets`);
        const data = this.next(0, `${where}'s data`);
        this.checkOffsets(offsets, length, layout.offsetBytes, data.length, 'data bytes', where);
        break;
      }
      case 'view': {
        const validity = this.validity(length, nulls, where);
        const views = this.next(length * 16, `${where}'s views`);
        const count = this.batch.variadicBufferCounts[this.view++]!;
        const sizes: number[] = [];
        for (let i = 0; i < count; i++) sizes.push(this.next(0, `${where}'s data buffer ${i}`).length);
        this.checkViews(views, length, sizes, validity, where);
        break;
      }
      case 'list': {
        this.validity(length, nulls, where);
        const offsets = this.next(length > 0 ? (length + 1) * layout.offsetBytes : 0, `${where}'s offsets`);
        const childLength = this.column(field.children[0]!, asIndices);
        this.checkOffsets(offsets, length, layout.offsetBytes, childLength, 'child values', where);
        break;
      }
      case 'fixedList': {
        this.validity(length, nulls, where);
        if (nulls === 0) this.unbacked(length, where);
        const childLength = this.column(field.children[0]!, asIndices);
        if (childLength < length * layout.size) {
          fail(`${where} has ${length} lists of ${layout.size} but its child has only ${childLength} values`);
        }
        break;
      }
      case 'struct': {
        this.validity(length, nulls, where);
        if (nulls === 0) this.unbacked(length, where);
        for (const child of field.children) {
          const childLength = this.column(child, asIndices);
          if (childLength < length) fail(`${where} has ${length} rows but its child "${child.path}" only ${childLength}`);
        }
        break;
      }
      case 'union': {
        if (this.version < 4) this.next(0, `${where}'s validity bitmap`); // V4 unions carried one; apache-arrow skips it
        const typeIds = this.next(length, `${where}'s type ids`);
        const offsets = layout.dense ? this.next(length * 4, `${where}'s offsets`) : null;
        const childLengths = field.children.map((child) => this.column(child, asIndices));
        if (!layout.dense) {
          field.children.forEach((child, i) => {
            if (childLengths[i]! < length) fail(`${where} has ${length} rows but its child "${child.path}" only ${childLengths[i]}`);
          });
        }
        this.checkUnion(typeIds, offsets, length, layout.typeIds, childLengths, where);
        break;
      }
    }
    return length;
  }

  /** The next buffer, which must hold at least `need` bytes. */
  private next(need: number, what: string): { offset: number; length: number } {
    const i = this.buffer++;
    const offset = this.batch.bufferOffsets[i]!;
    const length = this.batch.bufferLengths[i]!;
    if (length < need) fail(`${what} (buffer ${i}) has ${length} bytes but ${need} are needed`);
    return { offset, length };
  }

  /** Consumes the validity buffer; returns it when it must be consulted (there are nulls). */
  private validity(length: number, nulls: number, where: string): { offset: number; length: number } | null {
    const buffer = this.next(nulls > 0 ? Math.ceil(length / 8) : 0, `${where}'s validity bitmap`);
    return nulls > 0 ? buffer : null;
  }

  private valid(validity: { offset: number } | null, i: number): boolean {
    return validity === null || (this.data.getUint8(validity.offset + (i >> 3)) & (1 << (i & 7))) !== 0;
  }

  /** A little-endian offset of 4 or 8 bytes; 8-byte ones beyond 2^53 read as -1 (they are past any buffer). */
  private offsetAt(pos: number, bytes: 4 | 8): number {
    if (bytes === 4) return this.data.getInt32(pos, true);
    const high = this.data.getInt32(pos + 4, true);
    if (high < 0 || high >= 0x200000) return -1;
    return high * 0x1_0000_0000 + this.data.getUint32(pos, true);
  }

  private checkOffsets(buffer: { offset: number }, length: number, bytes: 4 | 8, limit: number, of: string, where: string): void {
    if (length === 0) return;
    const first = this.offsetAt(buffer.offset, bytes);
    if (first < 0) fail(`${where}'s first offset is ${first}`);
    // The hot path of an upload (a string column of a million rows): a typed-array scan when aligned.
    const at = this.data.byteOffset + buffer.offset;
    const decreasesAt =
      bytes === 4 && at % 4 === 0
        ? firstDecrease32(new Int32Array(this.data.buffer, at, length + 1))
        : this.firstDecreaseSlow(buffer.offset, length, bytes);
    if (decreasesAt >= 0) {
      const previous = this.offsetAt(buffer.offset + decreasesAt * bytes, bytes);
      const current = this.offsetAt(buffer.offset + (decreasesAt + 1) * bytes, bytes);
      fail(`${where}'s offsets decrease at row ${decreasesAt} (${previous} then ${current})`);
    }
    const last = this.offsetAt(buffer.offset + length * bytes, bytes);
    if (last > limit) fail(`${where}'s last offset is ${last} but there are only ${limit} ${of}`);
  }

  /** The first row i whose offset i+1 is below offset i (8-byte offsets beyond 2^53 read as -1), or -1. */
  private firstDecreaseSlow(offset: number, length: number, bytes: 4 | 8): number {
    let previous = this.offsetAt(offset, bytes);
    for (let i = 1; i <= length; i++) {
      const current = this.offsetAt(offset + i * bytes, bytes);
      if (current < previous) return i - 1;
      previous = current;
    }
    return -1;
  }

  private checkViews(
    views: { offset: number },
    length: number,
    sizes: readonly number[],
    validity: { offset: number } | null,
    where: string,
  ): void {
    for (let i = 0; i < length; i++) {
      if (!this.valid(validity, i)) continue;
      const at = views.offset + 16 * i;
      const size = this.data.getInt32(at, true);
      if (size < 0) fail(`${where}'s view ${i} has a negative size`);
      if (size <= 12) continue; // inline
      const index = this.data.getInt32(at + 8, true);
      const offset = this.data.getInt32(at + 12, true);
      if (index < 0 || index >= sizes.length) fail(`${where}'s view ${i} names data buffer ${index} of ${sizes.length}`);
      if (offset < 0 || offset + size > sizes[index]!) {
        fail(`${where}'s view ${i} covers ${offset}+${size} of a ${sizes[index]}-byte data buffer`);
      }
    }
  }

  private checkUnion(
    typeIds: { offset: number },
    offsets: { offset: number } | null,
    length: number,
    ids: readonly number[],
    childLengths: readonly number[],
    where: string,
  ): void {
    const childOf = new Int16Array(128).fill(-1);
    ids.forEach((id, child) => (childOf[id] = child));
    for (let i = 0; i < length; i++) {
      const id = this.data.getInt8(typeIds.offset + i);
      const child = id >= 0 ? childOf[id]! : -1;
      if (child < 0) fail(`${where}'s row ${i} has type id ${id}, which names no child`);
      if (offsets) {
        const offset = this.data.getInt32(offsets.offset + 4 * i, true);
        if (offset < 0 || offset >= childLengths[child]!) {
          fail(`${where}'s row ${i} has offset ${offset} into a child of ${childLengths[child]} values`);
        }
      }
    }
  }

  private checkIndices(
    indices: { offset: number },
    length: number,
    bytes: 1 | 2 | 4 | 8,
    signed: boolean,
    size: number,
    validity: { offset: number } | null,
    where: string,
  ): void {
    const d = this.data;
    for (let i = 0; i < length; i++) {
      if (!this.valid(validity, i)) continue;
      const at = indices.offset + i * bytes;
      let index: number;
      switch (bytes) {
        case 1:
          index = signed ? d.getInt8(at) : d.getUint8(at);
          break;
        case 2:
          index = signed ? d.getInt16(at, true) : d.getUint16(at, true);
          break;
        case 4:
          index = signed ? d.getInt32(at, true) : d.getUint32(at, true);
          break;
        default: {
          const high = d.getInt32(at + 4, true);
          index = high === 0 ? d.getUint32(at, true) : -1;
        }
      }
      if (index < 0 || index >= size) fail(`${where}'s row ${i} has dictionary index ${index} but the dictionary has ${size} values`);
    }
  }
}

/** The first i with offsets[i + 1] < offsets[i], or -1. */
function firstDecrease32(offsets: Int32Array): number {
  let previous = offsets[0]!;
  const n = offsets.length;
  for (let i = 1; i < n; i++) {
    const current = offsets[i]!;
    if (current < previous) return i - 1;
    previous = current;
  }
  return -1;
}
