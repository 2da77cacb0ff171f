/**
 * The uploaded entity table → a relation Trino can join, without a row-by-row INSERT:
 *
 * - **staged** (`entity_staging` configured): the rows are written as one parquet file in a
 *   directory of their own under the staging location, and an external table of the staging
 *   catalog (Hive connector) is created over that directory: one file write and one DDL statement,
 *   whatever the number of rows.
 * - **inline** (no staging, a small table): the rows are a `VALUES` relation inside the query
 *   itself; nothing is created.
 * - **values** (no staging, a larger table): Feast's route, bounded: a table in the configured
 *   catalog's `dataset` schema, filled by INSERT … VALUES statements of at most
 *   MAX_STATEMENT_CHARS characters each (Trino refuses statements over `query.max-length`).
 *
 * Whatever the route, what is stored is the row's position (`__row`) and each entity column whose
 * type Trino can hold, under positional names (`c0`, `c1`, …: a Hive table lowercases names).
 * Timestamps are stored as integers in their own unit and dates as days, and turned into Trino
 * timestamps in SQL (`relation`), so no reader's or session's time zone can shift them. The
 * relation gives `__row`, `__ts` (the event timestamp as a naive UTC timestamp) and every stored
 * column under its own name and type.
 *
 * `drop()` removes the table and the file; the caller runs it on every path (success, error,
 * client gone). It never takes the call's signal: an aborted call still cleans up.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError } from '@larder/core';
import {
  type DataType,
  DateUnit,
  Field,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeUnit,
  Type,
  type Vector,
  makeData,
  tableToIPC,
  type Data,
  type Timestamp,
} from 'apache-arrow';
import type { TrinoClient } from './client.ts';
import type { EntityStaging } from './config.ts';
import { parquetWasm } from './parquet-wasm.ts';
import { ident, str } from './sql-text.ts';

/** Trino's default `query.max-length` is 1,000,000 characters; each INSERT stays well below it. */
export const MAX_STATEMENT_CHARS = 900_000;
/** A VALUES relation up to this size goes inside the query itself (no table to create or drop). */
export const MAX_INLINE_CHARS = 256 * 1024;

/** How a kind of Arrow column is stored in Trino and read back. */
interface ColumnCodec {
  /** The Trino type of the stored column. */
  readonly storage: string;
  /** The Trino type of the value read back (`decode`). */
  readonly type: string;
  /** The value in its own Trino type, from the stored column `ref`. */
  decode(ref: string): string;
  /** The value as a naive UTC timestamp, for the event timestamp column; absent for non-times. */
  asUtc?(ref: string): string;
  /** The stored column's Arrow type and data, for the parquet file. */
  readonly storedType: DataType;
  stored(data: Data): Data;
  /** The SQL literal of row `i` of `data` (not null). */
  literal(data: Data, i: number, vector: Vector): string;
}

/** One entity column as stored: its name in the entity table and its codec. */
export interface StoredColumn {
  readonly name: string;
  /** Its place among the entity table's fields. */
  readonly index: number;
  /** Its positional name in the stored table. */
  readonly column: string;
  readonly codec: ColumnCodec;
}

/** Which route the rows took (see the module comment). */
export type UploadRoute = 'staged' | 'inline' | 'values';

export interface StagedEntities {
  readonly route: UploadRoute;
  /** SQL for a FROM clause: `__row`, `__ts` and the stored entity columns under their own names. */
  readonly relation: string;
  /** The entity columns it holds, in the entity table's order. */
  readonly columns: readonly StoredColumn[];
  /** Entity columns whose type Trino cannot hold (not stored; a join may not use them). */
  readonly unstored: readonly string[];
  /** The table created, `catalog.schema.table` (none for inline). */
  readonly table?: string;
  /** Drops the table and removes the staged file; idempotent, never throws. */
  drop(): Promise<void>;
}

/** Where the values route creates its table: Feast's `catalog`.`dataset`, with its connector's WITH clause. */
export interface ValuesTarget {
  readonly catalog: string;
  readonly schema: string;
  /** `WITH (format = 'PARQUET')` for Hive and Iceberg catalogs (Feast's connector.file_format), else empty. */
  readonly withClause: string;
}

export interface UploadOptions {
  readonly staging: EntityStaging | null;
  readonly values: ValuesTarget;
  /** Force a route (tests and the bench compare them); default: staged when configured, else by size. */
  readonly route?: UploadRoute;
}

