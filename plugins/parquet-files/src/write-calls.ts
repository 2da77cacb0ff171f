/**
 * The write calls of the file store (and of the duckdb store, which shares them):
 * offline_write_batch (append to a view's source), write_logged_features (new files under the
 * logging destination) and persist (a saved dataset).
 *
 * Every destination is checked to lie under the repo or `larder.data_roots` (write-target.ts);
 * a write that rewrites a file (offline_write_batch, persist) holds the destination's lock from
 * its first read to its rename (write-lock.ts), so concurrent writers, in this process or in
 * other replicas, never lose each other's rows; files are replaced atomically and durably
 * (parquet-write.ts).
 */
import { constants } from 'node:fs';
import { lstat } from 'node:fs/promises';
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
import { fileRangesOf } from './file-ranges.ts';
import { gather } from './gather.ts';
import { encodeKeys } from './keys.ts';
import { readParquetSchema, readRowGroups, type OpenRanges } from './parquet-read.ts';
import { collectBatches, datasetFileName, removeLeftovers, writeParquetAtomic } from './parquet-write.ts';
import { resolveSourcePath, sourcePath, sourceUri } from './source-paths.ts';
import { lockSettingsFrom, withWriteLock } from './write-lock.ts';
import { openInTarget, writeTarget, type WriteTarget } from './write-target.ts';

interface WriteEnvironment {
  readonly repoPath: string;
  readonly dataRoots: readonly string[];
  readonly repoConfig: Readonly<Record<string, unknown>>;
}

/** Where writes may go: the repo and the configured data roots (relative ones against the repo). */
function rootsOf(env: WriteEnvironment): string[] {
  return [env.repoPath, ...env.dataRoots].map((root) => path.resolve(env.repoPath, root));
}

/** Reads of the file being rewritten go through the checked directory, never through a link. */
const openChecked =
  (target: WriteTarget): OpenRanges =>
  async () =>
    fileRangesOf(await openInTarget(target, target.name, constants.O_RDONLY));

