/**
 * The writes, inside Trino: offline_write_batch appends to a view's source table, persist creates
 * a saved dataset's table, write_logged_features appends to a logging table (created on first
 * use). Rows reach Trino in batched INSERT statements (insert-statements.ts: a batch of rows as
 * one JSON literal that Trino unnests and casts), each as large as Trino accepts; every column and
 * value is checked first (write-columns.ts), so a bad write is refused before anything is written.
 *
 * Trino's hive connector has no transaction across statements: each INSERT commits alone. So a
 * write that needs more than one statement goes first into a staging table beside the target
 * (same catalog and schema, named `<table>__larder_staging_<random>`), then into the target with
 * one `INSERT … SELECT`, and the staging table is dropped: the target gets all rows or none. A
 * persist builds its table under a temporary name and renames it into place.
 */
import { randomBytes } from 'node:crypto';
import {
  type CallContext,
  DataSourceNotFoundException,
  type DataSource,
  InvalidArgumentError,
  LarderError,
  type LoggedFeaturesRequest,
  type OfflineWriteRequest,
  type PersistRequest,
  type ResultStream,
  SavedDatasetLocationAlreadyExists,
} from '@larder/core';
import { type RecordBatch, type Schema, Table } from 'apache-arrow';
import type { TrinoClient } from './client.ts';
import { insertStatements, MAX_STATEMENT_CHARS } from './insert-statements.ts';
import { isTableName, sourceRelation } from './sources.ts';
import { catalogOf, siblingTable } from './table-names.ts';
import { parseTrinoType, quoteIdentifier, storableTimestamp, stringLiteral, trinoTypeForArrow } from './trino-types.ts';
import { checkValues, planColumns, type TableColumn } from './write-columns.ts';

/** The SQL of a retrieval this store produced, when it can be re-run inside Trino (persist's `CREATE TABLE … AS`). */
export type RetrievalSqlOf = (result: ResultStream) => string | undefined;

/** Runs `sql` to its end (an INSERT's or DDL's result is one row, or none). */
async function run(client: TrinoClient, sql: string, what: string, signal: AbortSignal, table?: string): Promise<void> {
  const statement = await client.start(sql, what, signal, table);
  for await (const _ of statement.pages());
}

/** The table's columns, or DataSourceNotFoundException(table) when it does not exist. */
async function tableColumns(client: TrinoClient, table: string, what: string, signal: AbortSignal): Promise<TableColumn[]> {
  const columns = await client.columnsOf(`SELECT * FROM ${table} LIMIT 0`, `${what}: table ${table}`, signal, table);
  return columns.map((c) => ({ name: c.name, type: c.type }));
}

async function tableExists(client: TrinoClient, table: string, what: string, signal: AbortSignal): Promise<boolean> {
  try {
    await tableColumns(client, table, what, signal);
    return true;
  } catch (error) {
    if (error instanceof DataSourceNotFoundException) return false;
    throw error;
  }
}

/** The connector of the catalog `table` resolves in (`hive`, `iceberg`, `memory`, …): it decides the DDL types. */
async function connectorOf(client: TrinoClient, table: string, what: string, signal: AbortSignal): Promise<string> {
  const catalog = catalogOf(table, client.connection.catalog);
  const statement = await client.start(
    `SELECT connector_name FROM system.metadata.catalogs WHERE catalog_name = ${stringLiteral(catalog)}`,
    `${what}: looking up catalog ${catalog}`,
    signal,
  );
  let connector: string | undefined;
  for await (const page of statement.pages()) connector ??= page[0]?.[0] as string | undefined;
  if (!connector) throw new InvalidArgumentError(`${what}: Trino has no catalog ${JSON.stringify(catalog)} for table ${table}`);
  return connector;
}

/** `CREATE TABLE table (…)` with columns typed for `schema`'s Arrow types in the table's catalog. */
async function createTableFor(client: TrinoClient, table: string, schema: Schema, what: string, signal: AbortSignal, ifNotExists = false) {
  const connector = await connectorOf(client, table, what, signal);
  const columns = schema.fields.map((f) => `${quoteIdentifier(f.name)} ${trinoTypeForArrow(f.type, f.name, connector)}`);
  await run(
    client,
    `CREATE TABLE ${ifNotExists ? 'IF NOT EXISTS ' : ''}${table} (${columns.join(', ')})`,
    `${what}: creating table ${table}`,
    signal,
  );
}

function temporaryName(table: string, purpose: 'staging' | 'persist'): string {
  return siblingTable(table, `__larder_${purpose}_${randomBytes(6).toString('hex')}`);
}

/**
 * Appends `table` (its columns named `names` in the target) to `target`: checks columns and values,
 * then one INSERT, or a staging table and one INSERT … SELECT when the rows need several.
 */
