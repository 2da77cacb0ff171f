/**
 * Reading parquet data as Arrow, a row group at a time, with parquet-wasm. A source path is one
 * parquet file or a directory of them (searched recursively, in name order, as pyarrow's dataset
 * discovery does, skipping hidden and `_`-prefixed files).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataSourceNotFoundException, InvalidArgumentError } from '@larder/core';
import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import { ParquetFile, readSchema } from 'parquet-wasm';

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

async function readBytes(file: string): Promise<Uint8Array> {
  const bytes = await readFile(file);
  if (bytes.byteLength < 8 || bytes.subarray(0, 4).toString('latin1') !== 'PAR1') {
    throw new InvalidArgumentError(`${file} is not a parquet file`);
  }
  return bytes;
}

/** The Arrow schema of a source (of its first file, as pyarrow's dataset does). */
export async function readParquetSchema(location: string): Promise<Schema> {
  const [first] = await listParquetFiles(location);
  const bytes = await readBytes(first!);
  let wasmSchema;
  try {
    wasmSchema = readSchema(bytes);
  } catch (error) {
    throw new InvalidArgumentError(`${first} is not a readable parquet file: ${(error as Error).message}`);
  }
  return tableFromIPC(wasmSchema.intoIPCStream()).schema;
}

/**
 * The source's rows, one Arrow table per row group, optionally only some columns. Memory holds one
 * file's bytes and one decoded row group at a time.
 */
export async function* readRowGroups(location: string, columns?: readonly string[], signal?: AbortSignal): AsyncGenerator<Table> {
  for (const file of await listParquetFiles(location)) {
    const bytes = await readBytes(file);
    let parquet: ParquetFile;
    try {
      parquet = await ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
    } catch (error) {
      throw new InvalidArgumentError(`${file} is not a readable parquet file: ${(error as Error).message}`);
    }
    try {
      const groups = parquet.metadata().numRowGroups();
      for (let group = 0; group < groups; group++) {
        signal?.throwIfAborted();
        const wasm = await parquet.read({ rowGroups: [group], columns: columns ? [...columns] : undefined, batchSize: 65_536 });
        yield tableFromIPC(wasm.intoIPCStream());
      }
    } finally {
      parquet.free();
    }
  }
}
