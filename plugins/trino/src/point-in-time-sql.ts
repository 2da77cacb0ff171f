/**
 * The point-in-time rule of DESIGN.md as one Trino query over a relation of entity rows.
 *
 * The entity relation has `__ts` (each row's event timestamp as a naive UTC timestamp) and the
 * join key columns under the entity's names. Views reading the same relation with the same keys
 * and time columns form a group (core's groupBySource), matched once within the group's widest
 * TTL. A group works on its points: the distinct (keys, `__ts`) of the entity rows, since rows
 * equal there get the same features. Two steps (see matchSteps and bestRows): the latest source
 * timestamp ≤ T per point, then the best source row at exactly that (keys, timestamp). Every
 * entity row then gets its point's match by a LEFT JOIN on (keys, `__ts`), so rows without a
 * match keep null features; each view keeps the match only within its own TTL. Nothing needs a
 * row number: a client's entity SQL is read by each reference on its own, and a row matches its
 * own point whatever another reading returned.
 *
 * Source timestamps are compared as naive UTC timestamps (see asUtcTimestamp), never through the
 * session's time zone.
 */
import {
  InvalidArgumentError,
  MissingColumnError,
  assertViewTimeColumns,
  batchSourceOf,
  groupBySource,
  needsOwnTtl,
  viewColumns,
  type FeatureView,
  type SourceGroup as CoreSourceGroup,
  type ViewColumns,
} from '@larder/core';
import type { TrinoClient } from './client.ts';
import { describeSource, sourceRelation, type SourceRelation } from './sources.ts';
import { asUtcTimestamp, ident, interval, isTimeType } from './sql-text.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery extends ViewColumns {
  readonly view: FeatureView;
  readonly relation: SourceRelation;
  /** The source's columns → their Trino type names. */
  readonly types: ReadonlyMap<string, string>;
}

/** Column types of sources already described in this call, by relation SQL (views often share one). */
export type DescribedSources = Map<string, Promise<ReadonlyMap<string, string>>>;

export async function planViewQuery(
  client: TrinoClient,
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
  described: DescribedSources,
  signal?: AbortSignal,
): Promise<ViewQuery> {
  const source = batchSourceOf(view);
  const relation = sourceRelation(source);
  let types = described.get(relation.from);
  if (!types) {
    types = describeSource(client, source, signal).then((columns) => new Map(columns.map((c) => [c.name, c.type])));
    described.set(relation.from, types);
  }
  const columnTypes = await types;
  const columns = viewColumns(view, features, fullFeatureNames, [...columnTypes.keys()], relation.label);
  assertViewTimeColumns(
    view,
    columns,
    { isTime: (c) => isTimeType(columnTypes.get(c) ?? ''), typeName: (c) => columnTypes.get(c) ?? 'unknown' },
    relation.label,
  );
  return { view, relation, types: columnTypes, ...columns };
}

/** What kind of value a Trino type holds, for deciding whether two columns can be equal. */
export type Family = 'number' | 'string' | 'bool' | 'other';

export function familyOfType(type: string): Family {
  if (/^(tinyint|smallint|integer|bigint|real|double|decimal)\b/.test(type)) return 'number';
  if (/^(varchar|char)\b/.test(type)) return 'string';
  if (type === 'boolean') return 'bool';
  return 'other';
}

/** How the entity relation holds each join key: entity column name → its SQL column and Trino type. */
export type EntityKeys = ReadonlyMap<string, { readonly column: string; readonly type: string }>;

/** Refuses join keys the entity rows lack or whose kind of value cannot equal the source's. */
export function checkJoinKeys(query: ViewQuery, keys: EntityKeys): void {
  query.entityKeyNames.forEach((name, i) => {
    const key = keys.get(name);
    if (!key) {
      throw new MissingColumnError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
    }
    const sourceType = query.types.get(query.keyColumns[i]!)!;
    const family = familyOfType(key.type);
    if (familyOfType(sourceType) !== family || family === 'other') {
      throw new InvalidArgumentError(
        `Join key "${name}" of feature view ${query.view.name} cannot be matched: the entity rows have ${key.type}, the source ${query.relation.label} has ${sourceType}`,
      );
    }
  });
}

/** Views answered by one match (see the module comment): core's groupBySource over the relation's SQL text. */
type SourceGroup = CoreSourceGroup<ViewQuery>;

/** The raw feature columns any of the group's views asked for, each once: the match carries them as `c<k>`. */
function groupFeatureColumns(g: SourceGroup): string[] {
  return [...new Set(g.views.flatMap((q) => q.featureColumns))];
}

