/**
 * The point-in-time rule of DESIGN.md as one DuckDB query over the uploaded entity rows
 * (`__entities`: `__row`, `__ts` in ns, the key columns).
 *
 * Views that read the same source the same way are answered by one match (core's
 * groupBySource), each then checking the matched row against its own TTL. Ties at the same
 * timestamp go to the greatest (created with nulls lowest, source order). Timestamps are compared
 * as nanoseconds since the epoch, so ns sources keep their precision.
 *
 * Two formulations, with the same answers (test/unit/duckdb-differential.spec.ts):
 * - `asof`: an ASOF join of the entity rows to the source's bare (keys, timestamp) finds each
 *   row's latest timestamp ≤ T, then an equi-join back to the source rows at exactly that
 *   (keys, timestamp) settles ties and carries the features. Its cost is dominated by sorting
 *   the source, whatever the number of entity rows.
 * - `join`: a hash join of the entity rows to the source rows with their keys and a timestamp in
 *   [T − TTL, T], reduced per entity row with arg_max. Its cost grows with entity rows × source
 *   rows per key.
 * Measured in-process on 10M source rows over 10k keys, three views sharing the source, DuckDB
 * on 2 cores (scratch timing of getHistoricalFeatures): entity rows 10k (1.6 per distinct key):
 * asof 5.1 s, join 1.5 s; 30k (3.2 per key): 5.4 s and 3.2 s; 100k (10 per key): 4.2 s and 9.0 s;
 * 1M: asof 7.9 s. So `auto` picks `join` while the entity rows average at most
 * JOIN_MAX_ROWS_PER_KEY per distinct key, else `asof`.
 */
import { groupBySource, needsOwnTtl, type SourceGroup as CoreSourceGroup } from '@larder/core';
import type { EntityKeys, ViewQuery } from './point-in-time-sql.ts';
import { ident, secondsAsNs } from './sql.ts';

export type PointInTimeStrategy = 'asof' | 'join';

/** Entity rows per distinct key up to which the hash join beats the ASOF join (see above). */
export const JOIN_MAX_ROWS_PER_KEY = 5;

/** Views answered by one match (core's groupBySource over the source relation). */
export type SourceGroup = CoreSourceGroup<ViewQuery>;

export function groupViews(views: readonly ViewQuery[]): SourceGroup[] {
  return groupBySource(views, (q) => q.table.relation);
}

/** `auto`'s choice, from the entity rows and their distinct keys of the group. */
export function chooseStrategy(entityRows: number, distinctKeys: number): PointInTimeStrategy {
  return entityRows <= JOIN_MAX_ROWS_PER_KEY * Math.max(distinctKeys, 1) ? 'join' : 'asof';
}

/**
 * The query returning, for every row of `__entities` in `__row` order, the `leading` expressions
 * (over `e`) and then each view's features, in `views` order.
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  groups: readonly SourceGroup[],
  strategies: readonly PointInTimeStrategy[],
  keys: EntityKeys,
  leading: readonly string[] = [],
): string {
  const ctes = groups.flatMap((g, i) =>
    strategies[i] === 'asof' ? [`m${i} AS (${asofMatches(g, keys)})`, `b${i} AS (${asofBest(g, i)})`] : [`b${i} AS (${joinBest(g, keys)})`],
  );
  const joins = groups.map((_, i) => `LEFT JOIN b${i} ON b${i}.__row = e.__row`);
  const outputs = views.flatMap((q) => {
    const i = groups.findIndex((g) => g.views.includes(q));
    const v = groups[i]!.views.indexOf(q);
    return q.outputNames.map((name, f) => {
      const value = `b${i}.__best.v${v}f${f}`;
      // The group matched within its widest TTL; this view keeps the row only within its own.
      const expression = needsOwnTtl(q.view, groups[i]!.ttlSeconds)
        ? `CASE WHEN b${i}.__best.__ts >= e.__ts - ${secondsAsNs(q.view.ttlSeconds)} THEN ${value} END`
        : value;
      return `${expression} AS ${ident(name)}`;
    });
  });
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${[...leading, ...outputs].join(', ')}`,
    'FROM __entities e',
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/** The struct arg_max carries: every feature of the group's views, and the row's timestamp. */
function bestStruct(g: SourceGroup, alias: string): string {
  const first = g.views[0]!;
  const fields = g.views.flatMap((q, v) => q.featureColumns.map((raw, f) => `'v${v}f${f}': ${alias}.${ident(raw)}`));
  return `{${[...fields, `'__ts': epoch_ns(${alias}.${ident(first.timestampColumn)})`].join(', ')}}`;
}

