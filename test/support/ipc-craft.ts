/**
 * Hostile Arrow IPC messages for tests: valid messages from apache-arrow's writer (or larder's
 * encoder), patched at the place a field lives, and flatbuffers built by hand where a writer would
 * refuse (10,000 nested lists, tables shared into an exponential tree).
 *
 * The small reader below follows flatbuffer offsets without checking them: it is only used on
 * messages the test itself built.
 */
import { Builder } from 'flatbuffers';
import { Field as FbField } from 'apache-arrow/fb/field';
import { Int as FbInt } from 'apache-arrow/fb/int';
import { List as FbList } from 'apache-arrow/fb/list';
import { Message as FbMessage } from 'apache-arrow/fb/message';
import { MessageHeader as FbMessageHeader } from 'apache-arrow/fb/message-header';
import { MetadataVersion as FbMetadataVersion } from 'apache-arrow/fb/metadata-version';
import { Schema as FbSchema } from 'apache-arrow/fb/schema';
import { Struct_ as FbStruct } from 'apache-arrow/fb/struct-';
import { Type as FbType } from 'apache-arrow/fb/type';
import { RecordBatchStreamWriter, type Table } from 'apache-arrow';
import type { FlightDataFrame } from '../../packages/flight/src/ipc.ts';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** The absolute position of field `id` of the table at `table`, or 0 when absent. */
export function fieldAt(b: Uint8Array, table: number, id: number): number {
  const v = view(b);
  const vtable = table - v.getInt32(table, true);
  const size = v.getUint16(vtable, true);
  if (4 + 2 * id + 2 > size) return 0;
  const offset = v.getUint16(vtable + 4 + 2 * id, true);
  return offset ? table + offset : 0;
}

/** Follows the uoffset at `pos`. */
export const follow = (b: Uint8Array, pos: number): number => pos + view(b).getUint32(pos, true);

export const rootTable = (b: Uint8Array): number => follow(b, 0);

/** The Message's header table (Schema, RecordBatch or DictionaryBatch). */
export const headerTable = (b: Uint8Array): number => follow(b, fieldAt(b, rootTable(b), 2));

/** The RecordBatch table of a RecordBatch or DictionaryBatch message. */
export function batchTable(b: Uint8Array): number {
  const type = view(b).getUint8(fieldAt(b, rootTable(b), 1));
  const header = headerTable(b);
  return type === 2 ? follow(b, fieldAt(b, header, 1)) : header;
}

/** The position of a vector's length prefix (field `id` of `table`). */
export const vectorAt = (b: Uint8Array, table: number, id: number): number => follow(b, fieldAt(b, table, id));

