/**
 * A feature view's source as the point-in-time join needs it: field_mapping applied (the view's
 * names are the mapped ones), only the needed columns read, row group by row group.
 */
import { batchSourceOf, viewColumns, type DataSource, type FeatureView, type ViewColumns } from '@larder/core';
import type { Schema } from 'apache-arrow';
import { readParquetSchema, readRowGroups } from './parquet-read.ts';
import { sourcePath } from './source-paths.ts';

export interface ViewPlan extends ViewColumns {
  readonly view: FeatureView;
  readonly source: DataSource;
  readonly location: string;
  readonly schema: Schema;
}

export async function planView(view: FeatureView, features: readonly string[], fullFeatureNames: boolean, repoPath: string): Promise<ViewPlan> {
  const source = batchSourceOf(view);
  const location = sourcePath(source, repoPath);
  const schema = await readParquetSchema(location);
  const columns = viewColumns(view, features, fullFeatureNames, schema.fields.map((f) => f.name), source.fileOptions?.uri ?? source.name);
  return { view, source, location, schema, ...columns };
}

/** Row groups of a view's source with just the columns the join needs. */
export function readViewRowGroups(plan: ViewPlan, signal?: AbortSignal) {
  const columns = [...new Set([plan.timestampColumn, ...(plan.createdColumn ? [plan.createdColumn] : []), ...plan.keyColumns, ...plan.featureColumns])];
  return readRowGroups(plan.location, columns, signal);
}
