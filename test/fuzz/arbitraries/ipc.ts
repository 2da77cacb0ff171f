/**
 * Arrow IPC message sequences for fuzzing the upload path (DoPut, DoExchange): valid messages
 * written by apache-arrow (through larder's own FlightDataEncoder, the same path pyarrow-equivalent
 * clients produce), then mutated the way a hostile or broken client would — bit flips, 32- and
 * 64-bit words overwritten with huge values (vector lengths, buffer offsets), bytes inserted,
 * headers and bodies truncated or padded (wrong body lengths), messages dropped, duplicated and
 * reordered, headers replaced by random bytes.
 */
import {
  Dictionary,
  Field,
  Int32,
  List,
  type Schema,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  makeVector,
  tableFromArrays,
  vectorFromArray,
  Table,
  type RecordBatch,
} from 'apache-arrow';
import fc from 'fast-check';
import { concatBody, FlightDataEncoder } from '../../../packages/flight/src/ipc.ts';

/** One IPC message as FlightData carries it. */
export interface IpcMessage {
  readonly header: Uint8Array;
  readonly body: Uint8Array;
}

/** A UTC microsecond timestamp column (the type pandas' datetimes become in pyarrow). */
export function timestampVector(values: readonly bigint[]) {
  const type = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  return makeVector(makeData({ type, length: values.length, data: BigInt64Array.from(values) }));
}

/** An entity dataframe as the Feast client uploads it for get_historical_features. */
function entityTable(rows: number): Table {
  const ts = BigInt(Date.UTC(2021, 3, 12, 10)) * 1000n;
  return new Table({
    driver_id: makeVector(BigInt64Array.from({ length: rows }, (_, i) => BigInt(1001 + (i % 5)))),
    event_timestamp: timestampVector(Array.from({ length: rows }, (_, i) => ts + BigInt(i) * 1000n)),
  });
}

/** Every layout the reader has to walk: fixed width, variable width, dictionary, nested, nulls. */
function richTable(rows: number): Table {
  const base = entityTable(rows);
  const extra = tableFromArrays({
    conv_rate: Float32Array.from({ length: rows }, (_, i) => i / 7),
    avg_daily_trips: Int32Array.from({ length: rows }, (_, i) => i),
  });
  const names = vectorFromArray(
    Array.from({ length: rows }, (_, i) => (i % 4 === 3 ? null : `driver-${i}`)),
    new Utf8(),
  );
  const category = vectorFromArray(
    Array.from({ length: rows }, (_, i) => ['a', 'b', 'c'][i % 3]!),
    new Dictionary(new Utf8(), new Int32()),
  );
  const lists = vectorFromArray(
    Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? null : Array.from({ length: i % 3 }, (_, j) => j))),
    new List(new Field('item', new Int32(), true)),
  );
  return new Table({
    ...Object.fromEntries(base.schema.fields.map((f, i) => [f.name, base.getChildAt(i)!])),
    conv_rate: extra.getChild('conv_rate')!,
    avg_daily_trips: extra.getChild('avg_daily_trips')!,
    name: names,
    category,
    tags: lists,
  });
}

/** The IPC messages (schema first) of a table, split into batches of `batchRows`. */
export function ipcMessages(table: Table, batchRows: number): IpcMessage[] {
  const encoder = new FlightDataEncoder(table.schema as Schema);
  const schema = encoder.schemaMessage();
  const out: IpcMessage[] = [{ header: schema.header, body: concatBody(schema.body) }];
  for (const whole of table.batches as RecordBatch[]) {
    for (let start = 0; start < whole.numRows; start += batchRows) {
      for (const m of encoder.batchMessages(whole.slice(start, start + batchRows))) {
        out.push({ header: m.header, body: concatBody(m.body) });
      }
    }
  }
  return out;
}

/** The valid message sequences mutations start from (built once: the writer is deterministic). */
export const BASE_STREAMS: ReadonlyArray<{ readonly name: string; readonly messages: readonly IpcMessage[] }> = [
  { name: 'entity rows', messages: ipcMessages(entityTable(8), 4) },
  { name: 'every layout', messages: ipcMessages(richTable(12), 5) },
];

/** Values that, written over a length or offset, ask for too much. */
const HUGE_32 = [0x7fffffff, 0x08000000, 0xffffffff, 0x80000000, 0x00ffffff, 0, 1, 0xfffffff8];
const HUGE_64 = [2n ** 62n, 2n ** 31n, 2n ** 53n, -1n, -8n, 2n ** 63n - 1n, 0n];

type Where = 'header' | 'body';

