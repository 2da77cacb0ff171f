/**
 * The point-in-time rule of DESIGN.md as one DuckDB query over the uploaded entity rows.
 *
 * Per view, in two steps: an ASOF join of the entity rows to the source's (keys, timestamp) finds
 * each row's latest timestamp ≤ T (the TTL is checked on it alone: if it is too old, every earlier
 * row is older still); an equi-join back to the source rows at exactly that (keys, timestamp)
 * then picks the greatest by (created with nulls lowest, source order). Timestamps are compared
 * as nanoseconds since the epoch, so ns sources keep their precision.
 *
 * `bench/duckdb-pit-strategies.ts` measured the formulations (same answers from all):
 * join-then-rank with window functions is 10–20× slower than ASOF; deduplicating the whole
 * source per (keys, ts) before the ASOF join sorts wide rows and was 2–3× slower than ASOF over
 * bare keys and timestamps followed by the equi-join used here.
 */
import { InvalidArgumentError, batchSourceOf, viewColumns, type FeatureView, type ViewColumns } from '@larder/core';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { describeSource, selectable, type SourceTable } from './sources.ts';
import { ident, secondsAsNs } from './sql.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery extends ViewColumns {
  readonly view: FeatureView;
  readonly table: SourceTable;
}

export async function planViewQuery(
  connection: DuckDBConnection,
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
  repoPath: string,
): Promise<ViewQuery> {
  const source = batchSourceOf(view);
  const table = await describeSource(connection, source, repoPath);
  const columns = viewColumns(view, features, fullFeatureNames, [...table.columns.keys()], source.fileOptions?.uri ?? source.name);
  return { view, table, ...columns };
}

type Family = 'number' | 'string' | 'bool' | 'other';

export function duckdbFamily(type: DuckDBType): Family {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT: case DuckDBTypeId.SMALLINT: case DuckDBTypeId.INTEGER: case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT: case DuckDBTypeId.USMALLINT: case DuckDBTypeId.UINTEGER: case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.FLOAT: case DuckDBTypeId.DOUBLE: case DuckDBTypeId.DECIMAL: case DuckDBTypeId.HUGEINT:
      return 'number';
    case DuckDBTypeId.VARCHAR:
      return 'string';
    case DuckDBTypeId.BOOLEAN:
      return 'bool';
    default:
      return 'other';
  }
}

/** The uploaded entity table's key columns: entity column name → its column in `__entities`. */
export type EntityKeys = ReadonlyMap<string, { readonly column: string; readonly family: Family }>;

/** Refuses join keys the entity rows lack or whose kind of value cannot equal the source's. */
export function checkJoinKeys(query: ViewQuery, keys: EntityKeys, entityTypeOf: (name: string) => string): void {
  query.entityKeyNames.forEach((name, i) => {
    const key = keys.get(name);
    if (!key) {
      throw new InvalidArgumentError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
    }
    const sourceType = query.table.columns.get(query.keyColumns[i]!)!;
    if (duckdbFamily(sourceType) !== key.family) {
      throw new InvalidArgumentError(
        `Join key "${name}" of feature view ${query.view.name} cannot be matched: the entity dataframe has ${entityTypeOf(name)}, the source has ${sourceType}`,
      );
    }
  });
}

/**
 * The query returning, for every row of `__entities` in `__row` order, the `leading` expressions
 * (over `e`) and then each view's features.
 */
export function pointInTimeQuery(views: readonly ViewQuery[], keys: EntityKeys, leading: readonly string[] = []): string {
  const ctes = views.flatMap((q, v) => [`m${v} AS (${matchedTimestamps(q, keys)})`, `b${v} AS (${bestRows(q, v)})`]);
  const joins = views.map((_, v) => `LEFT JOIN b${v} ON b${v}.__row = e.__row`);
  const outputs = views.flatMap((q, v) => q.outputNames.map((name, f) => `b${v}.__best.f${f} AS ${ident(name)}`));
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${[...leading, ...outputs].join(', ')}`,
    'FROM __entities e',
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/**
 * Step 1: for each entity row, the greatest source timestamp ≤ T with its keys (an ASOF join over
 * just keys and timestamps), kept only when within the TTL.
 */
function matchedTimestamps(q: ViewQuery, keys: EntityKeys): string {
  const ts = `epoch_ns(${ident(q.timestampColumn)})`;
  const sourceKeys = q.keyColumns.map((raw, i) => `${ident(raw)} AS __k${i}`);
  const lower = q.view.ttlSeconds > 0 ? ` AND ${ts} >= (SELECT min(__ts) FROM __entities) - ${secondsAsNs(q.view.ttlSeconds)}` : '';
  const candidates = `SELECT ${[...sourceKeys, `${ts} AS __ts`].join(', ')} FROM ${q.table.relation} WHERE ${ts} <= (SELECT max(__ts) FROM __entities)${lower}`;
  const on = q.entityKeyNames.map((name, i) => `e.${ident(keys.get(name)!.column)} = s.__k${i}`);
  const fresh = q.view.ttlSeconds > 0 ? ` WHERE s.__ts >= e.__ts - ${secondsAsNs(q.view.ttlSeconds)}` : '';
  const selected = ['e.__row', ...q.keyColumns.map((_, i) => `s.__k${i}`), 's.__ts'];
  // DuckDB's ASOF join would match a null entity timestamp as if it were +∞: those rows never match.
  const entities = '(SELECT * FROM __entities WHERE __ts IS NOT NULL)';
  return `SELECT ${selected.join(', ')} FROM ${entities} e ASOF JOIN (${candidates}) s ON ${[...on, 'e.__ts >= s.__ts'].join(' AND ')}${fresh}`;
}

/**
 * Step 2: the source rows at each matched (keys, timestamp), reduced to the greatest by (created
 * with nulls lowest, source order) — backfills and full ties settled — carrying the features.
 */
function bestRows(q: ViewQuery, v: number): string {
  const created = q.createdColumn ? `coalesce(epoch_ns(f.${ident(q.createdColumn)}), -9223372036854775808)` : '0';
  const features = q.featureColumns.map((raw, i) => `'f${i}': ${selectable(q.table, raw, 'f')}`);
  const on = [...q.keyColumns.map((raw, i) => `f.${ident(raw)} = m.__k${i}`), `epoch_ns(f.${ident(q.timestampColumn)}) = m.__ts`];
  return [
    `SELECT m.__row, arg_max({${features.join(', ')}}, (${created}, ${q.table.rowOrder('f')})) AS __best`,
    `FROM m${v} m JOIN ${q.table.relation} f ON ${on.join(' AND ')}`,
    'GROUP BY m.__row',
  ].join(' ');
}