const FACTOR_TO_NANOS: Record<TimeUnit, string> = {
  [TimeUnit.SECOND]: '1000000000',
  [TimeUnit.MILLISECOND]: '1000000',
  [TimeUnit.MICROSECOND]: '1000',
  [TimeUnit.NANOSECOND]: '1',
};
const PRECISION: Record<TimeUnit, number> = {
  [TimeUnit.SECOND]: 0,
  [TimeUnit.MILLISECOND]: 3,
  [TimeUnit.MICROSECOND]: 6,
  [TimeUnit.NANOSECOND]: 9,
};

/** The same values under another (same-width) type, validity kept: an int64 view of timestamps, an int32 one of dates. */
function reinterpret(data: Data, type: DataType): Data {
  let nullBitmap: Uint8Array | undefined;
  if (data.nullCount > 0) {
    nullBitmap = new Uint8Array((data.length + 7) >> 3);
    for (let i = 0; i < data.length; i++) if (data.getValid(i)) nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: type as Int64, length: data.length, nullCount: data.nullCount, nullBitmap, data: data.values as BigInt64Array });
}

function timestampCodec(type: Timestamp): ColumnCodec {
  const p = PRECISION[type.unit];
  const instant = (ref: string) =>
    type.unit === TimeUnit.NANOSECOND
      ? `from_unixtime_nanos(${ref})`
      : `from_unixtime_nanos(CAST(${ref} AS decimal(38,0)) * ${FACTOR_TO_NANOS[type.unit]})`;
  const naive = (ref: string) => `CAST(${instant(ref)} AS timestamp(${p}))`;
  return {
    storage: 'bigint',
    type: type.timezone ? `timestamp(${p}) with time zone` : `timestamp(${p})`,
    decode: (ref) =>
      type.timezone ? `CAST(at_timezone(${instant(ref)}, ${str(type.timezone)}) AS timestamp(${p}) with time zone)` : naive(ref),
    asUtc: naive,
    storedType: new Int64(),
    stored: (data) => reinterpret(data, new Int64()),
    literal: (data, i) => String(data.values[i]),
  };
}

const plain = (type: DataType, storage: string, literal: ColumnCodec['literal']): ColumnCodec => ({
  storage,
  type: storage,
  decode: (ref) => ref,
  storedType: type,
  stored: (data) => data,
  literal,
});

function doubleLiteral(value: number): string {
  if (Number.isNaN(value)) return 'nan()';
  if (!Number.isFinite(value)) return value > 0 ? 'infinity()' : '-infinity()';
  const text = String(value);
  // A literal without an exponent is a DECIMAL in Trino; with one, a DOUBLE.
  return /e/i.test(text) ? text : `${text}E0`;
}

/** The codec of an Arrow type, or null when Trino cannot hold it (unsigned 64-bit, lists, structs, …). */
export function codecFor(type: DataType): ColumnCodec | null {
  const integer = (data: Data, i: number) => String(data.values[i]);
  switch (type.typeId) {
    case Type.Int: {
      const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
      if (!isSigned) return null;
      return plain(type, { 8: 'tinyint', 16: 'smallint', 32: 'integer', 64: 'bigint' }[bitWidth]!, integer);
    }
    case Type.Float: {
      const precision = (type as unknown as { precision: number }).precision;
      if (precision === 1) return plain(type, 'real', (data, i) => `REAL ${str(String(data.values[i]))}`);
      if (precision === 2) return plain(type, 'double', (data, i) => doubleLiteral(data.values[i] as number));
      return null;
    }
    case Type.Bool:
      return plain(type, 'boolean', (_d, i, vector) => (vector.get(i) ? 'TRUE' : 'FALSE'));
    case Type.Utf8:
    case Type.LargeUtf8:
      return plain(type, 'varchar', (_d, i, vector) => str(vector.get(i) as string));
    case Type.Binary:
    case Type.LargeBinary:
      return plain(type, 'varbinary', (_d, i, vector) => `X'${Buffer.from(vector.get(i) as Uint8Array).toString('hex')}'`);
    case Type.Timestamp:
      return timestampCodec(type as Timestamp);
    case Type.Date:
      if ((type as unknown as { unit: DateUnit }).unit !== DateUnit.DAY) return null;
      return {
        storage: 'integer',
        type: 'date',
        decode: (ref) => `date_add('day', ${ref}, DATE '1970-01-01')`,
        asUtc: (ref) => `CAST(date_add('day', ${ref}, DATE '1970-01-01') AS timestamp(3))`,
        storedType: new Int32(),
        stored: (data) => reinterpret(data, new Int32()),
        literal: integer,
      };
    default:
      return null;
  }
}

