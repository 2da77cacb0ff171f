/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query in PostgreSQL, with the
 * semantics of larder's other stores: columns are raw source names — join keys, features (every
 * source column when none are named), timestamp, created, each once — plus Feast's `__dummy_id`
 * ("") without join keys; both bounds inclusive; rows with a null timestamp never returned;
 * "latest" is the greatest (timestamp, created with nulls lowest, physical row order for tables)
 * per key.
 */
import { DUMMY_ENTITY_ID, assertPullTimeColumns, pullColumns, type PullRequest, type ResultStream } from '@larder/core';
import { schemaForColumns } from './copy-binary-decoder.ts';
import type { Session } from './session.ts';
import { describeSource, pgColumnTypes, type SourceTable } from './sources.ts';
import { ident, str, timestamptz } from './sql.ts';

interface PullPlan {
  readonly table: SourceTable;
  readonly select: string;
  readonly where: string;
}

async function planPull(session: Session, req: PullRequest): Promise<PullPlan> {
  const table = await describeSource(session, req.source);
  const columns = pullColumns(req, [...table.columns.keys()], table.label);
  assertPullTimeColumns(req, pgColumnTypes(table), table.label);
  const dummy = req.joinKeyColumns.length === 0 ? [`${str('')}::text AS ${ident(DUMMY_ENTITY_ID)}`] : [];
  const select = [...columns.map((c) => `s.${ident(c)}`), ...dummy].join(', ');
  const ts = `s.${ident(req.timestampField)}`;
  const bounds = [`${ts} IS NOT NULL`];
  if (req.startDate) bounds.push(`${ts} >= ${timestamptz(req.startDate)}`);
  if (req.endDate) bounds.push(`${ts} <= ${timestamptz(req.endDate)}`);
  return { table, select, where: bounds.join(' AND ') };
}

async function streamPull(session: Session, sql: string, what: string): Promise<ResultStream> {
  const columns = await session.describe(sql, what);
  return { schema: schemaForColumns(columns), batches: session.stream(sql, columns, what) };
}

export async function pullAll(session: Session, req: PullRequest): Promise<ResultStream> {
  await session.begin(true);
  const plan = await planPull(session, req);
  const sql = `SELECT ${plan.select} FROM ${plan.table.from} AS s WHERE ${plan.where}`;
  return streamPull(session, sql, `pull_all_from_table_or_query on data source ${req.source.name}`);
}

export async function pullLatest(session: Session, req: PullRequest): Promise<ResultStream> {
  await session.begin(true);
  const plan = await planPull(session, req);
  const keys = req.joinKeyColumns.map((k) => `s.${ident(k)}`);
  const order = [
    ...keys,
    `s.${ident(req.timestampField)} DESC`,
    ...(req.createdTimestampColumn ? [`s.${ident(req.createdTimestampColumn)} DESC NULLS LAST`] : []),
    ...(plan.table.isTable ? ['s.ctid DESC'] : []),
  ];
  // DISTINCT ON treats nulls as equal, so a null key part forms its own group, as in the file store.
  const distinct = keys.length > 0 ? `DISTINCT ON (${keys.join(', ')}) ` : '';
  const limit = keys.length > 0 ? '' : ' LIMIT 1';
  const sql = `SELECT ${distinct}${plan.select} FROM ${plan.table.from} AS s WHERE ${plan.where} ORDER BY ${order.join(', ')}${limit}`;
  return streamPull(session, sql, `pull_latest_from_table_or_query on data source ${req.source.name}`);
}
