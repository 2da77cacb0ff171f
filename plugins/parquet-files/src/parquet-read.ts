/**
 * Reading parquet data as Arrow, batch by batch, with parquet-wasm. A source path is one parquet
 * file or a directory of them (searched recursively, in name order, as pyarrow's dataset discovery
 * does, skipping hidden and `_`-prefixed files).
 *
 * Files are read by range through an open file handle (file-ranges.ts), S3 objects by ranged GETs
 * pinned to their ETag (s3/object-ranges.ts): the footer, then one row group's column chunks at a
 * time. Reading whole files into memory made a pull over one large
 * file cost its full size in RSS, whatever the client read.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataSourceNotFoundException, InvalidArgumentError, UnavailableError } from '@larder/core';
import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import type { ParquetFile } from 'parquet-wasm';
import { openFileRanges, type FileRanges } from './file-ranges.ts';
import { parquetWasm } from './parquet-wasm.ts';
import { locationName, type SourceLocation } from './source-paths.ts';

/** How a file is opened for reading (the writers open theirs with checks: write-target.ts). */
export type OpenRanges = (file: string) => Promise<FileRanges>;

/** The parquet files of a source path; throws DataSourceNotFoundException when there are none. */
export async function listParquetFiles(location: string): Promise<string[]> {
  const info = await stat(location).catch(() => null);
  if (!info) throw new DataSourceNotFoundException(location);
  if (info.isFile()) return [location];
  const files: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  await walk(location);
  if (files.length === 0) throw new DataSourceNotFoundException(location);
  return files;
}

/** The parquet files (local paths or S3 objects) of a source location; DataSourceNotFoundException when there are none. */
export async function listSourceFiles(location: SourceLocation): Promise<SourceLocation[]> {
  return typeof location === 'string' ? listParquetFiles(location) : location.files();
}

/** Rows per Arrow batch decoded from a row group. */
const BATCH_ROWS = 65_536;

/** The file opened for ranged reads, checked to start like a parquet file. */
async function openParquet(
  location: SourceLocation,
  openRanges: OpenRanges,
  signal?: AbortSignal,
): Promise<{ ranges: FileRanges; parquet: ParquetFile }> {
  const file = locationName(location);
  if (typeof location !== 'string') return parseParquet(file, await location.open(signal));
  const ranges = await openRanges(location).catch((error: NodeJS.ErrnoException) => {
    // Listed a moment ago, gone now: the source changed under the call, and a retry reads it whole.
    if (error.code === 'ENOENT')
      throw new UnavailableError(`${file} was removed or replaced while the data source was being read; try again`);
    throw error;
  });
  return parseParquet(file, ranges);
}

/** The footer of the file behind `ranges` (closed here when it is not parquet). */
async function parseParquet(file: string, ranges: FileRanges): Promise<{ ranges: FileRanges; parquet: ParquetFile }> {
  try {
    if (ranges.size < 8 || (await ranges.read(0, 4)).toString('latin1') !== 'PAR1') {
      throw new InvalidArgumentError(`${file} is not a parquet file`);
    }
    const { ParquetFile } = await parquetWasm();
    try {
      // parquet-wasm asks a Blob for `size` and `slice(start, end).arrayBuffer()` only.
      return { ranges, parquet: await ParquetFile.fromFile(ranges.asBlob() as unknown as Blob) };
    } catch (error) {
      throw new InvalidArgumentError(`${file} is not a readable parquet file: ${(error as Error).message}`);
    }
  } catch (error) {
    await ranges.close();
    throw error;
  }
}

/** The Arrow schema of a source (of its first file, as pyarrow's dataset does). */
export async function readParquetSchema(location: SourceLocation, openRanges: OpenRanges = openFileRanges): Promise<Schema> {
  const [first] = await listSourceFiles(location);
  const { ranges, parquet } = await openParquet(first!, openRanges);
  try {
    return tableFromIPC(parquet.schema().intoIPCStream()).schema;
  } finally {
    parquet.free();
    await ranges.close();
  }
}

/**
 * The source's rows as a sequence of one-batch tables (at most 65,536 rows each), optionally only
 * some columns. Memory holds one row group's column chunks and one decoded batch at a time.
 */
export async function* readRowGroups(
  location: SourceLocation,
  columns?: readonly string[],
  signal?: AbortSignal,
  openRanges: OpenRanges = openFileRanges,
): AsyncGenerator<Table> {
  for (const file of await listSourceFiles(location)) {
    signal?.throwIfAborted();
    const { ranges, parquet } = await openParquet(file, openRanges, signal);
    try {
      // One row group in flight at a time (concurrency 1): memory stays at one row group.
      const stream = await parquet.stream({ columns: columns ? [...columns] : undefined, batchSize: BATCH_ROWS, concurrency: 1 });
      const reader = (stream as ReadableStream<{ intoIPCStream(): Uint8Array }>).getReader();
      try {
        for (;;) {
          signal?.throwIfAborted();
          const next = await reader.read();
          if (next.done) break;
          yield tableFromIPC(next.value.intoIPCStream());
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
    } finally {
      parquet.free();
      await ranges.close();
    }
  }
}