/** What settles rows at the same timestamp: created (nulls lowest), then source order. */
function tieBreak(g: SourceGroup, alias: string): string {
  const first = g.views[0]!;
  const created = first.createdColumn ? `coalesce(epoch_ns(${alias}.${ident(first.createdColumn)}), -9223372036854775808)` : '0';
  return `${created}, ${first.table.rowOrder(alias)}`;
}

function keyEquality(g: SourceGroup, keys: EntityKeys, alias: string): string[] {
  const first = g.views[0]!;
  return first.entityKeyNames.map((name, i) => `e.${ident(keys.get(name)!.column)} = ${alias}.${ident(first.keyColumns[i]!)}`);
}

/** `join`: each entity row's source rows within [T − TTL, T], reduced to the latest. */
function joinBest(g: SourceGroup, keys: EntityKeys): string {
  const first = g.views[0]!;
  const ts = `epoch_ns(s.${ident(first.timestampColumn)})`;
  const window = [`${ts} <= e.__ts`, ...(g.ttlSeconds > 0 ? [`${ts} >= e.__ts - ${secondsAsNs(g.ttlSeconds)}`] : [])];
  return [
    `SELECT e.__row, arg_max(${bestStruct(g, 's')}, (${ts}, ${tieBreak(g, 's')})) AS __best`,
    `FROM __entities e JOIN ${first.table.relation} s ON ${[...keyEquality(g, keys, 's'), ...window].join(' AND ')}`,
    'GROUP BY e.__row',
  ].join(' ');
}

/** `asof`, step 1: each entity row's greatest source timestamp ≤ T with its keys, within the TTL. */
function asofMatches(g: SourceGroup, keys: EntityKeys): string {
  const first = g.views[0]!;
  const ts = `epoch_ns(${ident(first.timestampColumn)})`;
  const sourceKeys = first.keyColumns.map((raw, i) => `${ident(raw)} AS __k${i}`);
  const ttl = g.ttlSeconds > 0 ? secondsAsNs(g.ttlSeconds) : null;
  const lower = ttl ? ` AND ${ts} >= (SELECT min(__ts) FROM __entities) - ${ttl}` : '';
  const candidates = `SELECT ${[...sourceKeys, `${ts} AS __ts`].join(', ')} FROM ${first.table.relation} WHERE ${ts} <= (SELECT max(__ts) FROM __entities)${lower}`;
  const on = first.entityKeyNames.map((name, i) => `e.${ident(keys.get(name)!.column)} = s.__k${i}`);
  const fresh = ttl ? ` WHERE s.__ts >= e.__ts - ${ttl}` : '';
  const selected = ['e.__row', ...first.keyColumns.map((_, i) => `s.__k${i}`), 's.__ts'];
  // DuckDB's ASOF join would match a null entity timestamp as if it were +∞: those rows never match.
  const entities = '(SELECT * FROM __entities WHERE __ts IS NOT NULL)';
  return `SELECT ${selected.join(', ')} FROM ${entities} e ASOF JOIN (${candidates}) s ON ${[...on, 'e.__ts >= s.__ts'].join(' AND ')}${fresh}`;
}

/** `asof`, step 2: the source rows at each matched (keys, timestamp), reduced to the greatest. */
function asofBest(g: SourceGroup, i: number): string {
  const first = g.views[0]!;
  const on = [...first.keyColumns.map((raw, k) => `f.${ident(raw)} = m.__k${k}`), `epoch_ns(f.${ident(first.timestampColumn)}) = m.__ts`];
  return [
    `SELECT m.__row, arg_max(${bestStruct(g, 'f')}, (${tieBreak(g, 'f')})) AS __best`,
    `FROM m${i} m JOIN ${first.table.relation} f ON ${on.join(' AND ')}`,
    'GROUP BY m.__row',
  ].join(' ');
}
