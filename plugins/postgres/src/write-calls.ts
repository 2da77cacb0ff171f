/**
 * The writes, into tables: offline_write_batch appends to a view's source table, persist creates
 * a saved dataset's table, write_logged_features appends to a logging table (created on first
 * use). Each runs in one transaction: rows go by binary COPY into a staging table typed from
 * Arrow, then one INSERT … SELECT lets PostgreSQL cast them to the target's column types. A bad
 * column or value fails the statement, the transaction rolls back, and the target is unchanged.
 *
 * Concurrent appends are safe as they are (each INSERT adds its own rows). The writes that first
 * look for a table and then create or replace it (persist, write_logged_features) take a
 * transaction-scoped advisory lock on the table's name, so racing calls (from one larder or from
 * several replicas) run one after the other instead of failing on PostgreSQL's duplicate-table
 * error or dropping each other's table.
 */
import {
  InvalidArgumentError,
  SavedDatasetLocationAlreadyExists,
  type DataSource,
  type LoggedFeaturesRequest,
  type OfflineWriteRequest,
  type PersistRequest,
} from '@larder/core';
import type { RecordBatch, Schema } from 'apache-arrow';
import { encodeCopyBinaryStream } from './copy-binary-encoder.ts';
import { pgTypeForArrow } from './pg-types.ts';
import type { Session } from './session.ts';
import { sourceRelation } from './sources.ts';
import { ident, str } from './sql.ts';

const STAGING = '__larder_staging';
/** The advisory-lock class of larder's table-creating writes (its own key space: "LRDR"). */
const WRITE_LOCK_CLASS = 0x4c524452;

/** Until the transaction ends, no other larder write creates or replaces `table`. */
async function lockTableName(session: Session, table: string, what: string): Promise<void> {
  await session.run('SELECT pg_advisory_xact_lock($1, hashtext($2))', `${what}: waiting for other writers of table ${table}`, [
    WRITE_LOCK_CLASS,
    table,
  ]);
}

/** The table a write goes to: a PostgreSQLSource naming a table (a query cannot be written to). */
function targetTable(source: DataSource, what: string): string {
  const relation = sourceRelation(source);
  if (!relation.isTable) throw new InvalidArgumentError(`${what}: data source ${source.name} is a query; only a table can be written to`);
  return relation.from;
}

function columnDefinitions(schema: Schema, names: readonly string[]): string {
  return schema.fields.map((f, i) => `${ident(names[i]!)} ${pgTypeForArrow(f.type, f.name)}`).join(', ');
}

/** Whether `table` (as written in a source, maybe schema-qualified) exists, on the search path. */
async function tableExists(session: Session, table: string): Promise<boolean> {
  const result = await session.run('SELECT to_regclass($1) IS NOT NULL AS present', `looking up table ${table}`, [table]);
  return result.rows[0]?.present === true;
}

/** Stages `batches` (columns named `names`) and appends them to `table`'s columns of those names. */
async function appendRows(
  session: Session,
  table: string,
  schema: Schema,
  names: readonly string[],
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  what: string,
): Promise<void> {
  const columns = await session.describe(`SELECT * FROM ${table}`, `${what}: table ${table}`);
  const present = new Set(columns.map((c) => c.name));
  const missing = names.filter((n) => !present.has(n));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `${what}: table ${table} has no column ${missing.map((m) => `"${m}"`).join(', ')} (columns: ${[...present].join(', ')})`,
    );
  }
  await session.run(`CREATE TEMP TABLE ${STAGING} (${columnDefinitions(schema, names)}) ON COMMIT DROP`, `${what}: staging the rows`);
  await session.copyIn(`pg_temp.${STAGING}`, encodeCopyBinaryStream(batches), `${what}: copying the rows`);
  const list = names.map(ident).join(', ');
  await session.run(`INSERT INTO ${table} (${list}) SELECT ${list} FROM pg_temp.${STAGING}`, `${what}: appending to table ${table}`);
}

/** offline_write_batch: the rows, named as the view names them, go back to the source's names. */
export async function offlineWriteBatch(session: Session, req: OfflineWriteRequest): Promise<void> {
  const what = `offline_write_batch to feature view ${req.featureView.name}`;
  const source = req.featureView.batchSource;
  if (!source) throw new InvalidArgumentError(`${what}: the view has no batch source`);
  const table = targetTable(source, what);
  // Every column of the view must be written (a missing one would silently become NULL).
  const view = req.featureView;
  const required = [
    ...view.entityColumns.map((c) => c.name),
    source.fieldMapping[source.timestampField] ?? source.timestampField,
    ...view.features.map((f) => f.name),
  ];
  const given = new Set(req.table.schema.fields.map((f) => f.name));
  const missing = [...new Set(required)].filter((n) => !given.has(n));
  if (missing.length > 0)
    throw new InvalidArgumentError(`${what}: the rows have no column ${missing.map((m) => `"${m}"`).join(', ')} of the feature view`);
  const rawOf = new Map(Object.entries(source.fieldMapping).map(([raw, mapped]) => [mapped, raw]));
  const names = req.table.schema.fields.map((f) => rawOf.get(f.name) ?? f.name);
  await session.begin(false);
  await appendRows(session, table, req.table.schema, names, req.table.batches, what);
  await session.commit();
}

/** persist: a new table holding the retrieval's rows (replaced only with allow_overwrite). */
export async function persist(session: Session, req: PersistRequest): Promise<void> {
  const what = `persist to data source ${req.destination.name}`;
  const table = targetTable(req.destination, what);
  await session.begin(false);
  await lockTableName(session, table, what);
  if (await tableExists(session, table)) {
    if (!req.allowOverwrite) throw new SavedDatasetLocationAlreadyExists(table);
    await session.run(`DROP TABLE ${table}`, `${what}: replacing table ${table}`);
  }
  const names = req.result.schema.fields.map((f) => f.name);
  await session.run(`CREATE TABLE ${table} (${columnDefinitions(req.result.schema, names)})`, `${what}: creating table ${table}`);
  await session.copyIn(table, encodeCopyBinaryStream(req.result.batches), `${what}: copying the rows`);
  await session.commit();
}

/**
 * write_logged_features: Feast has no PostgreSQL logging destination, so larder reads a custom
 * destination whose config names the table (`table_name`); the table is created from the logged
 * schema on first use and appended to afterwards.
 */
export async function writeLoggedFeatures(session: Session, req: LoggedFeaturesRequest): Promise<void> {
  const service = req.featureService;
  const what = `write_logged_features for feature service ${service.name}`;
  const tableName = service.loggingConfig?.customConfig?.table_name;
  if (!tableName) {
    const kind = service.loggingConfig?.destinationKind ?? 'nothing';
    throw new InvalidArgumentError(
      `${what}: the postgres offline store logs to a custom destination with a "table_name" in its config; this service logs to ${kind}`,
    );
  }
  const names = req.table.schema.fields.map((f) => f.name);
  await session.begin(false);
  await lockTableName(session, ident(tableName), what);
  if (!(await tableExists(session, ident(tableName)))) {
    await session.run(
      `CREATE TABLE ${ident(tableName)} (${columnDefinitions(req.table.schema, names)})`,
      `${what}: creating table ${str(tableName)}`,
    );
  }
  await appendRows(session, ident(tableName), req.table.schema, names, req.table.batches, what);
  await session.commit();
}
