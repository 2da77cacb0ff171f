/**
 * Writing Arrow data to parquet with parquet-wasm. parquet-wasm writes a whole table at once (it
 * has no incremental writer for Node), so a write holds its table in memory; files are replaced
 * atomically (temporary file in the same directory, then rename) so a reader never sees half a file.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Field, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Type, makeData, tableToIPC } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { castData } from './cast.ts';

export async function writeParquetAtomic(file: string, table: Table): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(withoutSecondTimestamps(table), 'stream')), properties);
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Parquet has no second-resolution timestamp, and parquet-wasm then writes a bare int64 that
 * readers no longer see as a time (pyarrow would coerce to milliseconds): do that coercion here.
 */
function withoutSecondTimestamps(table: Table): Table {
  const isSeconds = (f: Field) => f.type.typeId === Type.Timestamp && (f.type as Timestamp).unit === TimeUnit.SECOND;
  if (!table.schema.fields.some(isSeconds)) return table;
  const fields = table.schema.fields.map((f) =>
    isSeconds(f) ? new Field(f.name, new Timestamp(TimeUnit.MILLISECOND, (f.type as Timestamp).timezone), f.nullable, f.metadata) : f,
  );
  const schema = new Schema(fields, table.schema.metadata);
  const batches = table.batches.map((batch) => {
    const children = fields.map((f, i) => castData(batch.getChildAt(i)!.data[0]!, f.type, f.name));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  return new Table(schema, batches);
}

/** Collects a stream of batches into a table (see the module comment for why). */
export async function collectBatches(schema: Schema, batches: AsyncIterable<RecordBatch>, signal?: AbortSignal): Promise<Table> {
  const collected: RecordBatch[] = [];
  for await (const batch of batches) {
    signal?.throwIfAborted();
    collected.push(batch);
  }
  return collected.length > 0 ? new Table(collected) : new Table(schema);
}

/** A new file name inside a dataset directory, as pyarrow's write_dataset names them. */
export function datasetFileName(): string {
  return `${randomUUID()}-0.parquet`;
}
