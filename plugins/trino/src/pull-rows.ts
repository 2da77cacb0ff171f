/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query inside Trino, each one query
 * whose rows stream back as Arrow (arrow-results.ts). The semantics are those of larder's other
 * stores (plugins/postgres/src/pull-rows.ts), not Feast's Trino store where they differ:
 *
 * - columns are raw source names — join keys, features (every source column when none are named),
 *   timestamp, created, each once — plus Feast's `__dummy_id` ("") without join keys;
 * - both bounds inclusive, either may be absent; rows with a null timestamp are never returned;
 * - the bounds are compared in the column's own type: a naive `timestamp(p)` column holds UTC wall
 *   times, so it is compared with the UTC wall time of each bound, and a `with time zone` column
 *   with the UTC instant. (Feast writes `TIMESTAMP '<bound with +00:00>'`, which Trino compares with
 *   a naive column in the session's time zone: the JVM's zone unless a client sets one.)
 * - "latest" is the row with the greatest timestamp per join-key tuple (null key parts forming a
 *   group of their own), then the greatest created timestamp with nulls lowest. Trino keeps no
 *   physical row order, so rows equal in both are an arbitrary one of them (PostgreSQL takes the
 *   last stored).
 */
import { DUMMY_ENTITY_ID, assertPullTimeColumns, pullColumns, type PullRequest, type ResultStream } from '@larder/core';
import { trinoResultStream } from './arrow-results.ts';
import type { TrinoClient } from './client.ts';
import { describeSource, sourceRelation } from './sources.ts';

/** A Trino identifier, quoted (`"` doubled). */
export const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** `TIMESTAMP '…'` for `at`, in the form a column of Trino type `columnType` compares with. */
export function timestampLiteral(at: Date, columnType: string): string {
  const wall = at.toISOString().replace('T', ' ').replace('Z', '');
  return /with time zone$/i.test(columnType) ? `TIMESTAMP '${wall} UTC'` : `TIMESTAMP '${wall}'`;
}

interface PullPlan {
  readonly from: string;
  readonly table?: string;
  readonly columns: readonly string[];
  readonly where: string;
  readonly what: string;
}

async function planPull(client: TrinoClient, req: PullRequest, call: string, signal: AbortSignal): Promise<PullPlan> {
  const relation = sourceRelation(req.source);
  const described = await describeSource(client, req.source, signal);
  const types = new Map(described.map((c) => [c.name, c.type]));
  const columns = pullColumns(
    req,
    described.map((c) => c.name),
    relation.label,
  );
  assertPullTimeColumns(
    req,
    {
      isTime: (c) => /^(date|timestamp)/i.test(types.get(c) ?? ''),
      typeName: (c) => types.get(c) ?? 'unknown',
    },
    relation.label,
  );
  const ts = `s.${ident(req.timestampField)}`;
  const tsType = types.get(req.timestampField) ?? '';
  const bounds = [`${ts} IS NOT NULL`];
  if (req.startDate) bounds.push(`${ts} >= ${timestampLiteral(req.startDate, tsType)}`);
  if (req.endDate) bounds.push(`${ts} <= ${timestampLiteral(req.endDate, tsType)}`);
  return {
    from: relation.from,
    table: relation.table,
    columns,
    where: bounds.join(' AND '),
    what: `${call} on data source ${req.source.name} (${relation.label})`,
  };
}

/** The output columns: the pulled ones, then `__dummy_id` without join keys. */
function outputList(req: PullRequest, columns: readonly string[], prefix: string): string {
  const dummy = req.joinKeyColumns.length === 0 ? [`'' AS ${ident(DUMMY_ENTITY_ID)}`] : [];
  return [...columns.map((c) => `${prefix}${ident(c)}`), ...dummy].join(', ');
}

/** The SQL of pull_all (exported for tests that read it). */
export function pullAllSql(req: PullRequest, plan: Pick<PullPlan, 'from' | 'columns' | 'where'>): string {
  return `SELECT ${outputList(req, plan.columns, 's.')} FROM ${plan.from} AS s WHERE ${plan.where}`;
}

/** The SQL of pull_latest: one ROW_NUMBER() window over the bounded rows. */
export function pullLatestSql(req: PullRequest, plan: Pick<PullPlan, 'from' | 'columns' | 'where'>): string {
  const keys = req.joinKeyColumns.map((k) => `s.${ident(k)}`);
  const order = [
    `s.${ident(req.timestampField)} DESC`,
    ...(req.createdTimestampColumn ? [`s.${ident(req.createdTimestampColumn)} DESC NULLS LAST`] : []),
  ];
  const partition = keys.length > 0 ? `PARTITION BY ${keys.join(', ')} ` : '';
  const rank = ident('__larder_rank');
  const inner = `SELECT ${plan.columns.map((c) => `s.${ident(c)}`).join(', ')}, ROW_NUMBER() OVER (${partition}ORDER BY ${order.join(', ')}) AS ${rank} FROM ${plan.from} AS s WHERE ${plan.where}`;
  return `SELECT ${outputList(req, plan.columns, 'r.')} FROM (${inner}) AS r WHERE r.${rank} = 1`;
}

export async function pullAll(client: TrinoClient, req: PullRequest, signal: AbortSignal): Promise<ResultStream> {
  const plan = await planPull(client, req, 'pull_all_from_table_or_query', signal);
  return trinoResultStream(await client.start(pullAllSql(req, plan), plan.what, signal, plan.table));
}

export async function pullLatest(client: TrinoClient, req: PullRequest, signal: AbortSignal): Promise<ResultStream> {
  const plan = await planPull(client, req, 'pull_latest_from_table_or_query', signal);
  return trinoResultStream(await client.start(pullLatestSql(req, plan), plan.what, signal, plan.table));
}
