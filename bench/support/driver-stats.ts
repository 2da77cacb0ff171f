/**
 * The benches' feature data: `rows` rows of driver stats over 10,000 drivers, one row per driver
 * and hour (with jitter inside the hour), as a cached parquet file and as a PostgreSQL table.
 * Shared by bench/historical-stores.ts and bench/feast-vs-larder.ts so both measure the same rows
 * and reuse one cache (~/.cache/larder/bench-data/<rows>/driver_stats.parquet): generating 10M
 * rows takes a while.
 *
 * Row i is driver i % DRIVERS in hour floor(i / DRIVERS) after T0 (2024-01-01 UTC), so the first
 * k·DRIVERS rows are exactly the first k hours: a time range selects a known number of rows.
 * Columns: driver_id int64, event_timestamp and created timestamp[us, UTC], conv_rate float32,
 * acc_rate float64, trips int64.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Field,
  Float32,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  makeData,
  type DataType,
} from 'apache-arrow';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { encodeCopyBinary } from '../../plugins/postgres/src/copy-binary-encoder.ts';
import { pgTypeForArrow } from '../../plugins/postgres/src/pg-types.ts';
import type { PostgresServer } from '../../test/support/postgres-server.ts';
import { writeParquetFile } from '../../test/support/parquet-fixtures.ts';

export const DRIVERS = 10_000;
export const T0_SECONDS = Date.UTC(2024, 0, 1) / 1000;
/** Rows per generated RecordBatch: bounds the generator's memory per step. */
const BATCH_ROWS = 1_000_000;
export const tsType = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

/** Hours the data spans: every driver has one row per hour. */
export const hoursFor = (rows: number): number => Math.ceil(rows / DRIVERS);

export const micros = (seconds: number): bigint => BigInt(seconds) * 1_000_000n;

export function positiveInt(text: string): number {
  const n = Number(text.replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`not a positive integer: ${text}`);
  return n;
}

export function batch(columns: Array<[string, DataType, ArrayLike<unknown>]>, length: number): RecordBatch {
  const fields = columns.map(([name, type]) => new Field(name, type, true));
  const children = columns.map(([, type, data]) => makeData({ type, length, data } as never));
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children }));
}

/** Feature rows [start, start + length): row i is driver i % DRIVERS in hour i / DRIVERS. */
export function featureBatch(start: number, length: number): RecordBatch {
  const driver = new BigInt64Array(length);
  const event = new BigInt64Array(length);
  const created = new BigInt64Array(length);
  const conv = new Float32Array(length);
  const acc = new Float64Array(length);
  const trips = new BigInt64Array(length);
  for (let j = 0; j < length; j++) {
    const i = start + j;
    // The jitter stays inside the hour, so each driver's rows remain in time order.
    const seconds = T0_SECONDS + Math.floor(i / DRIVERS) * 3600 + ((i * 7919) % 3600);
    driver[j] = BigInt(i % DRIVERS);
    event[j] = micros(seconds);
    created[j] = micros(seconds + ((i * 104_729) % 600));
    conv[j] = (i % 997) / 997;
    acc[j] = (i % 991) / 991;
    trips[j] = BigInt(i % 50);
  }
  return batch(
    [
      ['driver_id', new Int64(), driver],
      ['event_timestamp', tsType, event],
      ['created', tsType, created],
      ['conv_rate', new Float32(), conv],
      ['acc_rate', new Float64(), acc],
      ['trips', new Int64(), trips],
    ],
    length,
  );
}

/** The cached feature parquet of `rows` rows, generated on first use. */
export function featureFile(rows: number): string {
  const dir = path.join(homedir(), '.cache', 'larder', 'bench-data', String(rows));
  const file = path.join(dir, 'driver_stats.parquet');
  if (existsSync(file)) {
    console.log(`feature data: reusing ${file}`);
    return file;
  }
  console.log(`feature data: generating ${rows.toLocaleString('en')} rows into ${file} …`);
  const started = performance.now();
  const batches: RecordBatch[] = [];
  for (let start = 0; start < rows; start += BATCH_ROWS) batches.push(featureBatch(start, Math.min(BATCH_ROWS, rows - start)));
  mkdirSync(dir, { recursive: true });
  // Written under a temporary name and renamed, so an interrupted run never leaves a truncated
  // file that later runs would take for a finished cache.
  const partial = `${file}.${process.pid}.partial`;
  writeParquetFile(partial, new Table(batches));
  renameSync(partial, file);
  console.log(`feature data: written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return file;
}

/**
 * Creates `table` in the cluster and fills it with the same `rows` rows, batch by batch (binary
 * COPY, then ANALYZE; no index, as a source table often has none). Returns the seconds it took.
 */
export async function loadPostgresTable(server: PostgresServer, rows: number, table = 'driver_stats'): Promise<number> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  });
  await client.connect();
  try {
    const started = performance.now();
    const first = featureBatch(0, 1);
    await client.query(
      `CREATE TABLE ${table} (${first.schema.fields.map((f) => `"${f.name}" ${pgTypeForArrow(f.type, f.name)}`).join(', ')})`,
    );
    for (let start = 0; start < rows; start += BATCH_ROWS) {
      const chunk = featureBatch(start, Math.min(BATCH_ROWS, rows - start));
      await pipeline(Readable.from(encodeCopyBinary([chunk])), client.query(copyFrom(`COPY ${table} FROM STDIN (FORMAT binary)`)));
    }
    await client.query(`ANALYZE ${table}`);
    return (performance.now() - started) / 1000;
  } finally {
    await client.end();
  }
}
