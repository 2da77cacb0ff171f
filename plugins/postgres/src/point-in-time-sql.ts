/**
 * The point-in-time rule of DESIGN.md as one PostgreSQL query over a relation of entity rows.
 *
 * The entity relation has `__row` (the row's position), `__ts` (its event timestamp, timestamptz)
 * and the join key columns. Per view, in two steps (see matchedTimestamps and bestRows): the
 * latest source timestamp ≤ T per entity row, within the TTL; then the best source row at exactly
 * that (keys, timestamp). Every entity row then gets each view's features by a LEFT JOIN on
 * `__row`, so rows without a match keep null features and the output keeps the entity rows' order.
 */
import { InvalidArgumentError, batchSourceOf, viewColumns, type FeatureView, type ViewColumns } from '@larder/core';
import { PG_OID } from './pg-types.ts';
import type { Session } from './session.ts';
import { describeSource, type SourceTable } from './sources.ts';
import { ident, interval } from './sql.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery extends ViewColumns {
  readonly view: FeatureView;
  readonly table: SourceTable;
}

export async function planViewQuery(session: Session, view: FeatureView, features: readonly string[], fullFeatureNames: boolean): Promise<ViewQuery> {
  const table = await describeSource(session, batchSourceOf(view));
  return { view, table, ...viewColumns(view, features, fullFeatureNames, [...table.columns.keys()], table.label) };
}

/**
 * How a view's best rows are found (see matchedTimestamps/bestRows and joinedBestRows): `window`
 * sorts source and entity rows together, costing one sort of the source whatever the data;
 * `join` pairs each entity row with its key's rows, cheap when entity rows are few per key and
 * ruinous when they are many.
 */
export type PointInTimeStrategy = 'window' | 'join';

export type Family = 'number' | 'string' | 'bool' | 'other';

const FAMILY = new Map<number, Family>([
  [PG_OID.int2, 'number'], [PG_OID.int4, 'number'], [PG_OID.int8, 'number'], [PG_OID.float4, 'number'],
  [PG_OID.float8, 'number'], [PG_OID.numeric, 'number'],
  [PG_OID.text, 'string'], [PG_OID.varchar, 'string'], [PG_OID.bpchar, 'string'], [PG_OID.name, 'string'],
  [PG_OID.bool, 'bool'],
]);

export function familyOfOid(oid: number): Family {
  return FAMILY.get(oid) ?? 'other';
}

/** How the entity relation holds each join key: entity column name → its SQL column and kind. */
export type EntityKeys = ReadonlyMap<string, { readonly column: string; readonly family: Family; readonly type: string }>;

/** Refuses join keys the entity rows lack or whose kind of value cannot equal the source's. */
export function checkJoinKeys(query: ViewQuery, keys: EntityKeys): void {
  query.entityKeyNames.forEach((name, i) => {
    const key = keys.get(name);
    if (!key) {
      throw new InvalidArgumentError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
    }
    const sourceOid = query.table.columns.get(query.keyColumns[i]!)!;
    if (familyOfOid(sourceOid) !== key.family || key.family === 'other') {
      throw new InvalidArgumentError(
        `Join key "${name}" of feature view ${query.view.name} cannot be matched: the entity dataframe has ${key.type}, the source ${query.table.label} has PostgreSQL type oid ${sourceOid}`,
      );
    }
  });
}

/**
 * The query returning, for every row of `entities` (a relation aliased `e`) in `__row` order, the
 * `leading` expressions over `e` and then each view's features under their output names. `ctes`
 * come first in the WITH clause (e.g. the entity relation itself); `strategies` pick each view's
 * formulation (default `window`).
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  keys: EntityKeys,
  entities: string,
  options: { readonly leading?: readonly string[]; readonly ctes?: readonly string[]; readonly strategies?: readonly PointInTimeStrategy[] } = {},
): string {
  const leading = options.leading ?? [];
  const steps = views.flatMap((q, v) =>
    options.strategies?.[v] === 'join'
      ? [`b${v} AS (${joinedBestRows(q, keys, entities)})`]
      : [`m${v} AS (${matchedTimestamps(q, keys, entities)})`, `b${v} AS (${bestRows(q, v)})`],
  );
  const joins = views.map((_, v) => `LEFT JOIN b${v} ON b${v}.__row = e.__row`);
  const outputs = views.flatMap((q, v) => q.outputNames.map((name, f) => `b${v}.f${f} AS ${ident(name)}`));
  return [
    `WITH ${[...(options.ctes ?? []), ...steps].join(',\n')}`,
    `SELECT ${[...leading, ...outputs].join(', ')}`,
    `FROM ${entities} e`,
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/**
 * Step 1: for each entity row, the latest source timestamp ≤ T with its keys, kept only within
 * the TTL. Source and entity rows (keys and timestamps only) are sorted together per key, and a
 * running max of the source timestamps carries the latest one forward to each entity row; at an
 * equal timestamp the source row sorts first, so ts = T is a candidate. One sort of narrow rows,
 * whatever the number of rows per key (a join of each entity row to every row of its key costs
 * entity rows × rows per key).
 */
