/** Small helpers to write parquet fixtures and read result streams in tests. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Table, tableToIPC, type RecordBatch } from 'apache-arrow';
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
  return table.toArray().map((row) =>
    Object.fromEntries(Object.entries(row.toJSON()).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  );
}