/** The Trino type each entity column will have once stored (columns Trino cannot hold are absent). */
export function storedTypes(schema: Schema): Map<string, string> {
  const types = new Map<string, string>();
  for (const field of schema.fields) {
    const codec = codecFor(field.type);
    if (codec) types.set(field.name, codec.type);
  }
  return types;
}

/** The stored columns of `entities` (every column Trino can hold), refusing an unholdable join key or timestamp. */
function storedColumns(
  entities: Table,
  timestampColumn: string,
  keyNames: readonly string[],
): { columns: StoredColumn[]; unstored: string[] } {
  const columns: StoredColumn[] = [];
  const unstored: string[] = [];
  entities.schema.fields.forEach((field, index) => {
    const codec = codecFor(field.type);
    if (codec) columns.push({ name: field.name, index, column: `c${columns.length}`, codec });
    else if (field.name === timestampColumn || keyNames.includes(field.name)) {
      throw new InvalidArgumentError(
        `Entity column "${field.name}" has type ${String(field.type)}, which the trino offline store cannot send to Trino as a ${field.name === timestampColumn ? 'timestamp' : 'join key'}; cast it (to an integer, string, timestamp or date) before sending`,
      );
    } else unstored.push(field.name);
  });
  return { columns, unstored };
}

/** The relation over a stored table (or VALUES) `from`, which names it `t`: `__row`, `__ts`, the columns by name. */
function decodedRelation(from: string, columns: readonly StoredColumn[], timestampColumn: string, cast: boolean): string {
  const ref = (c: StoredColumn) => (cast ? `CAST(t.${c.column} AS ${c.codec.storage})` : `t.${c.column}`);
  const ts = columns.find((c) => c.name === timestampColumn)!;
  const select = [
    `${cast ? 'CAST(t.__row AS bigint)' : 't.__row'} AS __row`,
    `${ts.codec.asUtc!(ref(ts))} AS __ts`,
    ...columns.map((c) => `${c.codec.decode(ref(c))} AS ${ident(c.name)}`),
  ];
  return `(SELECT ${select.join(', ')} FROM ${from})`;
}

/** Row literals `(__row, c0, c1, …)`, each batch of them at most `maxChars` long. */
function* valueRows(entities: Table, columns: readonly StoredColumn[], maxChars: number): Generator<string[]> {
  let rows: string[] = [];
  let chars = 0;
  let offset = 0;
  for (const batch of entities.batches) {
    const datas = columns.map((c) => batch.getChildAt(c.index)!.data[0]!);
    const vectors = columns.map((c) => batch.getChildAt(c.index)!);
    for (let i = 0; i < batch.numRows; i++) {
      const values = columns.map((c, k) => (datas[k]!.getValid(i) ? c.codec.literal(datas[k]!, i, vectors[k]!) : 'NULL'));
      const row = `(${offset + i}, ${values.join(', ')})`;
      if (rows.length > 0 && chars + row.length + 2 > maxChars) {
        yield rows;
        rows = [];
        chars = 0;
      }
      rows.push(row);
      chars += row.length + 2;
    }
    offset += batch.numRows;
  }
  if (rows.length > 0) yield rows;
}

/** Runs a statement to its end (DDL, INSERT), failing with Trino's error. */
export async function runStatement(client: TrinoClient, sql: string, what: string, signal?: AbortSignal): Promise<void> {
  const statement = await client.start(sql, what, signal);
  for await (const _ of statement.pages());
}