/** A copy of `b` changed by `edit`. */
export function patched(b: Uint8Array, edit: (v: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = Uint8Array.from(b);
  edit(view(copy), copy);
  return copy;
}

/** The RecordBatch's `buffers` vector (RecordBatch field 2) made to claim `count` entries. */
export const withBufferCount = (header: Uint8Array, count: number): Uint8Array =>
  patched(header, (v) => v.setUint32(vectorAt(header, batchTable(header), 2), count, true));

/** Sets one int64 of the FieldNode (`which` 0 = length, 1 = null_count) or Buffer (0 = offset, 1 = length) vectors. */
export function withBatchInt64(header: Uint8Array, vectorId: 1 | 2, index: number, which: 0 | 1, value: bigint): Uint8Array {
  const at = vectorAt(header, batchTable(header), vectorId) + 4 + 16 * index + 8 * which;
  return patched(header, (v) => v.setBigInt64(at, value, true));
}

/** The count of the nodes (1) or buffers (2) vector. */
export const batchVectorLength = (header: Uint8Array, vectorId: 1 | 2): number =>
  view(header).getUint32(vectorAt(header, batchTable(header), vectorId), true);

export function batchBuffer(header: Uint8Array, index: number): { offset: number; length: number } {
  const at = vectorAt(header, batchTable(header), 2) + 4 + 16 * index;
  return { offset: Number(view(header).getBigInt64(at, true)), length: Number(view(header).getBigInt64(at + 8, true)) };
}

/** A message with the Message root table's field 1 (header_type) set to `type`. */
export const withHeaderType = (header: Uint8Array, type: number): Uint8Array =>
  patched(header, (v) => v.setUint8(fieldAt(header, rootTable(header), 1), type));

/** A schema message whose first field's type_type (Field field 2) is `type`. */
export function withFirstFieldTypeType(schemaHeader: Uint8Array, type: number): Uint8Array {
  const fields = vectorAt(schemaHeader, headerTable(schemaHeader), 1);
  const field = follow(schemaHeader, fields + 4);
  return patched(schemaHeader, (v) => v.setUint8(fieldAt(schemaHeader, field, 2), type));
}

/** A schema message whose first field's name has its NUL terminator replaced. */
export function withUnterminatedName(schemaHeader: Uint8Array): Uint8Array {
  const fields = vectorAt(schemaHeader, headerTable(schemaHeader), 1);
  const field = follow(schemaHeader, fields + 4);
  const name = follow(schemaHeader, fieldAt(schemaHeader, field, 0));
  const length = view(schemaHeader).getUint32(name, true);
  return patched(schemaHeader, (_, bytes) => (bytes[name + 4 + length] = 0x41));
}

/** Finishes a Schema message whose fields are `fields` (offsets already in `b`). */
function finishSchema(b: Builder, fields: number[], bodyLength = 0n): Uint8Array {
  const vector = FbSchema.createFieldsVector(b, fields);
  FbSchema.startSchema(b);
  FbSchema.addFields(b, vector);
  const schema = FbSchema.endSchema(b);
  FbMessage.startMessage(b);
  FbMessage.addVersion(b, FbMetadataVersion.V5);
  FbMessage.addHeaderType(b, FbMessageHeader.Schema);
  FbMessage.addHeader(b, schema);
  FbMessage.addBodyLength(b, bodyLength);
  b.finish(FbMessage.endMessage(b));
  return b.asUint8Array();
}

function intField(b: Builder, name: string): number {
  const n = b.createString(name);
  const type = FbInt.createInt(b, 64, true);
  FbField.startField(b);
  FbField.addName(b, n);
  FbField.addTypeType(b, FbType.Int);
  FbField.addType(b, type);
  return FbField.endField(b);
}

/** A Schema message of one int64 column that declares a body of `bodyLength` bytes (schemas have none). */
export function schemaWithBody(bodyLength: number): Uint8Array {
  const b = new Builder(256);
  return finishSchema(b, [intField(b, 'x')], BigInt(bodyLength));
}

/** A Schema message with one column of `depth` nested lists of int64. */
export function nestedListSchema(depth: number): Uint8Array {
  const b = new Builder(1024);
  let field = intField(b, 'item');
  for (let i = 0; i < depth; i++) {
    const name = b.createString(i === depth - 1 ? 'deep' : 'item');
    FbList.startList(b);
    const type = FbList.endList(b);
    const children = FbField.createChildrenVector(b, [field]);
    FbField.startField(b);
    FbField.addName(b, name);
    FbField.addTypeType(b, FbType.List);
    FbField.addType(b, type);
    FbField.addChildren(b, children);
    field = FbField.endField(b);
  }
  return finishSchema(b, [field]);
}

/**
 * A Schema message of `levels` struct fields, each listing the one below `fanout` times: a few
 * hundred bytes that unfold into fanout^levels fields for a reader that follows every offset.
 */
export function sharedTreeSchema(levels: number, fanout: number): Uint8Array {
  const b = new Builder(1024);
  let field = intField(b, 'leaf');
  for (let i = 0; i < levels; i++) {
    const name = b.createString(`s${i}`);
    FbStruct.startStruct_(b);
    const type = FbStruct.endStruct_(b);
    const children = FbField.createChildrenVector(
      b,
      Array.from({ length: fanout }, () => field),
    );
    FbField.startField(b);
    FbField.addName(b, name);
    FbField.addTypeType(b, FbType.Struct_);
    FbField.addType(b, type);
    FbField.addChildren(b, children);
    field = FbField.endField(b);
  }
  return finishSchema(b, [field]);
}

/** Splits an IPC stream (as apache-arrow's writer writes it) into FlightData frames. */
export function streamFrames(stream: Uint8Array): FlightDataFrame[] {
  const v = view(stream);
  const out: FlightDataFrame[] = [];
  let pos = 0;
  while (pos + 8 <= stream.byteLength) {
    let length = v.getInt32(pos, true);
    pos += 4;
    if (length === -1) {
      length = v.getInt32(pos, true);
      pos += 4;
    }
    if (length === 0) break; // end of stream
    const header = stream.slice(pos, pos + length);
    pos += length;
    const at = fieldAt(header, rootTable(header), 3);
    const bodyLength = at ? Number(view(header).getBigInt64(at, true)) : 0;
    out.push({ dataHeader: header, dataBody: stream.slice(pos, pos + bodyLength) });
    pos += bodyLength;
  }
  return out;
}

/** The table as apache-arrow's own stream writer writes it, split into FlightData frames. */
export function writerFrames(table: Table): FlightDataFrame[] {
  return streamFrames(RecordBatchStreamWriter.writeAll(table).toUint8Array(true));
}