function matchedTimestamps(q: ViewQuery, keys: EntityKeys, entities: string): string {
  const ts = `s.${ident(q.timestampColumn)}::timestamptz`;
  const sourceKeys = q.keyColumns.map((raw) => `s.${ident(raw)}`);
  const entityKeys = q.entityKeyNames.map((name) => `e.${ident(keys.get(name)!.column)}`);
  const k = q.keyColumns.map((_, i) => `__k${i}`);
  const ttl = q.view.ttlSeconds > 0 ? interval(q.view.ttlSeconds) : null;
  const sourceWhere = [
    `${ts} <= (SELECT max(__ts) FROM ${entities})`,
    ...(ttl ? [`${ts} >= (SELECT min(__ts) FROM ${entities}) - ${ttl}`] : []),
    ...sourceKeys.map((c) => `${c} IS NOT NULL`),
  ];
  const entityWhere = ['e.__ts IS NOT NULL', ...entityKeys.map((c) => `${c} IS NOT NULL`)];
  const sourceRows = `SELECT 0 AS __kind, NULL::bigint AS __row, ${[...sourceKeys.map((c, i) => `${c} AS __k${i}`), `${ts} AS __ts`].join(', ')} FROM ${q.table.from} AS s WHERE ${sourceWhere.join(' AND ')}`;
  const entityRows = `SELECT 1, e.__row, ${[...entityKeys, 'e.__ts'].join(', ')} FROM ${entities} e WHERE ${entityWhere.join(' AND ')}`;
  const partition = k.length > 0 ? `PARTITION BY ${k.join(', ')} ` : '';
  const running = `max(CASE WHEN __kind = 0 THEN __ts END) OVER (${partition}ORDER BY __ts, __kind ROWS UNBOUNDED PRECEDING) AS __mts`;
  const matched = ['__mts IS NOT NULL', ...(ttl ? [`__mts >= __ts - ${ttl}`] : [])];
  return [
    `SELECT __row, ${[...k, '__mts'].join(', ')} FROM (`,
    `SELECT __kind, __row, __ts, ${[...k, running].join(', ')} FROM (${sourceRows} UNION ALL ${entityRows}) AS u`,
    `) AS w WHERE __kind = 1 AND ${matched.join(' AND ')}`,
  ].join(' ');
}

/**
 * Step 2: the source rows at each matched (keys, timestamp) — usually one, more on ties — reduced
 * to the greatest by (created with nulls lowest, physical row order for tables), with features.
 */
function bestRows(q: ViewQuery, v: number): string {
  const on = [...q.keyColumns.map((raw, i) => `s.${ident(raw)} = m.__k${i}`), `s.${ident(q.timestampColumn)}::timestamptz = m.__mts`];
  const order = [
    'm.__row',
    ...(q.createdColumn ? [`s.${ident(q.createdColumn)} DESC NULLS LAST`] : []),
    ...(q.table.isTable ? ['s.ctid DESC'] : []),
  ];
  const features = q.featureColumns.map((raw, f) => `s.${ident(raw)} AS f${f}`);
  return [
    `SELECT DISTINCT ON (m.__row) ${['m.__row', ...features].join(', ')}`,
    `FROM m${v} m JOIN ${q.table.from} AS s ON ${on.join(' AND ')}`,
    `ORDER BY ${order.join(', ')}`,
  ].join(' ');
}

/**
 * The `join` formulation: each entity row joined to its key's source rows inside its window,
 * DISTINCT ON keeping the greatest by (ts, created with nulls lowest, physical row order).
 */
function joinedBestRows(q: ViewQuery, keys: EntityKeys, entities: string): string {
  const ts = `s.${ident(q.timestampColumn)}`;
  const on = [
    ...q.entityKeyNames.map((name, i) => `s.${ident(q.keyColumns[i]!)} = e.${ident(keys.get(name)!.column)}`),
    `${ts} <= e.__ts`,
    ...(q.view.ttlSeconds > 0 ? [`${ts} >= e.__ts - ${interval(q.view.ttlSeconds)}`] : []),
  ];
  const order = [
    'e.__row',
    `${ts} DESC`,
    ...(q.createdColumn ? [`s.${ident(q.createdColumn)} DESC NULLS LAST`] : []),
    ...(q.table.isTable ? ['s.ctid DESC'] : []),
  ];
  const features = q.featureColumns.map((raw, f) => `s.${ident(raw)} AS f${f}`);
  return [
    `SELECT DISTINCT ON (e.__row) ${['e.__row', ...features].join(', ')}`,
    `FROM ${entities} e JOIN ${q.table.from} AS s ON ${on.join(' AND ')}`,
    `ORDER BY ${order.join(', ')}`,
  ].join(' ');
}
