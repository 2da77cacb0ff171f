/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query as DuckDB queries, with the
 * file store's semantics: columns are raw source names — join keys, features (every source
 * column when none are named), timestamp, created, each once — plus Feast's `__dummy_id` ("")
 * without join keys; bounds are inclusive; "latest" is the greatest (ts, created with nulls
 * lowest, source order) per key, a null key part forming its own group, keys in the order of
 * their first row.
 */
import {
  DUMMY_ENTITY_ID,
  UnavailableError,
  assertPullTimeColumns,
  pullColumns,
  type CallContext,
  type PullRequest,
  type ResultStream,
} from '@larder/core';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openQuery, resultBatches, resultSchema } from './query-stream.ts';
import { s3Failure } from './s3-errors.ts';
import type { SourceFiles } from './source-files.ts';
import { assertNanosecondTimes, describeSource, duckdbColumnTypes, type SourceTable } from './sources.ts';
import { epochNs, ident, str } from './sql.ts';

interface PullPlan {
  readonly table: SourceTable;
  readonly columns: readonly string[];
  readonly select: string;
  readonly where: string;
}

async function planPull(connection: DuckDBConnection, req: PullRequest, sources: SourceFiles): Promise<PullPlan> {
  const table = await describeSource(connection, req.source, sources);
  const columns = pullColumns(req, [...table.columns.keys()], table.location);
  assertPullTimeColumns(req, duckdbColumnTypes(table), table.location);
  await assertNanosecondTimes(
    connection,
    table,
    [
      ['timestamp_field', req.timestampField],
      ['created_timestamp_column', req.createdTimestampColumn],
    ],
    `Data source ${req.source.name}`,
  );
  const dummy = req.joinKeyColumns.length === 0 ? [`${str('')} AS ${ident(DUMMY_ENTITY_ID)}`] : [];
  const select = [...columns.map((c) => ident(c)), ...dummy].join(', ');
  const ts = `epoch_ns(${ident(req.timestampField)})`;
  const bounds = [`${ts} IS NOT NULL`];
  if (req.startDate) bounds.push(`${ts} >= ${epochNs(req.startDate)}`);
  if (req.endDate) bounds.push(`${ts} <= ${epochNs(req.endDate)}`);
  return { table, columns, select, where: bounds.join(' AND ') };
}

async function streamPull(connection: DuckDBConnection, sql: string, ctx: CallContext, check?: RowCheck): Promise<ResultStream> {
  const owned = await openQuery(connection, sql, ctx.signal);
  const schema = resultSchema(owned.result);
  return { schema, batches: resultBatches(owned, schema, ctx.signal, check?.expected, check?.short) };
}

/** The number of rows a result must have, and the error for fewer. */
interface RowCheck {
  readonly expected: number;
  readonly short: (rows: number, expected: number) => Error;
}

/**
 * For a scan of S3 objects: its rows counted first. A scan's stream that fails midway (an
 * endpoint gone during a pull: DuckDB's retries exhausted) ends exactly like a finished one in
 * @duckdb/node-api, which would send a truncated pull as complete; with the count, a short
 * result is UNAVAILABLE instead. The count reads the timestamp column's chunks, not the features.
 */
async function s3RowCheck(connection: DuckDBConnection, plan: PullPlan): Promise<RowCheck | undefined> {
  const { table } = plan;
  if (!table.remote) return undefined;
  let expected: number;
  try {
    const result = await connection.runAndReadAll(`SELECT count(*) FROM ${table.relation} WHERE ${plan.where}`);
    expected = Number(result.getRows()[0]![0]);
  } catch (error) {
    throw s3Failure(error, table.source, table.location) ?? error;
  }
  const short = (rows: number, of: number) =>
    new UnavailableError(
      `Data source ${table.source.name}: reading ${table.location} from S3 stopped after ${rows} of ${of} rows (the endpoint failed midway); try again`,
    );
  return { expected, short };
}

export async function pullAll(
  connection: DuckDBConnection,
  req: PullRequest,
  sources: SourceFiles,
  ctx: CallContext,
): Promise<ResultStream> {
  const plan = await planPull(connection, req, sources);
  const check = await s3RowCheck(connection, plan);
  // DuckDB keeps the files' row order for a plain scan (preserve_insertion_order).
  return streamPull(connection, `SELECT ${plan.select} FROM ${plan.table.relation} WHERE ${plan.where}`, ctx, check);
}

export async function pullLatest(
  connection: DuckDBConnection,
  req: PullRequest,
  sources: SourceFiles,
  ctx: CallContext,
): Promise<ResultStream> {
  const plan = await planPull(connection, req, sources);
  const partition = req.joinKeyColumns.length > 0 ? `PARTITION BY ${req.joinKeyColumns.map(ident).join(', ')} ` : '';
  const order = [
    `epoch_ns(${ident(req.timestampField)}) DESC`,
    ...(req.createdTimestampColumn ? [`epoch_ns(${ident(req.createdTimestampColumn)}) DESC NULLS LAST`] : []),
    `${plan.table.rowOrder()} DESC`,
  ].join(', ');
  // Keys come out in the order of their first row in range, as the file store returns them.
  const ranked = [
    `SELECT ${plan.select},`,
    `row_number() OVER (${partition}ORDER BY ${order}) AS __rank,`,
    `min(${plan.table.rowOrder()}) OVER (${partition}) AS __first`,
    `FROM ${plan.table.relation} WHERE ${plan.where}`,
  ].join(' ');
  const sql = `SELECT * EXCLUDE (__rank, __first) FROM (${ranked}) WHERE __rank = 1 ORDER BY __first`;
  return streamPull(connection, sql, ctx);
}
