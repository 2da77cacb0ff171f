/**
 * A feature view's source as the point-in-time join needs it: field_mapping applied (the view's
 * names are the mapped ones), only the needed columns read, row group by row group.
 */
import { assertViewTimeColumns, batchSourceOf, viewColumns, type DataSource, type FeatureView, type ViewColumns } from '@larder/core';
import type { Schema } from 'apache-arrow';
import { readParquetSchema, readRowGroups } from './parquet-read.ts';
import type { SourceLocation, SourceLocator } from './source-paths.ts';
import { arrowColumnTypes } from './timestamps.ts';

export interface ViewPlan extends ViewColumns {
  readonly view: FeatureView;
  readonly source: DataSource;
  readonly location: SourceLocation;
  readonly schema: Schema;
}

export async function planView(
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
  locator: SourceLocator,
): Promise<ViewPlan> {
  const source = batchSourceOf(view);
  const location = locator.locate(source);
  const schema = await readParquetSchema(location);
  const where = source.fileOptions?.uri ?? source.name;
  const columns = viewColumns(
    view,
    features,
    fullFeatureNames,
    schema.fields.map((f) => f.name),
    where,
  );
  assertViewTimeColumns(view, columns, arrowColumnTypes(schema), where);
  return { view, source, location, schema, ...columns };
}

/** Row groups of a view's source with just the columns the join needs. */
export function readViewRowGroups(plan: ViewPlan, signal?: AbortSignal) {
  return readGroupRowGroups([plan], signal);
}

/** Row groups of the source that several views share, with the columns all of them need. */
export function readGroupRowGroups(plans: readonly ViewPlan[], signal?: AbortSignal) {
  const first = plans[0]!;
  const columns = [
    ...new Set([
      first.timestampColumn,
      ...(first.createdColumn ? [first.createdColumn] : []),
      ...first.keyColumns,
      ...plans.flatMap((p) => p.featureColumns),
    ]),
  ];
  return readRowGroups(first.location, columns, signal);
}
