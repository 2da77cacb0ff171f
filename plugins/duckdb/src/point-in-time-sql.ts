/**
 * The requested views resolved against their DuckDB sources, and the checks of the entity rows'
 * join keys against them. The point-in-time query itself is point-in-time-query.ts.
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
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBTypeId, type DuckDBType } from '@duckdb/node-api';
import type { SourceFiles } from './source-files.ts';
import { assertNanosecondTimes, describeSource, duckdbColumnTypes, type SourceTable } from './sources.ts';

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
  sources: SourceFiles,
): Promise<ViewQuery> {
  const source = batchSourceOf(view);
  const table = await describeSource(connection, source, sources);
  const where = source.fileOptions?.uri ?? source.name;
  const columns = viewColumns(view, features, fullFeatureNames, [...table.columns.keys()], where);
  assertViewTimeColumns(view, columns, duckdbColumnTypes(table), where);
  await assertNanosecondTimes(
    connection,
    table,
    [
      ['timestamp_field', columns.timestampColumn],
      ['created_timestamp_column', columns.createdColumn],
    ],
    `Feature view ${view.name}`,
  );
  return { view, table, ...columns };
}

type Family = 'number' | 'string' | 'bool' | 'other';

export function duckdbFamily(type: DuckDBType): Family {
  switch (type.typeId) {
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT:
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
      throw new MissingColumnError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
    }
    const sourceType = query.table.columns.get(query.keyColumns[i]!)!;
    if (duckdbFamily(sourceType) !== key.family) {
      throw new InvalidArgumentError(
        `Join key "${name}" of feature view ${query.view.name} cannot be matched: the entity dataframe has ${entityTypeOf(name)}, the source has ${sourceType}`,
      );
    }
  });
}
