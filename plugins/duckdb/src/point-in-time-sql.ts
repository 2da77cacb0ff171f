/**
 * The point-in-time rule of DESIGN.md as one DuckDB query over the uploaded entity rows.
 *
 * Per view: source rows are first reduced to one per (join keys, event timestamp) — the greatest
 * by (created with nulls lowest, source order), which settles backfills and full ties — and the
 * entity rows are then ASOF-joined to those (the last one with ts ≤ T). The TTL is checked on the
 * chosen row only: if it is too old, every earlier row is older still. Timestamps are compared
 * as nanoseconds since the epoch, so ns sources keep their precision.
 *
 * `bench/duckdb-pit-strategies.ts` measured this against join-then-rank with window functions:
 * the same answers, 10–20× faster (100k × 1M: 0.33 s vs 3.2 s; 1M × 10M: 3.6 s vs 73 s).
 */
import { InvalidArgumentError, nameToUse, type FeatureView } from '@larder/core';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import { describeSource, rawColumns, selectable, type SourceTable } from './sources.ts';
import { ident, secondsAsNs } from './sql.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery {
  readonly view: FeatureView;
  readonly table: SourceTable;
  readonly timestampColumn: string;
  readonly createdColumn: string | null;
  /** Raw source columns of the view's join keys, and the entity columns they match. */
  readonly keyColumns: readonly string[];
  readonly entityKeyNames: readonly string[];
  readonly featureColumns: readonly string[];
  readonly outputNames: readonly string[];
}

export async function planViewQuery(
  connection: DuckDBConnection,
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
  repoPath: string,
): Promise<ViewQuery> {
  const source = view.batchSource;
  if (!source) throw new InvalidArgumentError(`Feature view '${view.name}' has no batch_source and cannot be used for offline retrieval.`);
  const table = await describeSource(connection, source, repoPath);
  const what = `Feature view ${view.name}`;
  const [timestampColumn] = rawColumns(table, [source.timestampField], what);
  const createdColumn = source.createdTimestampColumn ? rawColumns(table, [source.createdTimestampColumn], what)[0]! : null;
  const keyColumns = rawColumns(table, view.entityColumns.map((c) => c.name), what);
  const entityKeyNames = view.entityColumns.map((c) => view.projection.joinKeyMap[c.name] ?? c.name);
  const featureColumns = rawColumns(table, features, what);
  const prefix = nameToUse(view.projection);
  const outputNames = features.map((f) => (fullFeatureNames ? `${prefix}__${f}` : f));
  return { view, table, timestampColumn: timestampColumn!, createdColumn, keyColumns, entityKeyNames, featureColumns, outputNames };
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
  const ctes = views.map((q, v) => `v${v} AS (${latestPerTimestamp(q)})`);
  const joins = views.map((q, v) => {
    const on = q.entityKeyNames.map((name, i) => `e.${ident(keys.get(name)!.column)} = v${v}.__k${i}`);
    return `ASOF LEFT JOIN v${v} ON ${[...on, `e.__ts >= v${v}.__ts`].join(' AND ')}`;
  });
  const outputs = views.flatMap((q, v) => {
    const fresh = q.view.ttlSeconds > 0 ? `v${v}.__ts >= e.__ts - ${secondsAsNs(q.view.ttlSeconds)}` : 'true';
    return q.outputNames.map((name, f) => `CASE WHEN ${fresh} THEN v${v}.__best.f${f} END AS ${ident(name)}`);
  });
  return [
    `WITH ${ctes.join(',\n')}`,
    `SELECT ${[...leading, ...outputs].join(', ')}`,
    'FROM __entities e',
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/** One row per (keys, ts) of a view's source, restricted to timestamps the entity rows can reach. */
function latestPerTimestamp(q: ViewQuery): string {
  const ts = `epoch_ns(${ident(q.timestampColumn)})`;
  const created = q.createdColumn ? `coalesce(epoch_ns(${ident(q.createdColumn)}), -9223372036854775808)` : '0';
  const features = q.featureColumns.map((raw, f) => `'f${f}': ${selectable(q.table, raw)}`);
  const keys = q.keyColumns.map((raw, i) => `${ident(raw)} AS __k${i}`);
  const lower = q.view.ttlSeconds > 0 ? ` AND ${ts} >= (SELECT min(__ts) FROM __entities) - ${secondsAsNs(q.view.ttlSeconds)}` : '';
  return [
    `SELECT ${[...keys, `${ts} AS __ts`, `arg_max({${features.join(', ')}}, (${created}, ${q.table.rowOrder})) AS __best`].join(', ')}`,
    `FROM ${q.table.relation}`,
    `WHERE ${ts} <= (SELECT max(__ts) FROM __entities)${lower}`,
    'GROUP BY ALL',
  ].join(' ');
}
