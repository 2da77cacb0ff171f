/**
 * FlightData ⇄ Arrow.
 *
 * Outgoing: each Arrow IPC message (Schema, DictionaryBatch, RecordBatch) becomes one FlightData
 * with `data_header` = the IPC Message flatbuffer and `data_body` = the buffers, which stay views
 * of the batch's memory until the FlightData codec lays them out (protocol.ts).
 *
 * Incoming: FlightData are re-framed into an Arrow IPC stream (0xFFFFFFFF, length, header, padding,
 * body) and read by apache-arrow's streaming RecordBatchReader, which takes views of each body
 * chunk. Every message is verified first — its flatbuffer against its own length, its batch
 * against the schema and its body (ipc-verify.ts, ipc-batch-check.ts) — so garbage, truncated or
 * hostile messages fail with a message that says what was wrong, at a cost bounded by their size,
 * rather than somewhere deep inside the reader (or after it allocated what the header claimed).
 */
import { type MessageHeader, type RecordBatch, RecordBatchReader, Schema, type Data, type Vector } from 'apache-arrow';
import { DictionaryBatch as DictionaryBatchHeader, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { _InternalEmptyPlaceholderRecordBatch } from 'apache-arrow/recordbatch';
import { InvalidArgumentError } from './errors.ts';
import { assembleBody } from './assembler.ts';
import { IpcStreamChecker } from './ipc-batch-check.ts';
import { IpcDataError, verifyMessage } from './ipc-verify.ts';
import type { FlightDescriptor } from './handler.ts';
import type { OutgoingFlightData, PaddedParts } from './protocol.ts';

/** One Arrow IPC message as FlightData wants it. */
export interface EncodedMessage {
  /** The IPC Message flatbuffer. */
  readonly header: Uint8Array;
  readonly body: PaddedParts;
}

const EMPTY_BODY: PaddedParts = { parts: [], byteLength: 0 };
const pad8 = (n: number): number => (n + 7) & ~7;

// ---------------------------------------------------------------------------------------------
// Encoding

export function encodeSchema(schema: Schema): EncodedMessage {
  return { header: Message.encode(Message.from(schema)), body: EMPTY_BODY };
}

/**
 * The schema as FlightInfo.schema and SchemaResult.schema carry it: an IPC-framed Schema message.
 * `null` becomes an empty schema, as pyarrow expects a parseable schema there.
 */
export function framedSchema(schema: Schema | null): Uint8Array {
  const header = Message.encode(Message.from(schema ?? new Schema([])));
  const padded = pad8(header.byteLength);
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setInt32(0, -1, true);
  view.setInt32(4, padded, true);
  out.set(header, 8);
  return out;
}

/**
 * Reads FlightInfo.schema / SchemaResult.schema; empty bytes give null. The message is verified
 * (ipc-verify.ts) before apache-arrow decodes it; bad bytes throw InvalidArgumentError.
 */
export function parseFramedSchema(bytes: Uint8Array): Schema | null {
  if (bytes.byteLength === 0) return null;
  const bad = (what: string) => new InvalidArgumentError(`Invalid Arrow IPC schema (${bytes.byteLength} bytes): ${what}`);
  if (bytes.byteLength < 4) throw bad('too short for an IPC message');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let length = view.getInt32(0, true);
  if (length === -1) {
    if (bytes.byteLength < 8) throw bad('too short for an IPC message');
    length = view.getInt32(4, true);
    pos = 8;
  } else {
    pos = 4; // pre-0.15 framing without the continuation marker
  }
  if (length < 0 || length > bytes.byteLength - pos)
    throw bad(`the framing declares ${length} bytes of metadata but ${bytes.byteLength - pos} follow`);
  const header = bytes.subarray(pos, pos + length);
  try {
    if (verifyMessage(header).type !== 'schema') throw bad('expected an IPC Schema message');
  } catch (error) {
    if (error instanceof IpcDataError) throw bad(error.message);
    throw error;
  }
  return (Message.decode(header) as Message<MessageHeader.Schema>).header();
}

function recordBatchMessage(batch: RecordBatch): EncodedMessage {
  const body = assembleBody(batch);
  const header = new RecordBatchHeader(batch.numRows, body.nodes, body.regions, null, body.variadicBufferCounts, batch.metadata);
  return {
    header: Message.encode(Message.from(header, body.byteLength)),
    body: { parts: body.buffers, byteLength: body.byteLength },
  };
}

function dictionaryMessage(dictionary: Data, id: number, isDelta: boolean): EncodedMessage {
  const body = assembleBody(dictionary);
  const batch = new RecordBatchHeader(dictionary.length, body.nodes, body.regions, null, body.variadicBufferCounts);
  const header = new DictionaryBatchHeader(batch, id, isDelta);
  return {
    header: Message.encode(Message.from(header, body.byteLength)),
    body: { parts: body.buffers, byteLength: body.byteLength },
  };
}

/**
 * Turns one stream's schema and batches into IPC messages. Stateful: it remembers which
 * dictionaries the receiver has, and sends a dictionary again only when a batch refers to a
 * different one (a replacement) or to more chunks of the same one (deltas) — the rules of
 * apache-arrow's own stream writer.
 */
export class FlightDataEncoder {
  private readonly sent = new Map<number, { first: Data | undefined; chunks: number }>();

  constructor(readonly schema: Schema) {}

  schemaMessage(): EncodedMessage {
    return encodeSchema(this.schema);
  }

  /** The dictionary messages the batch needs (if any), then the batch itself. */
  batchMessages(batch: RecordBatch): EncodedMessage[] {
    const out: EncodedMessage[] = [];
    for (const [id, dictionary] of batch.dictionaries as Map<number, Vector>) {
      const chunks = dictionary?.data ?? [];
      const previous = this.sent.get(id);
      if (!previous || previous.first !== chunks[0]) {
        chunks.forEach((chunk, index) => out.push(dictionaryMessage(chunk, id, index > 0)));
      } else {
        for (let i = previous.chunks; i < chunks.length; i++) out.push(dictionaryMessage(chunks[i]!, id, true));
      }
      this.sent.set(id, { first: chunks[0], chunks: chunks.length });
    }
    out.push(recordBatchMessage(batch));
    return out;
  }
}

/** FlightData for an encoded message; the descriptor goes on the first message of a DoPut. */
export function toFlightData(message: EncodedMessage, descriptor?: FlightDescriptor): OutgoingFlightData {
  return { descriptor: descriptor ?? null, dataHeader: message.header, dataBody: message.body };
}

/** The body as one buffer (tests and tools; the server never needs it). */
export function concatBody(body: PaddedParts): Uint8Array {
  const out = new Uint8Array(body.byteLength);
  let pos = 0;
  for (const part of body.parts) {
    out.set(new Uint8Array(part.buffer, part.byteOffset, part.byteLength), pos);
    pos += pad8(part.byteLength);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** The parts of a FlightData message that carry Arrow data. */
export interface FlightDataFrame {
  readonly dataHeader: Uint8Array;
  readonly dataBody: Uint8Array;
}

export interface DecodedFlightStream {
  readonly schema: Schema;
  /** Single use: the record batches in arrival order. */
  readonly batches: AsyncIterableIterator<RecordBatch>;
}

const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function invalid(index: number, what: string): InvalidArgumentError {
  return new InvalidArgumentError(`Invalid Arrow IPC data in FlightData message #${index + 1}: ${what}`);
}

/**
 * Verifies a message (ipc-verify.ts, ipc-batch-check.ts) before apache-arrow sees any of it;
 * returns the body length it declares.
 */
function checkMessage(checker: IpcStreamChecker, frame: FlightDataFrame, index: number): number {
  try {
    return checker.check(frame.dataHeader, frame.dataBody).bodyLength;
  } catch (error) {
    if (error instanceof IpcDataError) throw invalid(index, error.message);
    throw error;
  }
}

/**
 * Re-frames FlightData as IPC stream chunks. A body is yielded as its own chunk so the reader can
 * take it whole (zero copy when it is 8-byte aligned; apache-arrow copies it once otherwise).
 * Errors of the source itself (a cancelled call) are recorded in `sourceErrors` so the caller can
 * tell them from bad data.
 */
async function* reframe(frames: AsyncIterable<FlightDataFrame>, sourceErrors: Set<unknown>): AsyncGenerator<Uint8Array> {
  let index = 0;
  const checker = new IpcStreamChecker();
  const iterator = frames[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<FlightDataFrame>;
      try {
        next = await iterator.next();
      } catch (error) {
        sourceErrors.add(error);
        throw error;
      }
      if (next.done) break;
      const frame = next.value;
      // A FlightData with no header carries only app_metadata: nothing for the IPC reader.
      if (frame.dataHeader.byteLength === 0) continue;
      const bodyLength = checkMessage(checker, frame, index++);
      const padded = pad8(frame.dataHeader.byteLength);
      const prefix = new Uint8Array(8 + padded);
      const view = new DataView(prefix.buffer);
      view.setInt32(0, -1, true);
      view.setInt32(4, padded, true);
      prefix.set(frame.dataHeader, 8);
      yield prefix;
      if (bodyLength > 0) yield frame.dataBody.subarray(0, bodyLength);
    }
  } finally {
    await iterator.return?.();
  }
  yield END_OF_STREAM;
}

/**
 * Reads the schema (waiting for the first message), then lazily the batches. Bad data throws
 * InvalidArgumentError; an error of `frames` itself is rethrown as it is.
 */
export async function decodeFlightStream(frames: AsyncIterable<FlightDataFrame>): Promise<DecodedFlightStream> {
  const sourceErrors = new Set<unknown>();
  const classify = (error: unknown): unknown =>
    sourceErrors.has(error) || error instanceof InvalidArgumentError
      ? error
      : new InvalidArgumentError(`Invalid Arrow IPC stream: ${(error as Error)?.message ?? String(error)}`);

  let reader: RecordBatchReader;
  try {
    reader = await RecordBatchReader.from(reframe(frames, sourceErrors));
    await reader.open();
  } catch (error) {
    throw classify(error);
  }
  if (!reader.schema) {
    throw new InvalidArgumentError('The Flight stream ended before its Schema message');
  }
  const schema = reader.schema;
  const iterator = reader[Symbol.asyncIterator]() as AsyncIterator<RecordBatch>;

  const batches: AsyncIterableIterator<RecordBatch> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<RecordBatch>> {
      for (;;) {
        let result: IteratorResult<RecordBatch>;
        try {
          result = await iterator.next();
        } catch (error) {
          throw classify(error);
        }
        // The reader invents an empty batch for a stream that has a schema and no batches.
        if (!result.done && result.value instanceof _InternalEmptyPlaceholderRecordBatch) continue;
        return result;
      }
    },
    async return(): Promise<IteratorResult<RecordBatch>> {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
  };
  return { schema, batches };
}
