/** Small helpers to write parquet fixtures and read result streams in tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Field, RecordBatch, Schema, Struct, Table, Timestamp, makeData, tableToIPC, vectorFromArray, type DataType } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import pino from 'pino';
import type { CallContext, ResultStream } from '../../core/src/store.ts';

export function writeParquetFile(file: string, table: Table): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  writeFileSync(file, writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties));
}

export function callContext(): CallContext {
  return { signal: new AbortController().signal, logger: pino({ level: 'silent' }), user: null };
}

export async function collect(result: ResultStream): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const batch of result.batches) batches.push(batch);
  return batches.length > 0 ? new Table(batches) : new Table(result.schema);
}

/** Rows as plain objects; bigints become numbers, timestamps stay as Arrow gives them (ms). */
export function rows(table: Table): Array<Record<string, unknown>> {
  return table
    .toArray()
    .map((row) => Object.fromEntries(Object.entries(row.toJSON()).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}

/**
 * A one-batch table from `[name, type, values]` columns. Timestamp values are raw int64 counts of
 * the column's unit (bigint) or null: vectorFromArray would read numbers as milliseconds.
 */
export function arrowTable(columns: Array<[string, DataType, unknown[]]>): Table {
  const fields = columns.map(([name, type]) => new Field(name, type, true));
  const data = columns.map(([, type, values]) =>
    type instanceof Timestamp
      ? timestampData(type, values as Array<bigint | null>)
      : vectorFromArray(values as never[], type as never).data[0]!,
  );
  const length = columns[0]![2].length;
  return new Table([new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length, nullCount: 0, children: data }))]);
}

function timestampData(type: Timestamp, values: Array<bigint | null>) {
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  const nullCount = values.filter((v) => v === null).length;
  return makeData({ type, length: values.length, nullCount, nullBitmap: bitmap, data: BigInt64Array.from(values, (v) => v ?? 0n) });
}

/** Milliseconds since the epoch as a microsecond timestamp value (null stays null). */
export const micros = (ms: number | null): bigint | null => (ms === null ? null : BigInt(ms) * 1000n);
