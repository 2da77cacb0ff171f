/**
 * Writing Arrow data to parquet with parquet-wasm. parquet-wasm writes a whole table at once (it
 * has no incremental writer for Node), so a write holds its table in memory. A file is replaced
 * atomically and durably: a temporary file created exclusively in the destination's (checked,
 * real) directory, written, fsynced, renamed over the destination, then the directory fsynced.
 * A reader sees the old file or the new one, never half a file; a write that fails (a full disk)
 * removes its temporary file and leaves the old data as it was.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Field, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, Type, makeData, tableToIPC } from 'apache-arrow';
import { castData } from './cast.ts';
import { parquetWasm } from './parquet-wasm.ts';
import { fileWriteError } from './write-errors.ts';
import { assertStillAt, openInTarget, type WriteTarget } from './write-target.ts';

const temporaryPrefix = (name: string) => `.${name}.`;
const TEMPORARY_SUFFIX = '.tmp';

/**
 * Writes `table` to `target` (see the module comment). `assertHeld`, when the destination is
 * locked, is asked just before the rename whether the lock is still this writer's.
 */
export async function writeParquetAtomic(
  target: WriteTarget,
  table: Table,
  assertHeld: () => Promise<void> = async () => {},
): Promise<void> {
  const { Compression, Table: WasmTable, WriterPropertiesBuilder, writeParquet } = await parquetWasm();
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(withoutSecondTimestamps(table), 'stream')), properties);
  const name = `${temporaryPrefix(target.name)}${randomUUID()}${TEMPORARY_SUFFIX}`;
  const temporary = path.join(target.dir, name);
  // O_EXCL: a fresh file of our own, never one (or a link) someone put there.
  const handle = await openInTarget(target, name, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  let renamed = false;
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      throw fileWriteError(error, target.path);
    }
    await assertHeld();
    await assertStillAt(handle, target, name);
    await rename(temporary, target.path).catch((error: unknown) => {
      throw fileWriteError(error, target.path);
    });
    renamed = true;
    await assertStillAt(handle, target, target.name);
  } catch (error) {
    // Our file only ever had our bytes; if it is no longer where we made it, empty it instead.
    if (!renamed) await handle.truncate(0).catch(() => {});
    await handle.close().catch(() => {});
    if (!renamed) await rm(temporary, { force: true }).catch(() => {});
    throw error;
  }
  await handle.close();
  await syncDirectory(target.dir);
}

/** Makes a rename in `dir` durable; where a directory cannot be fsynced, the rename still stands. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY).catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory (EINVAL); nothing more can be done there.
  } finally {
    await handle.close();
  }
}

/**
 * Removes the temporary files a killed writer of `target` left behind. Only under the
 * destination's lock: then no live writer of that destination has one open.
 */
export async function removeLeftovers(target: WriteTarget): Promise<void> {
  const prefix = temporaryPrefix(target.name);
  const entries = await readdir(target.dir).catch(() => [] as string[]);
  await Promise.all(
    entries
      .filter((entry) => entry.startsWith(prefix) && entry.endsWith(TEMPORARY_SUFFIX))
      .map((entry) => rm(path.join(target.dir, entry), { force: true }).catch(() => {})),
  );
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
