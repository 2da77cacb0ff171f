/**
 * Where a FileSource's parquet data is, and reading it whole into an Arrow table.
 *
 * A source path is one parquet file or a directory of them (searched recursively in name order,
 * skipping hidden and `_`-prefixed files, as pyarrow's dataset discovery does). A relative path
 * resolves against the feature repo, as Feast's FileSource does.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataSourceNotFoundException, FailedPreconditionError, InvalidArgumentError, type DataSource } from '@larder/core';
import { tableFromIPC, type Schema, type Table } from 'apache-arrow';
import { readParquet, readSchema } from 'parquet-wasm';

/** The absolute path of a FileSource's data. Other source types and remote URIs are refused. */
export function sourceLocation(source: DataSource, repoPath: string): string {
  const uri = source.fileOptions?.uri;
  if (source.type !== 'BATCH_FILE' || !uri) {
    throw new InvalidArgumentError(
      `Data source "${source.name}" is not a FileSource (type ${source.type}); larder-store-example reads parquet FileSources only`,
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]+):\/\//i.exec(uri)?.[1];
  if (scheme && scheme !== 'file') {
    throw new InvalidArgumentError(`larder-store-example reads local files only; data source "${source.name}" names ${uri}`);
  }
  return path.resolve(repoPath, uri.replace(/^file:\/\//, ''));
}

/** The parquet files of a source path; DataSourceNotFoundException (Feast's error) when there are none. */
export async function parquetFiles(location: string): Promise<string[]> {
  const info = await stat(location).catch(() => null);
  if (info?.isFile()) return [location];
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  if (info?.isDirectory()) await walk(location);
  if (files.length === 0) throw new DataSourceNotFoundException(location);
  return files;
}

/**
 * Every row of the source, its files in order. The whole source is held in memory, which is what
 * keeps this store short: `maxBytes` (the `max_source_mb` setting) refuses a source too large.
 */
export async function readSource(location: string, maxBytes: number, signal: AbortSignal): Promise<Table> {
  const files = await parquetFiles(location);
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total > maxBytes) {
    throw new FailedPreconditionError(
      `Data source ${location} is ${(total / 2 ** 20).toFixed(1)} MB of parquet, more than larder-store-example's max_source_mb (${maxBytes / 2 ** 20}); raise max_source_mb or use the built-in \`file\` store, which streams`,
    );
  }
  let table: Table | null = null;
  for (const file of files) {
    signal.throwIfAborted();
    const part = readParquetFile(file, await readFile(file));
    if (table && String(table.schema.fields) !== String(part.schema.fields)) {
      throw new FailedPreconditionError(
        `The parquet files of data source ${location} differ in their columns: ${file} has ${part.schema.fields.join(', ')}`,
      );
    }
    table = table ? table.concat(part) : part;
  }
  return table!;
}

/** The columns of a source, as its first file has them (as pyarrow's dataset discovery does). */
export async function readSourceSchema(location: string): Promise<Schema> {
  const [first] = await parquetFiles(location);
  try {
    return tableFromIPC(readSchema(await readFile(first!)).intoIPCStream()).schema;
  } catch (error) {
    throw new InvalidArgumentError(`${first} is not a readable parquet file: ${(error as Error).message}`);
  }
}

function readParquetFile(file: string, bytes: Uint8Array): Table {
  try {
    return tableFromIPC(readParquet(bytes).intoIPCStream());
  } catch (error) {
    throw new InvalidArgumentError(`${file} is not a readable parquet file: ${(error as Error).message}`);
  }
}
