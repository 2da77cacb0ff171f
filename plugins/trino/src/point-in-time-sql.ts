/**
 * The point-in-time rule of DESIGN.md as one Trino query over a relation of entity rows.
 *
 * The entity relation has `__row` (the row's position), `__ts` (its event timestamp as a naive
 * UTC timestamp) and the join key columns under the entity's names. Views reading the same
 * relation with the same keys and time columns form a group (core's groupBySource), matched once
 * within the group's widest TTL, in two steps (see matchedTimestamps and bestRows): the latest
 * source timestamp ≤ T per entity row, then the best source row at exactly that (keys,
 * timestamp). Every entity row then gets each group's match by a LEFT JOIN on `__row`, so rows
 * without a match keep null features and the output keeps the entity rows' order; each view keeps
 * the match only within its own TTL.
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
 * in the WITH clause (e.g. the entity relation itself); `ordered` adds `ORDER BY e.__row`.
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  keys: EntityKeys,
  entities: string,
  options: { readonly leading?: readonly string[]; readonly ctes?: readonly string[]; readonly ordered?: boolean } = {},
): string {
  // The relation's SQL text, not the data source's name: two sources over one table share a scan.
  const groups = groupBySource(views, (q) => q.relation.from);
  const steps = groups.flatMap((g, i) => [`m${i} AS (${matchedTimestamps(g, keys, entities)})`, `b${i} AS (${bestRows(g, i)})`]);
  const joins = groups.map((_, i) => `LEFT JOIN b${i} ON b${i}.__row = e.__row`);
  return [
    `WITH ${[...(options.ctes ?? []), ...steps].join(',\n')}`,
    `SELECT ${[...(options.leading ?? []), ...viewOutputs(views, groups)].join(', ')}`,
    `FROM ${entities} e`,
    ...joins,
    ...(options.ordered ? ['ORDER BY e.__row'] : []),
  ].join('\n');
}

/** The source's timestamp column as a naive UTC timestamp. */
function sourceTimestamp(q: ViewQuery): string {
  return asUtcTimestamp(`s.${ident(q.timestampColumn)}`, q.types.get(q.timestampColumn)!);
}

/**
 * Step 1: for each entity row, the latest source timestamp ≤ T with its keys, kept only within
 * the group's TTL. Source and entity rows (keys and timestamps only) are sorted together per key,
 * and a running max of the source timestamps carries the latest one forward to each entity row;
 * at an equal timestamp the source row sorts first, so ts = T is a candidate. One distributed
 * sort of narrow rows, whatever the number of rows per key (a join of each entity row to every
 * row of its key costs entity rows × rows per key).
 */
function matchedTimestamps(g: SourceGroup, keys: EntityKeys, entities: string): string {
  const q = g.views[0]!;
  const ts = sourceTimestamp(q);
  const sourceKeys = q.keyColumns.map((raw) => `s.${ident(raw)}`);
  const entityKeys = q.entityKeyNames.map((name) => `e.${ident(keys.get(name)!.column)}`);
  const k = q.keyColumns.map((_, i) => `__k${i}`);
  const ttl = g.ttlSeconds > 0 ? interval(g.ttlSeconds) : null;
  const sourceWhere = [
    `${ts} <= (SELECT max(__ts) FROM ${entities})`,
    ...(ttl ? [`${ts} >= (SELECT min(__ts) FROM ${entities}) - ${ttl}`] : []),
    ...sourceKeys.map((c) => `${c} IS NOT NULL`),
    // Only keys some entity row has: Trino turns this semi-join into a dynamic filter on the
    // scan, so a small entity table sorts a small part of the source, not all of it.
    ...(sourceKeys.length > 0
      ? [`EXISTS (SELECT 1 FROM ${entities} e WHERE ${sourceKeys.map((c, i) => `${entityKeys[i]} = ${c}`).join(' AND ')})`]
      : []),
  ];
  const entityWhere = ['e.__ts IS NOT NULL', ...entityKeys.map((c) => `${c} IS NOT NULL`)];
  const sourceRows = `SELECT 0 AS __kind, CAST(NULL AS bigint) AS __row, ${[...sourceKeys.map((c, i) => `${c} AS __k${i}`), `${ts} AS __ts`].join(', ')} FROM ${q.relation.from} AS s WHERE ${sourceWhere.join(' AND ')}`;
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
 * to the one with the greatest created timestamp (nulls lowest), with its features. A full tie
 * (same timestamp and created) keeps an arbitrary one of them, as the rule allows.
 */
function bestRows(g: SourceGroup, i: number): string {
  const q = g.views[0]!;
  const on = [...q.keyColumns.map((raw, k) => `s.${ident(raw)} = m.__k${k}`), `${sourceTimestamp(q)} = m.__mts`];
  const order = q.createdColumn
    ? `ORDER BY ${asUtcTimestamp(`s.${ident(q.createdColumn)}`, q.types.get(q.createdColumn)!)} DESC NULLS LAST`
    : '';
  // A view with a TTL narrower than the group's checks the matched timestamp, so the match carries it.
  const needsTimestamp = g.views.some((v) => needsOwnTtl(v.view, g.ttlSeconds));
  const carried = [...groupFeatureColumns(g).map((raw, k) => `s.${ident(raw)} AS c${k}`), ...(needsTimestamp ? ['m.__mts'] : [])];
  return [
    `SELECT * FROM (SELECT m.__row, ${carried.join(', ')}, row_number() OVER (PARTITION BY m.__row ${order}) AS __rn`,
    `FROM m${i} m JOIN ${q.relation.from} AS s ON ${on.join(' AND ')}) AS r WHERE __rn = 1`,
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
