/**
 * The point-in-time rule of DESIGN.md as one PostgreSQL query over a relation of entity rows.
 *
 * The entity relation has `__row` (the row's position), `__ts` (its event timestamp, timestamptz)
 * and the join key columns. Per source group (views sharing a source, see source-groups.ts), in
 * two steps (see matchedTimestamps and bestRows): the latest source timestamp ≤ T per entity row,
 * within the group's widest TTL; then the best source row at exactly that (keys, timestamp). Every
 * entity row then gets each group's match by a LEFT JOIN on `__row`, so rows without a match keep
 * null features and the output keeps the entity rows' order; each view keeps the match only
 * within its own TTL.
 */
import {
  InvalidArgumentError,
  MissingColumnError,
  assertViewTimeColumns,
  batchSourceOf,
  viewColumns,
  type FeatureView,
  type ViewColumns,
} from '@larder/core';
import { PG_OID } from './pg-types.ts';
import type { Session } from './session.ts';
import { viewOutputs, type SourceGroup } from './source-groups.ts';
import { describeSource, pgColumnTypes, type SourceTable } from './sources.ts';
import { ident, interval } from './sql.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery extends ViewColumns {
  readonly view: FeatureView;
  readonly table: SourceTable;
}

export async function planViewQuery(
  session: Session,
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
): Promise<ViewQuery> {
  const table = await describeSource(session, batchSourceOf(view));
  const columns = viewColumns(view, features, fullFeatureNames, [...table.columns.keys()], table.label);
  assertViewTimeColumns(view, columns, pgColumnTypes(table), table.label);
  return { view, table, ...columns };
}

/**
 * How a source group's best rows are found (see matchedTimestamps/bestRows and joinedBestRows):
 * `window` sorts source and entity rows together, costing one sort of the source whatever the
 * data; `join` pairs each entity row with its key's rows, cheap when entity rows are few per key
 * and ruinous when they are many.
 */
export type PointInTimeStrategy = 'window' | 'join';

export type Family = 'number' | 'string' | 'bool' | 'other';

const FAMILY = new Map<number, Family>([
  [PG_OID.int2, 'number'],
  [PG_OID.int4, 'number'],
  [PG_OID.int8, 'number'],
  [PG_OID.float4, 'number'],
  [PG_OID.float8, 'number'],
  [PG_OID.numeric, 'number'],
  [PG_OID.text, 'string'],
  [PG_OID.varchar, 'string'],
  [PG_OID.bpchar, 'string'],
  [PG_OID.name, 'string'],
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
      throw new MissingColumnError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
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
 * come first in the WITH clause (e.g. the entity relation itself). Each source group (see
 * source-groups.ts) is matched once, as `b<i>`, in the formulation `strategies[i]` (default
 * `window`).
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  groups: readonly SourceGroup[],
  keys: EntityKeys,
  entities: string,
  options: {
    readonly leading?: readonly string[];
    readonly ctes?: readonly string[];
    readonly strategies?: readonly PointInTimeStrategy[];
  } = {},
): string {
  const leading = options.leading ?? [];
  const steps = groups.flatMap((g, i) =>
    options.strategies?.[i] === 'join'
      ? [`b${i} AS (${joinedBestRows(g, keys, entities)})`]
      : [`m${i} AS (${matchedTimestamps(g, keys, entities)})`, `b${i} AS (${bestRows(g, i)})`],
  );
  const joins = groups.map((_, i) => `LEFT JOIN b${i} ON b${i}.__row = e.__row`);
  return [
    `WITH ${[...(options.ctes ?? []), ...steps].join(',\n')}`,
    `SELECT ${[...leading, ...viewOutputs(views, groups)].join(', ')}`,
    `FROM ${entities} e`,
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/** What a group's best row carries: its features as c<k>, and its timestamp when a view checks it. */
function carried(g: SourceGroup, ts: string): string[] {
  return [...g.featureColumns.map((raw, k) => `s.${ident(raw)} AS c${k}`), ...(g.needsTimestamp ? [`${ts} AS __mts`] : [])];
}

/** Ties at one timestamp go to the greatest created (nulls lowest), then the row stored last. */
function tieOrder(g: SourceGroup): string[] {
  return [
    ...(g.first.createdColumn ? [`s.${ident(g.first.createdColumn)} DESC NULLS LAST`] : []),
    ...(g.first.table.isTable ? ['s.ctid DESC'] : []),
  ];
}

/**
 * Step 1: for each entity row, the latest source timestamp ≤ T with its keys, kept only within
 * the group's TTL. Source and entity rows (keys and timestamps only) are sorted together per key,
 * and a running max of the source timestamps carries the latest one forward to each entity row;
 * at an equal timestamp the source row sorts first, so ts = T is a candidate. One sort of narrow
 * rows, whatever the number of rows per key (a join of each entity row to every row of its key
 * costs entity rows × rows per key).
 */
function matchedTimestamps(g: SourceGroup, keys: EntityKeys, entities: string): string {
  const q = g.first;
  const ts = `s.${ident(q.timestampColumn)}::timestamptz`;
  const sourceKeys = q.keyColumns.map((raw) => `s.${ident(raw)}`);
  const entityKeys = q.entityKeyNames.map((name) => `e.${ident(keys.get(name)!.column)}`);
  const k = q.keyColumns.map((_, i) => `__k${i}`);
  const ttl = g.ttlSeconds > 0 ? interval(g.ttlSeconds) : null;
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
function bestRows(g: SourceGroup, i: number): string {
  const q = g.first;
  const ts = `s.${ident(q.timestampColumn)}::timestamptz`;
  const on = [...q.keyColumns.map((raw, k) => `s.${ident(raw)} = m.__k${k}`), `${ts} = m.__mts`];
  return [
    `SELECT DISTINCT ON (m.__row) ${['m.__row', ...carried(g, 'm.__mts')].join(', ')}`,
    `FROM m${i} m JOIN ${q.table.from} AS s ON ${on.join(' AND ')}`,
    `ORDER BY ${['m.__row', ...tieOrder(g)].join(', ')}`,
  ].join(' ');
}

/**
 * The `join` formulation: each entity row joined to its key's source rows inside the group's
 * window, DISTINCT ON keeping the greatest by (ts, created with nulls lowest, physical row order).
 */
function joinedBestRows(g: SourceGroup, keys: EntityKeys, entities: string): string {
  const q = g.first;
  const ts = `s.${ident(q.timestampColumn)}`;
  const on = [
    ...q.entityKeyNames.map((name, k) => `s.${ident(q.keyColumns[k]!)} = e.${ident(keys.get(name)!.column)}`),
    `${ts} <= e.__ts`,
    ...(g.ttlSeconds > 0 ? [`${ts} >= e.__ts - ${interval(g.ttlSeconds)}`] : []),
  ];
  return [
    `SELECT DISTINCT ON (e.__row) ${['e.__row', ...carried(g, `${ts}::timestamptz`)].join(', ')}`,
    `FROM ${entities} e JOIN ${q.table.from} AS s ON ${on.join(' AND ')}`,
    `ORDER BY ${['e.__row', `${ts} DESC`, ...tieOrder(g)].join(', ')}`,
  ].join(' ');
}
