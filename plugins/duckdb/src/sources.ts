/**
 * A FileSource as DuckDB sees it: the relation that reads its parquet files, and its columns with
 * their DuckDB types. Files are listed as the file store lists them (one file, or a directory
 * searched recursively in name order), so both stores read the same rows in the same order.
 */
import { open } from 'node:fs/promises';
import { FailedPreconditionError, InvalidArgumentError, type DataSource, type SourceColumnTypes, type TimeColumnRole } from '@larder/core';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import { s3Failure } from './s3-errors.ts';
import type { SourceFiles, SourceLocation } from './source-files.ts';
import { ident, str } from './sql.ts';

/** Columns read_parquet adds for ordering ties the way the file store does: file, then row. */
const FILE_COLUMN = '__larder_file';
const ROW_COLUMN = 'file_row_number';

export interface SourceTable {
  readonly source: DataSource;
  /** The source's path, absolute, or its s3:// URI. */
  readonly location: string;
  readonly files: readonly string[];
  /** True when the files are in S3. */
  readonly remote: boolean;
  /** The source's own columns and their types, in file order. */
  readonly columns: ReadonlyMap<string, DuckDBType>;
  /** A FROM-clause relation over all files, with the extra ordering columns. */
  readonly relation: string;
  /** A BIGINT expression over `relation` (optionally aliased) that orders rows as the file store reads them. */
  rowOrder(alias?: string): string;
}

export async function describeSource(connection: DuckDBConnection, source: DataSource, sources: SourceFiles): Promise<SourceTable> {
  return describeLocation(connection, source, await sources.list(connection, source));
}

export async function describeLocation(connection: DuckDBConnection, source: DataSource, where: SourceLocation): Promise<SourceTable> {
  const { location, files } = where;
  const fileList = `[${files.map(str).join(', ')}]`;
  const relation = `read_parquet(${fileList}, filename = ${str(FILE_COLUMN)}, file_row_number = true)`;
  let names: string[];
  let types: DuckDBType[];
  try {
    const probe = await connection.run(`SELECT * EXCLUDE (${ident(FILE_COLUMN)}, ${ident(ROW_COLUMN)}) FROM ${relation} LIMIT 0`);
    names = probe.columnNames();
    types = probe.columnTypes();
  } catch (error) {
    if (where.remote) {
      const failure = s3Failure(error, source, location);
      if (failure) throw failure;
    }
    const notParquet = where.remote ? undefined : await firstNonParquet(files);
    if (notParquet) throw new InvalidArgumentError(`${notParquet} is not a parquet file`);
    throw new InvalidArgumentError(
      `Data source ${source.name}: ${location} is not readable as parquet: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const columns = new Map(names.map((n, i) => [n, types[i]!] as const));
  // Within one file the row number orders rows; across files, the file's place in the listing.
  const rowOrder = (alias?: string) => {
    const column = (name: string) => (alias ? `${alias}.${ident(name)}` : ident(name));
    return files.length === 1
      ? column(ROW_COLUMN)
      : `((list_position(${fileList}, ${column(FILE_COLUMN)}) :: BIGINT << 40) + ${column(ROW_COLUMN)})`;
  };
  return { source, location, files, remote: where.remote, columns, relation, rowOrder };
}

/** DuckDB types whose values are points in time (what epoch_ns and the point-in-time rule take). */
const TIME_TYPES: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
]);

/** A source's columns as core's time-column checks ask about them (a missing column is left to the column checks). */
export function duckdbColumnTypes(table: SourceTable): SourceColumnTypes {
  return {
    isTime: (column) => {
      const type = table.columns.get(column);
      return type === undefined || TIME_TYPES.has(type.typeId);
    },
    typeName: (column) => String(table.columns.get(column)),
  };
}

/** The instants int64 nanoseconds hold (to the second, inside), which epoch_ns can convert. */
const NS_FIRST = "TIMESTAMPTZ '1677-09-21 00:12:44+00'";
const NS_LAST = "TIMESTAMPTZ '2262-04-11 23:47:16+00'";

/**
 * Refuses a source whose time columns hold a value the queries cannot compare, before any query
 * reads it. The queries compare times as epoch_ns, which fails on a time beyond 2262 (or before
 * 1677), and @duckdb/node-api ends a stream that fails midway exactly like one that is done: a
 * pull would silently return only the rows before the bad one. Parquet statistics usually answer
 * this probe without reading a row. TIMESTAMP_NS columns cannot hold such values.
 */
export async function assertNanosecondTimes(
  connection: DuckDBConnection,
  table: SourceTable,
  columns: ReadonlyArray<readonly [TimeColumnRole, string | null]>,
  what: string,
): Promise<void> {
  for (const [role, column] of columns) {
    const type = column === null ? undefined : table.columns.get(column);
    if (!type || type.typeId === DuckDBTypeId.TIMESTAMP_NS || !TIME_TYPES.has(type.typeId)) continue;
    const c = ident(column!);
    const probe = await connection.run(`SELECT 1 FROM ${table.relation} WHERE ${c} < ${NS_FIRST} OR ${c} > ${NS_LAST} LIMIT 1`);
    if (probe.rowCount > 0) {
      throw new FailedPreconditionError(
        `${what}: the ${role} "${column}" of ${table.location} holds a time outside 1677-09-21 to 2262-04-11, which the duckdb store cannot compare (it compares nanoseconds)`,
      );
    }
  }
}

/** The first file that does not start with parquet's magic bytes, to name it in the error. */
async function firstNonParquet(files: readonly string[]): Promise<string | undefined> {
  for (const file of files) {
    const handle = await open(file, 'r');
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      if (bytesRead < 4 || head.toString('latin1') !== 'PAR1') return file;
    } finally {
      await handle.close();
    }
  }
  return undefined;
}