/**
 * The query returning, for every row of `entities` (a relation name, aliased `e`), the `leading`
 * expressions over `e` and then each view's features under their output names. `ctes` come first
 * in the WITH clause (e.g. the entity relation itself); `orderBy` (over `e`) orders the output.
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  keys: EntityKeys,
  entities: string,
  options: { readonly leading?: readonly string[]; readonly ctes?: readonly string[]; readonly orderBy?: string } = {},
): string {
  // The relation's SQL text, not the data source's name: two sources over one table share a scan.
  const groups = groupBySource(views, (q) => q.relation.from);
  const steps = groups.flatMap((g, i) => [...matchSteps(g, i, keys, entities), `b${i} AS (${bestRows(g, i)})`]);
  const joins = groups.map((g, i) => {
    const on = [...entityKeyColumns(g, keys).map((c, k) => `b${i}.__k${k} = ${c}`), `b${i}.__ts = e.__ts`];
    return `LEFT JOIN b${i} ON ${on.join(' AND ')}`;
  });
  return [
    `WITH ${[...(options.ctes ?? []), ...steps].join(',\n')}`,
    `SELECT ${[...(options.leading ?? []), ...viewOutputs(views, groups)].join(', ')}`,
    `FROM ${entities} e`,
    ...joins,
    ...(options.orderBy ? [`ORDER BY ${options.orderBy}`] : []),
  ].join('\n');
}

/** The source's timestamp column as a naive UTC timestamp. */
function sourceTimestamp(q: ViewQuery): string {
  return asUtcTimestamp(`s.${ident(q.timestampColumn)}`, q.types.get(q.timestampColumn)!);
}

/** The group's join keys as columns of the entity row `e`, in the views' key order. */
function entityKeyColumns(g: SourceGroup, keys: EntityKeys): string[] {
  return g.views[0]!.entityKeyNames.map((name) => `e.${ident(keys.get(name)!.column)}`);
}

/**
 * Points of a key with at most this many go through the range join, the others through the
 * running max (see matchSteps). A point joins every source row of its key within the TTL before
 * it, so a key's join costs points × rows while the sort costs rows + points: the join wins for
 * one or two points per key, loses from about three (bench/trino-vs-feast.ts: 100k entity rows
 * over 100k drivers of 100 rows each, 5.6 s by join and 12.8 s by sort; 1M rows, 10 per driver,
 * 61 s and 19.6 s). Capped at two, a key's join is never more than twice its sort.
 */
const JOIN_POINTS_PER_KEY = 2;

/**
 * Step 1, as CTEs `p<i>` (the group's points: distinct keys and `__ts` of the entity rows, none
 * null), `n<i>` (points per key) and `m<i>` (each point's latest source timestamp ≤ `__ts`, as
 * `__mts`, kept only within the group's TTL). Each key takes the cheaper of two plans:
 *
 * - few points: a join of the points to the source rows of their key within the TTL before them,
 *   keeping the greatest timestamp (Trino's join sorts its build side by timestamp per key);
 * - many points: source rows (only of those keys, and only in the points' time span) and points
 *   sorted together per key, a running max of the source timestamps carrying the latest one
 *   forward to each point; at an equal timestamp the source row sorts first, so ts = T is a
 *   candidate. One distributed sort of narrow rows, whatever the number of points per key.
 *
 * Views without join keys have one "key", so only the sort.
 */