async function appendRows(client: TrinoClient, target: string, table: Table, names: readonly string[], what: string, ctx: CallContext) {
  const signal = ctx.signal;
  const plans = planColumns(table.schema, names, await tableColumns(client, target, what, signal), what, target);
  checkValues(table, plans, what, target);
  if (table.numRows === 0) return;
  const staging = temporaryName(target, 'staging');
  // Sized for the longer name, so the same rows fit whether they go to the target or to staging.
  const room = MAX_STATEMENT_CHARS - Math.max(0, staging.length - target.length);
  const direct = insertStatements(target, plans, table, room);
  if (direct.length === 1) {
    await run(client, direct[0]!, `${what}: appending ${table.numRows} rows to table ${target}`, signal, target);
    return;
  }
  const list = plans.map((p) => quoteIdentifier(p.name)).join(', ');
  await run(
    client,
    `CREATE TABLE ${staging} AS SELECT ${list} FROM ${target} WITH NO DATA`,
    `${what}: creating staging table ${staging} (a write of more than one statement is staged beside its table so it lands whole; this needs CREATE TABLE in the table's schema)`,
    signal,
  );
  try {
    const statements = insertStatements(staging, plans, table, MAX_STATEMENT_CHARS);
    for (const [k, sql] of statements.entries()) {
      await run(client, sql, `${what}: staging rows (statement ${k + 1} of ${statements.length})`, signal);
    }
    await run(
      client,
      `INSERT INTO ${target} (${list}) SELECT ${list} FROM ${staging}`,
      `${what}: appending to table ${target}`,
      signal,
      target,
    );
  } finally {
    await dropQuietly(client, staging, ctx);
  }
}

/** Drops a temporary table, also after a failure or an abort (so with a signal of its own). */
async function dropQuietly(client: TrinoClient, table: string, ctx: CallContext): Promise<void> {
  try {
    await run(client, `DROP TABLE IF EXISTS ${table}`, `dropping temporary table ${table}`, AbortSignal.timeout(60_000));
  } catch (error) {
    ctx.logger.warn({ err: error, table }, 'could not drop a temporary table of a write; drop it by hand');
  }
}

/** The table of a TrinoSource a write goes to; a query source is refused. */
function targetTable(source: DataSource, what: string): string {
  const relation = sourceRelation(source);
  if (!relation.table) {
    throw new InvalidArgumentError(`${what}: data source ${source.name} is a query; only a TrinoSource with a table can be written to`);
  }
  return relation.table;
}

/**
 * offline_write_batch: the rows, named as the view names them (field_mapping applied by the
 * client), go back to the source's column names and are appended to its table. Every column of
 * the view must be given (a missing one would silently become NULL), and every column given must
 * be in the table.
 */
export async function offlineWriteBatch(client: TrinoClient, req: OfflineWriteRequest, ctx: CallContext): Promise<void> {
  const view = req.featureView;
  const what = `offline_write_batch to feature view ${view.name}`;
  const source = view.batchSource;
  if (!source) throw new InvalidArgumentError(`${what}: the view has no batch source`);
  const table = targetTable(source, what);
  const required = [
    ...view.entityColumns.map((c) => c.name),
    source.fieldMapping[source.timestampField] ?? source.timestampField,
    ...view.features.map((f) => f.name),
  ];
  const given = new Set(req.table.schema.fields.map((f) => f.name));
  const missing = [...new Set(required)].filter((n) => !given.has(n));
  if (missing.length > 0) {
    throw new InvalidArgumentError(`${what}: the rows have no column ${missing.map((m) => `"${m}"`).join(', ')} of the feature view`);
  }
  const rawOf = new Map(Object.entries(source.fieldMapping).map(([raw, mapped]) => [mapped, raw]));
  const names = req.table.schema.fields.map((f) => rawOf.get(f.name) ?? f.name);
  await appendRows(client, table, req.table, names, what, ctx);
}

/**
 * write_logged_features: Feast's Trino store has no logging destination, so larder reads a custom
 * destination whose config names the table (`table_name`, maybe qualified); the table is created
 * from the logged schema on first use and appended to afterwards.
 */
export async function writeLoggedFeatures(client: TrinoClient, req: LoggedFeaturesRequest, ctx: CallContext): Promise<void> {
  const service = req.featureService;
  const what = `write_logged_features for feature service ${service.name}`;
  const table = service.loggingConfig?.customConfig?.table_name?.trim();
  if (!table) {
    const kind = service.loggingConfig?.destinationKind ?? 'nothing';
    throw new InvalidArgumentError(
      `${what}: the trino offline store logs to a custom destination with a "table_name" in its config; this service logs to ${kind}`,
    );
  }
  if (!isTableName(table)) {
    throw new InvalidArgumentError(
      `${what}: its table_name ${JSON.stringify(table)} is not a table name (table, schema.table or catalog.schema.table)`,
    );
  }
  if (!(await tableExists(client, table, what, ctx.signal))) {
    // IF NOT EXISTS: two replicas logging their first rows at once both succeed.
    await createTableFor(client, table, req.table.schema, what, ctx.signal, true);
  }
  await appendRows(
    client,
    table,
    req.table,
    req.table.schema.fields.map((f) => f.name),
    what,
    ctx,
  );
}

