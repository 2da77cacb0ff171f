/**
 * The write calls of the file store: offline_write_batch (append to a view's source),
 * write_logged_features (new files under the logging destination) and persist (a saved dataset).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  InvalidArgumentError,
  SavedDatasetLocationAlreadyExists,
  pyarrowSchemaString,
  type CallContext,
  type LoggedFeaturesRequest,
  type OfflineWriteRequest,
  type PersistRequest,
} from '@larder/core';
import { RecordBatch, Schema, Struct, Table, makeData, type Data, type DataType } from 'apache-arrow';
import { castData } from './cast.ts';
import { gather } from './gather.ts';
import { encodeKeys } from './keys.ts';
import { readParquetSchema, readRowGroups } from './parquet-read.ts';
import { collectBatches, datasetFileName, writeParquetAtomic } from './parquet-write.ts';
import { resolveSourcePath, sourcePath, sourceUri } from './source-paths.ts';

interface WriteEnvironment {
  readonly repoPath: string;
}

const pyList = (names: readonly string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;

/**
 * Feast's rule: the incoming columns must be the file's columns in exactly the same order; values
 * are cast to the file's types; the new rows come first, then the old ones.
 */
export async function offlineWriteBatch(req: OfflineWriteRequest, env: WriteEnvironment, ctx: CallContext): Promise<void> {
  const source = req.featureView.batchSource;
  if (!source) throw new InvalidArgumentError(`Feature view '${req.featureView.name}' has no batch_source to write to`);
  const file = sourcePath(source, env.repoPath);
  if (existsSync(file) && statSync(file).isDirectory()) {
    throw new InvalidArgumentError(`offline_write_batch appends to a single parquet file; ${file} is a directory`);
  }
  const incoming = req.table;
  if (!existsSync(file)) {
    await writeParquetAtomic(file, incoming);
    return;
  }
  const schema = await readParquetSchema(file);
  const expected = schema.fields.map((f) => f.name);
  const given = incoming.schema.fields.map((f) => f.name);
  if (String(expected) !== String(given) || expected.length !== given.length) {
    throw new InvalidArgumentError(
      `The input pyarrow table has schema ${pyarrowSchemaString(incoming.schema)} with the incorrect columns ${pyList(given)}. ` +
        `The schema is expected to be ${pyarrowSchemaString(schema)} with the columns (in this exact order) to be ${pyList(expected)}.`,
    );
  }
  const batches: RecordBatch[] = incoming.batches.map((batch) => castBatch(batch, schema));
  for await (const old of readRowGroups(file, undefined, ctx.signal)) {
    for (const batch of old.batches) batches.push(castBatch(batch, schema));
  }
  await writeParquetAtomic(file, new Table(batches));
}

function castBatch(batch: RecordBatch, schema: Schema): RecordBatch {
  const children = schema.fields.map((field, i) => castData(batch.getChildAt(i)!.data[0]!, field.type, field.name));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: batch.numRows, nullCount: 0, children }));
}

/**
 * Logged rows become new files under the service's file destination; with `partition_by`, one
 * directory level per partition column named by the value (pyarrow's default partitioning), the
 * partition columns left out of the files.
 */
export async function writeLoggedFeatures(req: LoggedFeaturesRequest, env: WriteEnvironment, ctx: CallContext): Promise<void> {
  const destination = req.featureService.loggingConfig?.fileDestination;
  if (!destination) {
    throw new InvalidArgumentError(`Feature service ${req.featureService.name} has no file logging destination; the file store writes logs to files only`);
  }
  const base = resolveSourcePath(destination.path, env.repoPath);
  const partitionBy = destination.partitionBy;
  if (partitionBy.length === 0) {
    await writeParquetAtomic(path.join(base, datasetFileName()), req.table);
    return;
  }
  const missing = partitionBy.filter((c) => !req.table.schema.fields.some((f) => f.name === c));
  if (missing.length > 0) throw new InvalidArgumentError(`The logged rows have no partition column ${missing.join(', ')}`);
  const kept = req.table.schema.fields.filter((f) => !partitionBy.includes(f.name));
  const schema = new Schema(kept);
  for (const batch of req.table.batches) {
    ctx.signal.throwIfAborted();
    const keys = encodeKeys(partitionBy.map((c) => batch.getChild(c)!.data[0]!), batch.numRows);
    const groups = new Map<string, number[]>();
    keys.forEach((key, row) => {
      const id = String(key);
      groups.set(id, [...(groups.get(id) ?? []), row]);
    });
    for (const rows of groups.values()) {
      const rowOf = Int32Array.from(rows);
      const chunkOf = new Int32Array(rows.length);
      const dirs = partitionBy.map((c) => String(batch.getChild(c)!.get(rows[0]!)));
      const children: Data[] = kept.map((f) => {
        const data = batch.getChild(f.name)!.data[0]!;
        return gather(data.type as DataType, [data], chunkOf, rowOf);
      });
      const part = new RecordBatch(schema, makeData({ type: new Struct(kept), length: rows.length, nullCount: 0, children }));
      await writeParquetAtomic(path.join(base, ...dirs, datasetFileName()), new Table([part]));
    }
  }
}

/** A saved dataset: a `.parquet` path is one file, anything else a dataset directory. */
export async function persist(req: PersistRequest, env: WriteEnvironment, ctx: CallContext): Promise<void> {
  if (req.destination.type !== 'BATCH_FILE') {
    throw new InvalidArgumentError(`The file store persists to FileSources only; ${req.destination.name} is a ${req.destination.type} source`);
  }
  const uri = sourceUri(req.destination);
  const target = resolveSourcePath(uri, env.repoPath);
  if (!req.allowOverwrite && existsSync(target)) throw new SavedDatasetLocationAlreadyExists(uri);
  const table = await collectBatches(req.result.schema, req.result.batches, ctx.signal);
  const file = uri.endsWith('.parquet') ? target : path.join(target, datasetFileName());
  await writeParquetAtomic(file, table);
}