function matchSteps(g: SourceGroup, i: number, keys: EntityKeys, entities: string): string[] {
  const q = g.views[0]!;
  const ts = sourceTimestamp(q);
  const sourceKeys = q.keyColumns.map((raw) => `s.${ident(raw)}`);
  const entityKeys = entityKeyColumns(g, keys);
  const k = q.keyColumns.map((_, j) => `__k${j}`);
  const ttl = g.ttlSeconds > 0 ? interval(g.ttlSeconds) : null;
  const notNull = ['e.__ts IS NOT NULL', ...entityKeys.map((c) => `${c} IS NOT NULL`)];
  const points = `p${i} AS (SELECT DISTINCT ${[...entityKeys.map((c, j) => `${c} AS __k${j}`), 'e.__ts'].join(', ')} FROM ${entities} e WHERE ${notNull.join(' AND ')})`;
  const inTtl = (latest: string, at: string) => (ttl ? [`${latest} >= ${at} - ${ttl}`] : []);

  // The sort: restricted to keys with many points when some keys take the join.
  const many = k.length > 0 ? `n.__n > ${JOIN_POINTS_PER_KEY}` : null;
  const sameKey = (left: string[]) => left.map((c, j) => `n.__k${j} = ${c}`).join(' AND ');
  const sourceWhere = [
    `${ts} <= (SELECT max(__ts) FROM p${i})`,
    ...(ttl ? [`${ts} >= (SELECT min(__ts) FROM p${i}) - ${ttl}`] : []),
    // Only keys the sort is for: Trino turns this semi-join into a dynamic filter on the scan.
    ...(many ? [`EXISTS (SELECT 1 FROM n${i} n WHERE ${many} AND ${sameKey(sourceKeys)})`] : []),
  ];
  const sourceRows = `SELECT 0 AS __kind, ${[...sourceKeys.map((c, j) => `${c} AS __k${j}`), `${ts} AS __ts`].join(', ')} FROM ${q.relation.from} AS s WHERE ${sourceWhere.join(' AND ')}`;
  const pointRows = many
    ? `SELECT 1, ${[...k.map((c) => `p.${c}`), 'p.__ts'].join(', ')} FROM p${i} p JOIN n${i} n ON ${sameKey(k.map((c) => `p.${c}`))} AND ${many}`
    : `SELECT 1, p.__ts FROM p${i} p`;
  const partition = k.length > 0 ? `PARTITION BY ${k.join(', ')} ` : '';
  const running = `max(CASE WHEN __kind = 0 THEN __ts END) OVER (${partition}ORDER BY __ts, __kind ROWS UNBOUNDED PRECEDING) AS __mts`;
  const sorted = [
    `SELECT ${[...k, '__ts', '__mts'].join(', ')} FROM (`,
    `SELECT __kind, __ts, ${[...k, running].join(', ')} FROM (${sourceRows} UNION ALL ${pointRows}) AS u`,
    `) AS w WHERE ${['__kind = 1', '__mts IS NOT NULL', ...inTtl('__mts', '__ts')].join(' AND ')}`,
  ].join(' ');
  if (k.length === 0) return [points, `m${i} AS (${sorted})`];

  const counts = `n${i} AS (SELECT ${k.join(', ')}, count(*) AS __n FROM p${i} GROUP BY ${k.join(', ')})`;
  const joinOn = [...sourceKeys.map((c, j) => `${c} = p.__k${j}`), `${ts} <= p.__ts`, ...inTtl(ts, 'p.__ts')];
  const grouped = [...k.map((c) => `p.${c}`), 'p.__ts'].join(', ');
  // The source comes first and the points second: Trino builds a join's hash table from its
  // right side, and keeps the written order when it has no row estimates (an entity table staged a
  // moment ago, a client's query). Built from the source, this join took twice the time and
  // four times the memory (bench/trino-vs-feast.ts's staged 100k entity rows: 10.5 s, 4.6–6.1 s).
  const few = `SELECT p.* FROM p${i} p JOIN n${i} n ON ${sameKey(k.map((c) => `p.${c}`))} AND n.__n <= ${JOIN_POINTS_PER_KEY}`;
  const joined = [
    `SELECT ${grouped}, max(${ts}) AS __mts FROM ${q.relation.from} AS s`,
    `JOIN (${few}) p ON ${joinOn.join(' AND ')} GROUP BY ${grouped}`,
  ].join(' ');
  return [points, counts, `m${i} AS (${joined} UNION ALL ${sorted})`];
}

/**
 * Step 2: the source rows at each point's matched (keys, timestamp) — usually one, more on ties —
 * reduced to the one with the greatest created timestamp (nulls lowest), with its features. A
 * full tie (same timestamp and created) keeps an arbitrary one of them, as the rule allows.
 */
function bestRows(g: SourceGroup, i: number): string {
  const q = g.views[0]!;
  const k = q.keyColumns.map((_, j) => `m.__k${j}`);
  const on = [...q.keyColumns.map((raw, j) => `s.${ident(raw)} = m.__k${j}`), `${sourceTimestamp(q)} = m.__mts`];
  const order = q.createdColumn
    ? ` ORDER BY ${asUtcTimestamp(`s.${ident(q.createdColumn)}`, q.types.get(q.createdColumn)!)} DESC NULLS LAST`
    : '';
  // A view with a TTL narrower than the group's checks the matched timestamp, so the match carries it.
  const needsTimestamp = g.views.some((v) => needsOwnTtl(v.view, g.ttlSeconds));
  const carried = [...groupFeatureColumns(g).map((raw, c) => `s.${ident(raw)} AS c${c}`), ...(needsTimestamp ? ['m.__mts'] : [])];
  return [
    `SELECT * FROM (SELECT ${[...k, 'm.__ts', ...carried].join(', ')}, row_number() OVER (PARTITION BY ${[...k, 'm.__ts'].join(', ')}${order}) AS __rn`,
    // Source first, matches second: the hash table is built from the matches (see matchSteps).
    `FROM ${q.relation.from} AS s JOIN m${i} m ON ${on.join(' AND ')}) AS r WHERE __rn = 1`,
  ].join(' ');
}

/**
 * The select list of every view's features, in request order under their output names, over the
 * group relations `b<i>` and the entity row `e`.
 */
function viewOutputs(views: readonly ViewQuery[], groups: readonly SourceGroup[]): string[] {
  return views.flatMap((q) => {
    const i = groups.findIndex((g) => g.views.includes(q));
    const group = groups[i]!;
    const fresh = needsOwnTtl(q.view, group.ttlSeconds) ? `b${i}.__mts >= e.__ts - ${interval(q.view.ttlSeconds)}` : null;
    const carried = groupFeatureColumns(group);
    return q.featureColumns.map((raw, f) => {
      const value = `b${i}.c${carried.indexOf(raw)}`;
      return `${fresh ? `CASE WHEN ${fresh} THEN ${value} END` : value} AS ${ident(q.outputNames[f]!)}`;
    });
  });
}
