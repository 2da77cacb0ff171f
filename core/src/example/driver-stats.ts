/**
 * Deterministic driver statistics for the bundled example: five drivers (1001–1005), one row per
 * hour from 2021-04-10 00:00 to 2021-04-12 23:00 UTC, with a `created` column one minute after
 * each event. Values come from a fixed-seed generator, so every machine writes the same file.
 */
import { Field, Float32, Int64, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, makeData, makeVector } from 'apache-arrow';

export const DRIVER_IDS = [1001, 1002, 1003, 1004, 1005];
const START_US = BigInt(Date.UTC(2021, 3, 10)) * 1000n;
const HOUR_US = 3_600_000_000n;
const HOURS = 72;

/** A small linear congruential generator: reproducible, no dependency. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function driverStatsTable(): Table {
  const random = generator(42);
  const n = DRIVER_IDS.length * HOURS;
  const ts = new BigInt64Array(n);
  const created = new BigInt64Array(n);
  const driver = new BigInt64Array(n);
  const conv = new Float32Array(n);
  const acc = new Float32Array(n);
  const trips = new BigInt64Array(n);
  let i = 0;
  for (let h = 0; h < HOURS; h++) {
    for (const id of DRIVER_IDS) {
      ts[i] = START_US + BigInt(h) * HOUR_US;
      created[i] = ts[i]! + 60_000_000n;
      driver[i] = BigInt(id);
      conv[i] = Math.round(random() * 1e6) / 1e6;
      acc[i] = Math.round(random() * 1e6) / 1e6;
      trips[i] = BigInt(Math.floor(random() * 1000));
      i++;
    }
  }
  const utcMicros = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  const fields = [
    new Field('event_timestamp', utcMicros, false),
    new Field('driver_id', new Int64(), false),
    new Field('conv_rate', new Float32(), true),
    new Field('acc_rate', new Float32(), true),
    new Field('avg_daily_trips', new Int64(), true),
    new Field('created', utcMicros, true),
  ];
  const columns = [
    makeData({ type: utcMicros, length: n, data: ts }),
    makeData({ type: new Int64(), length: n, data: driver }),
    makeVector(conv).data[0]!,
    makeVector(acc).data[0]!,
    makeData({ type: new Int64(), length: n, data: trips }),
    makeData({ type: utcMicros, length: n, data: created }),
  ];
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children: columns }));
  return new Table([batch]);
}