export type IpcMutation =
  | { readonly kind: 'flip'; readonly message: number; readonly where: Where; readonly at: number; readonly mask: number }
  | { readonly kind: 'word32'; readonly message: number; readonly at: number; readonly value: number }
  | { readonly kind: 'word64'; readonly message: number; readonly at: number; readonly value: bigint }
  | { readonly kind: 'insert'; readonly message: number; readonly where: Where; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: 'truncate'; readonly message: number; readonly where: Where; readonly at: number }
  | { readonly kind: 'pad-body'; readonly message: number; readonly bytes: number }
  | { readonly kind: 'random-header'; readonly message: number; readonly bytes: Uint8Array }
  | { readonly kind: 'drop'; readonly message: number }
  | { readonly kind: 'duplicate'; readonly message: number }
  | { readonly kind: 'swap'; readonly message: number; readonly other: number };

const where = fc.constantFrom<Where>('header', 'header', 'body');

export const ipcMutation: fc.Arbitrary<IpcMutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      message: fc.nat(),
      where,
      at: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('word32' as const), message: fc.nat(), at: fc.nat(), value: fc.constantFrom(...HUGE_32) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('word64' as const), message: fc.nat(), at: fc.nat(), value: fc.constantFrom(...HUGE_64) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      message: fc.nat(),
      where,
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), message: fc.nat(), where, at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('pad-body' as const), message: fc.nat(), bytes: fc.integer({ min: 1, max: 4096 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('random-header' as const), message: fc.nat(), bytes: fc.uint8Array({ maxLength: 300 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), message: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), message: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), message: fc.nat(), other: fc.nat() }) },
);

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(bytes.byteLength - remove + insert.byteLength);
  out.set(bytes.subarray(0, at), 0);
  out.set(insert, at);
  out.set(bytes.subarray(at + remove), at + insert.byteLength);
  return out;
}

/** Applies one mutation to a copy of the sequence (indexes wrap around the sequence/bytes). */
export function mutate(messages: readonly IpcMessage[], m: IpcMutation): IpcMessage[] {
  const out: IpcMessage[] = messages.map((x) => ({ header: x.header.slice(), body: x.body.slice() }));
  if (out.length === 0) return out;
  const i = m.message % out.length;
  const target = out[i]!;
  const bytesOf = (w: Where) => (w === 'header' ? target.header : target.body);
  const set = (w: Where, bytes: Uint8Array) => (out[i] = w === 'header' ? { ...out[i]!, header: bytes } : { ...out[i]!, body: bytes });
  switch (m.kind) {
    case 'flip': {
      const b = bytesOf(m.where);
      if (b.byteLength > 0) b[m.at % b.byteLength]! ^= m.mask;
      break;
    }
    case 'word32': {
      const b = target.header;
      if (b.byteLength >= 4) new DataView(b.buffer, b.byteOffset).setUint32((m.at % (b.byteLength - 3)) & ~3, m.value >>> 0, true);
      break;
    }
    case 'word64': {
      const b = target.header;
      if (b.byteLength >= 8)
        new DataView(b.buffer, b.byteOffset).setBigInt64((m.at % (b.byteLength - 7)) & ~7, BigInt.asIntN(64, m.value), true);
      break;
    }
    case 'insert': {
      const b = bytesOf(m.where);
      set(m.where, splice(b, m.at % (b.byteLength + 1), 0, m.bytes));
      break;
    }
    case 'truncate': {
      const b = bytesOf(m.where);
      set(m.where, b.subarray(0, m.at % (b.byteLength + 1)));
      break;
    }
    case 'pad-body':
      set('body', splice(target.body, target.body.byteLength, 0, new Uint8Array(m.bytes)));
      break;
    case 'random-header':
      set('header', m.bytes);
      break;
    case 'drop':
      out.splice(i, 1);
      break;
    case 'duplicate':
      out.splice(i, 0, { header: target.header.slice(), body: target.body.slice() });
      break;
    case 'swap': {
      const j = m.other % out.length;
      [out[i], out[j]] = [out[j]!, out[i]!];
      break;
    }
  }
  return out;
}

export interface FuzzedUpload {
  readonly base: string;
  readonly mutations: readonly IpcMutation[];
  readonly messages: readonly IpcMessage[];
}

/** A valid sequence with 1–4 mutations applied. */
export const fuzzedUpload: fc.Arbitrary<FuzzedUpload> = fc
  .tuple(fc.constantFrom(...BASE_STREAMS), fc.array(ipcMutation, { minLength: 1, maxLength: 4 }))
  .map(([base, mutations]) => ({
    base: base.name,
    mutations,
    messages: mutations.reduce((ms, m) => mutate(ms, m), base.messages as IpcMessage[]),
  }));