/** A fresh table name: lowercase, as a Hive metastore keeps it. */
function tableName(): string {
  return `larder_entities_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Puts `entities` where Trino can join them (see the module comment). `keyNames` are the join
 * keys the views need: they, and the timestamp column, must be storable. On failure, whatever was
 * created is dropped before the error is thrown.
 */
export async function uploadEntities(
  client: TrinoClient,
  entities: Table,
  timestampColumn: string,
  keyNames: readonly string[],
  options: UploadOptions,
  signal?: AbortSignal,
): Promise<StagedEntities> {
  const { columns, unstored } = storedColumns(entities, timestampColumn, keyNames);
  const route = options.route ?? (options.staging ? 'staged' : null);
  if (route === 'staged') {
    if (!options.staging) throw new Error('the staged route needs offline_store.entity_staging');
    return stageParquet(client, entities, columns, unstored, timestampColumn, options.staging, signal);
  }
  const batches = valueRows(entities, columns, route === 'inline' ? Number.POSITIVE_INFINITY : MAX_STATEMENT_CHARS);
  const first = batches.next();
  const firstRows = first.done ? [] : first.value;
  const inline = route === 'inline' || (route === null && firstRows.join(', ').length <= MAX_INLINE_CHARS && batches.next().done);
  if (inline) {
    // One row at least: VALUES cannot be empty, and a row with a null position never matches.
    const rows = firstRows.length > 0 ? firstRows : [`(NULL, ${columns.map(() => 'NULL').join(', ')})`];
    const names = ['__row', ...columns.map((c) => c.column)].join(', ');
    const from = `(VALUES ${rows.join(', ')}) AS t(${names})`;
    const relation = decodedRelation(from, columns, timestampColumn, true);
    const where = firstRows.length > 0 ? relation : `(SELECT * FROM ${relation} AS z WHERE z.__row IS NOT NULL)`;
    return { route: 'inline', relation: where, columns, unstored, drop: async () => {} };
  }
  return insertValues(client, entities, columns, unstored, timestampColumn, options.values, signal);
}

/** A drop that runs once, whatever calls it, and reports nothing (a cleanup failure must not hide the call's answer). */
function once(drop: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= drop().catch(() => undefined));
}

async function stageParquet(
  client: TrinoClient,
  entities: Table,
  columns: readonly StoredColumn[],
  unstored: readonly string[],
  timestampColumn: string,
  staging: EntityStaging,
  signal?: AbortSignal,
): Promise<StagedEntities> {
  const name = tableName();
  const table = `${ident(staging.catalog)}.${ident(staging.schema)}.${ident(name)}`;
  const dir = path.join(staging.dir, name);
  const drop = once(async () => {
    try {
      await runStatement(client, `DROP TABLE IF EXISTS ${table}`, `dropping the staged entity table ${table}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'part-0.parquet'), await parquetBytes(entities, columns));
    signal?.throwIfAborted();
    const definitions = ['__row bigint', ...columns.map((c) => `${c.column} ${c.codec.storage}`)];
    await runStatement(
      client,
      `CREATE TABLE ${table} (${definitions.join(', ')}) WITH (external_location = ${str(`${staging.trinoLocation}/${name}`)}, format = 'PARQUET')`,
      `staging the entity dataframe as ${table}`,
      signal,
    );
  } catch (error) {
    await drop();
    throw error;
  }
  return { route: 'staged', relation: decodedRelation(`${table} AS t`, columns, timestampColumn, false), columns, unstored, table, drop };
}

/** The stored columns of `entities` as one parquet file (parquet-wasm writes whole tables). */
async function parquetBytes(entities: Table, columns: readonly StoredColumn[]): Promise<Uint8Array> {
  const { Compression, Table: WasmTable, WriterPropertiesBuilder, writeParquet } = await parquetWasm();
  const fields = [new Field('__row', new Int64(), false), ...columns.map((c) => new Field(c.column, c.codec.storedType, true))];
  const schema = new Schema(fields);
  let offset = 0;
  const batches = entities.batches.map((batch) => {
    const rows = new BigInt64Array(batch.numRows);
    for (let i = 0; i < rows.length; i++) rows[i] = BigInt(offset + i);
    offset += batch.numRows;
    const children = [
      makeData({ type: new Int64(), length: rows.length, data: rows }),
      ...columns.map((c) => c.codec.stored(batch.getChildAt(c.index)!.data[0]!)),
    ];
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  const table = batches.length > 0 ? new Table(schema, batches) : new Table(schema);
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  return writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties);
}

async function insertValues(
  client: TrinoClient,
  entities: Table,
  columns: readonly StoredColumn[],
  unstored: readonly string[],
  timestampColumn: string,
  target: ValuesTarget,
  signal?: AbortSignal,
): Promise<StagedEntities> {
  const table = `${ident(target.catalog)}.${ident(target.schema)}.${ident(tableName())}`;
  const drop = once(() => runStatement(client, `DROP TABLE IF EXISTS ${table}`, `dropping the entity table ${table}`));
  try {
    const definitions = ['__row bigint', ...columns.map((c) => `${c.column} ${c.codec.storage}`)];
    await runStatement(
      client,
      `CREATE TABLE ${table} (${definitions.join(', ')})${target.withClause ? ` ${target.withClause}` : ''}`,
      `creating the entity table ${table}`,
      signal,
    );
    const names = ['__row', ...columns.map((c) => c.column)].join(', ');
    for (const rows of valueRows(entities, columns, MAX_STATEMENT_CHARS)) {
      await runStatement(
        client,
        `INSERT INTO ${table} (${names}) VALUES ${rows.join(', ')}`,
        `inserting entity rows into ${table}`,
        signal,
      );
    }
  } catch (error) {
    await drop();
    throw error;
  }
  return { route: 'values', relation: decodedRelation(`${table} AS t`, columns, timestampColumn, false), columns, unstored, table, drop };
}