/** Rows of a persist that goes through larder are written in groups of about this many. */
const PERSIST_GROUP_ROWS = 50_000;

/**
 * persist: a new table holding the retrieval's rows. With the retrieval's SQL (`sqlOf`), the table
 * is `CREATE TABLE … AS <retrieval>` and no row leaves Trino; otherwise it is created from the
 * result's Arrow schema and the rows are inserted. Either way it is built under a temporary name
 * and renamed into place, so a failed persist leaves no half-written dataset; an existing table is
 * SavedDatasetLocationAlreadyExists unless allow_overwrite, which drops it just before the rename
 * (Trino's hive connector cannot replace a table in one statement).
 */
export async function persist(client: TrinoClient, req: PersistRequest, ctx: CallContext, sqlOf?: RetrievalSqlOf): Promise<void> {
  const what = `persist to data source ${req.destination.name}`;
  const table = targetTable(req.destination, what);
  const signal = ctx.signal;
  const existed = await tableExists(client, table, what, signal);
  if (existed && !req.allowOverwrite) throw new SavedDatasetLocationAlreadyExists(table);
  const building = temporaryName(table, 'persist');
  let renamed = false;
  try {
    const sql = sqlOf?.(req.result);
    if (sql !== undefined) {
      const select = await storableSelect(client, sql, building, what, signal);
      await run(client, `CREATE TABLE ${building} AS\n${select}`, `${what}: creating table ${table}`, signal);
    } else {
      await createTableFor(client, building, req.result.schema, what, signal);
      const names = req.result.schema.fields.map((f) => f.name);
      for await (const group of groupsOf(req.result.batches, PERSIST_GROUP_ROWS)) {
        await appendRowsDirect(client, building, new Table(group), names, what, signal);
      }
    }
    // IF EXISTS: a concurrent persist with allow_overwrite may have dropped it first.
    if (existed) await run(client, `DROP TABLE IF EXISTS ${table}`, `${what}: replacing table ${table}`, signal, table);
    try {
      await run(client, `ALTER TABLE ${building} RENAME TO ${table}`, `${what}: naming table ${table}`, signal);
    } catch (error) {
      if (error instanceof LarderError && error.message.includes('TABLE_ALREADY_EXISTS')) {
        throw new SavedDatasetLocationAlreadyExists(table); // another persist got there first
      }
      throw error;
    }
    renamed = true;
  } finally {
    if (!renamed) await dropQuietly(client, building, ctx);
  }
}

/**
 * The retrieval's SQL as the destination's catalog can store it: unchanged, or (hive, iceberg,
 * delta) with its timestamp columns cast to the types the connector keeps (hive has no zoned
 * timestamps and one precision). The columns are read with `LIMIT 0`, which plans the query but
 * reads no row.
 */
async function storableSelect(client: TrinoClient, sql: string, table: string, what: string, signal: AbortSignal): Promise<string> {
  const connector = await connectorOf(client, table, what, signal);
  const columns = await client.columnsOf(`SELECT * FROM (\n${sql}\n) LIMIT 0`, `${what}: the retrieval's columns`, signal);
  let changed = false;
  const list = columns.map((c) => {
    const name = quoteIdentifier(c.name);
    const cast = storableTimestamp(parseTrinoType(c.type), connector);
    if (!cast) return name;
    changed = true;
    return `CAST(${cast.dropZone ? `${name} AT TIME ZONE 'UTC'` : name} AS ${cast.type}) AS ${name}`;
  });
  return changed ? `SELECT ${list.join(', ')} FROM (\n${sql}\n)` : sql;
}

/** Appends to a table of larder's own making (persist's, not yet visible): no staging needed. */
async function appendRowsDirect(
  client: TrinoClient,
  target: string,
  table: Table,
  names: readonly string[],
  what: string,
  signal: AbortSignal,
) {
  const plans = planColumns(table.schema, names, await tableColumns(client, target, what, signal), what, target);
  checkValues(table, plans, what, target);
  const statements = insertStatements(target, plans, table);
  for (const [k, sql] of statements.entries()) {
    await run(client, sql, `${what}: writing rows (statement ${k + 1} of ${statements.length})`, signal);
  }
}

/** Record batches gathered into groups of at least `rows` rows (the last may be smaller). */
async function* groupsOf(batches: AsyncIterable<RecordBatch>, rows: number): AsyncGenerator<RecordBatch[]> {
  let group: RecordBatch[] = [];
  let count = 0;
  for await (const batch of batches) {
    group.push(batch);
    count += batch.numRows;
    if (count >= rows) {
      yield group;
      group = [];
      count = 0;
    }
  }
  if (group.length > 0) yield group;
}