const pyList = (names: readonly string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;

/**
 * Feast's rule: the incoming columns must be the file's columns in exactly the same order; values
 * are cast to the file's types; the new rows come first, then the old ones.
 */
export async function offlineWriteBatch(req: OfflineWriteRequest, env: WriteEnvironment, ctx: CallContext): Promise<void> {
  const source = req.featureView.batchSource;
  if (!source) throw new InvalidArgumentError(`Feature view '${req.featureView.name}' has no batch_source to write to`);
  const target = await writeTarget(sourcePath(source, env.repoPath), rootsOf(env));
  const incoming = req.table;
  await withWriteLock(target, lockSettingsFrom(env.repoConfig), ctx.signal, async (assertHeld) => {
    await removeLeftovers(target);
    const existing = await lstat(target.path).catch(() => null);
    if (existing?.isDirectory()) {
      throw new InvalidArgumentError(`offline_write_batch appends to a single parquet file; ${target.path} is a directory`);
    }
    if (!existing) {
      await writeParquetAtomic(target, incoming, assertHeld);
      return;
    }
    const schema = await readParquetSchema(target.path, openChecked(target));
    const expected = schema.fields.map((f) => f.name);
    const given = incoming.schema.fields.map((f) => f.name);
    if (String(expected) !== String(given) || expected.length !== given.length) {
      throw new InvalidArgumentError(
        `The input pyarrow table has schema ${pyarrowSchemaString(incoming.schema)} with the incorrect columns ${pyList(given)}. ` +
          `The schema is expected to be ${pyarrowSchemaString(schema)} with the columns (in this exact order) to be ${pyList(expected)}.`,
      );
    }
    const batches: RecordBatch[] = incoming.batches.map((batch) => castBatch(batch, schema));
    for await (const old of readRowGroups(target.path, undefined, ctx.signal, openChecked(target))) {
      for (const batch of old.batches) batches.push(castBatch(batch, schema));
    }
    await writeParquetAtomic(target, new Table(batches), assertHeld);
  });
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
    throw new InvalidArgumentError(
      `Feature service ${req.featureService.name} has no file logging destination; the file store writes logs to files only`,
    );
  }
  const base = resolveSourcePath(destination.path, env.repoPath);
  const roots = rootsOf(env);
  const partitionBy = destination.partitionBy;
  if (partitionBy.length === 0) {
    await writeParquetAtomic(await writeTarget(path.join(base, datasetFileName()), roots), req.table);
    return;
  }
  const missing = partitionBy.filter((c) => !req.table.schema.fields.some((f) => f.name === c));
  if (missing.length > 0) throw new InvalidArgumentError(`The logged rows have no partition column ${missing.join(', ')}`);
  const kept = req.table.schema.fields.filter((f) => !partitionBy.includes(f.name));
  const schema = new Schema(kept);
  for (const batch of req.table.batches) {
    ctx.signal.throwIfAborted();
    const keys = encodeKeys(
      partitionBy.map((c) => batch.getChild(c)!.data[0]!),
      batch.numRows,
    );
    const groups = new Map<string, number[]>();
    keys.forEach((key, row) => {
      const id = String(key);
      groups.set(id, [...(groups.get(id) ?? []), row]);
    });
    for (const rows of groups.values()) {
      const rowOf = Int32Array.from(rows);
      const chunkOf = new Int32Array(rows.length);
      const dirs = partitionBy.map((c) => partitionDirectory(c, batch.getChild(c)!.get(rows[0]!)));
      const children: Data[] = kept.map((f) => {
        const data = batch.getChild(f.name)!.data[0]!;
        return gather(data.type as DataType, [data], chunkOf, rowOf);
      });
      const part = new RecordBatch(schema, makeData({ type: new Struct(kept), length: rows.length, nullCount: 0, children }));
      await writeParquetAtomic(await writeTarget(path.join(base, ...dirs, datasetFileName()), roots), new Table([part]));
    }
  }
}

/**
 * A partition value as a directory name, percent-encoded as pyarrow's partitioning does by
 * default, so no value (`..`, `a/b`) names a directory outside the logging destination.
 */
function partitionDirectory(column: string, value: unknown): string {
  const name = encodeURIComponent(String(value));
  if (name === '' || name === '.' || name === '..') {
    throw new InvalidArgumentError(
      `The logged rows have a value ${JSON.stringify(String(value))} in partition column ${column} that cannot name a directory`,
    );
  }
  return name;
}

/**
 * A saved dataset: a `.parquet` path is one file, anything else a dataset directory. The
 * retrieval runs first; the destination is locked only for the existence check and the write.
 */
export async function persist(req: PersistRequest, env: WriteEnvironment, ctx: CallContext): Promise<void> {
  if (req.destination.type !== 'BATCH_FILE') {
    throw new InvalidArgumentError(
      `The file store persists to FileSources only; ${req.destination.name} is a ${req.destination.type} source`,
    );
  }
  const uri = sourceUri(req.destination);
  const roots = rootsOf(env);
  const target = await writeTarget(resolveSourcePath(uri, env.repoPath), roots);
  const exists = async () => (await lstat(target.path).catch(() => null)) !== null;
  if (!req.allowOverwrite && (await exists())) throw new SavedDatasetLocationAlreadyExists(uri);
  const table = await collectBatches(req.result.schema, req.result.batches, ctx.signal);
  await withWriteLock(target, lockSettingsFrom(env.repoConfig), ctx.signal, async (assertHeld) => {
    if (!req.allowOverwrite && (await exists())) throw new SavedDatasetLocationAlreadyExists(uri);
    if (uri.endsWith('.parquet')) {
      await removeLeftovers(target);
      await writeParquetAtomic(target, table, assertHeld);
    } else {
      await writeParquetAtomic(await writeTarget(path.join(target.path, datasetFileName()), roots), table, assertHeld);
    }
  });
}
