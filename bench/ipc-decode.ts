/**
 * The cost of reading an upload: decodeFlightStream (verification of each message, then
 * apache-arrow's reader) over the FlightData of a Feast-like entity dataframe, in process, from
 * memory — no gRPC, so the figure is the decoding alone. Also times the verification alone
 * (ipc-verify.ts + ipc-batch-check.ts) on the same messages.
 *
 *   npx tsx --conditions=larder-source bench/ipc-decode.ts [--rows 1000000] [--batch-rows 0] [--runs 9]
 *
 * Columns: driver_id int64, customer_id utf8 (so offsets are scanned), event_timestamp
 * timestamp[us, UTC], val_to_add float64 with nulls. `--batch-rows 0` sends one batch, as
 * pyarrow's `write_table` does for an entity dataframe. Prints the median and min of `--runs`.
 */
import { parseArgs } from 'node:util';
import {
  Field,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMicrosecond,
  Utf8,
  makeData,
  vectorFromArray,
} from 'apache-arrow';
import { IpcStreamChecker } from '../packages/flight/src/ipc-batch-check.ts';
import { concatBody, decodeFlightStream, FlightDataEncoder, type FlightDataFrame } from '../packages/flight/src/ipc.ts';

const { values: options } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'batch-rows': { type: 'string', default: '0' },
    runs: { type: 'string', default: '9' },
  },
});
const rows = Number(options.rows);
const batchRows = Number(options['batch-rows']) || rows;
const runs = Number(options.runs);

function entityTable(n: number): Table {
  const schema = new Schema([
    new Field('driver_id', new Int64(), true),
    new Field('customer_id', new Utf8(), true),
    new Field('event_timestamp', new TimestampMicrosecond('UTC'), true),
    new Field('val_to_add', new Float64(), true),
  ]);
  const ids = BigInt64Array.from({ length: n }, (_, i) => 1000n + BigInt(i % 5000));
  const ts = BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000n + BigInt(i) * 1_000n);
  const vals = Float64Array.from({ length: n }, (_, i) => i / 7);
  const bitmap = new Uint8Array(Math.ceil(n / 8)).fill(0xff);
  for (let i = 0; i < n; i += 10) bitmap[i >> 3]! &= ~(1 << (i & 7));
  const customers = vectorFromArray(
    Array.from({ length: n }, (_, i) => `customer-${i % 20000}`),
    new Utf8(),
  ).data[0]!;
  const children = [
    makeData({ type: new Int64(), length: n, data: ids }),
    customers,
    makeData({ type: new TimestampMicrosecond('UTC'), length: n, data: ts }),
    makeData({ type: new Float64(), length: n, data: vals, nullBitmap: bitmap, nullCount: Math.ceil(n / 10) }),
  ];
  return new Table([new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }))]);
}

const table = entityTable(rows);
const batch = table.batches[0]!;
const slices: RecordBatch[] = [];
for (let start = 0; start < rows; start += batchRows) slices.push(batch.slice(start, Math.min(rows, start + batchRows))); // (begin, end)
const encoder = new FlightDataEncoder(table.schema);
const frames: FlightDataFrame[] = [encoder.schemaMessage(), ...slices.flatMap((b) => encoder.batchMessages(b))].map((m) => ({
  dataHeader: m.header,
  dataBody: concatBody(m.body),
}));
const bytes = frames.reduce((n, f) => n + f.dataHeader.byteLength + f.dataBody.byteLength, 0);

async function decodeOnce(): Promise<number> {
  async function* source() {
    yield* frames;
  }
  const started = performance.now();
  const decoded = await decodeFlightStream(source());
  let n = 0;
  for await (const b of decoded.batches) n += b.numRows;
  const ms = performance.now() - started;
  if (n !== rows) throw new Error(`decoded ${n} rows, expected ${rows}`);
  return ms;
}

function verifyOnce(): number {
  const started = performance.now();
  const checker = new IpcStreamChecker();
  for (const f of frames) checker.check(f.dataHeader, f.dataBody);
  return performance.now() - started;
}

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} ms, min ${sorted[0]!.toFixed(2)} ms`;
};

await decodeOnce(); // warm up
verifyOnce();
const decodeTimes: number[] = [];
const verifyTimes: number[] = [];
for (let i = 0; i < runs; i++) {
  decodeTimes.push(await decodeOnce());
  verifyTimes.push(verifyOnce());
}
console.log(`${rows} rows in ${frames.length - 1} batch message(s), ${(bytes / 1e6).toFixed(1)} MB of IPC`);
console.log(`decodeFlightStream: ${stats(decodeTimes)}`);
console.log(`verification alone: ${stats(verifyTimes)}`);
