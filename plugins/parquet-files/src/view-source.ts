/**
 * A feature view's source as the point-in-time join needs it: field_mapping applied (the view's
 * names are the mapped ones), only the needed columns read, row group by row group.
 */
import { InvalidArgumentError, nameToUse, type DataSource, type FeatureView } from '@larder/core';
import type { Schema } from 'apache-arrow';
import { readParquetSchema, readRowGroups } from './parquet-read.ts';
import { sourcePath } from './source-paths.ts';

/** The raw (file) column holding each mapped name, as Feast renames source columns forward. */
export function rawColumnsFor(source: DataSource, schema: Schema, mappedNames: readonly string[], what: string): string[] {
  const mapped = new Map<string, string>();
  for (const field of schema.fields) mapped.set(source.fieldMapping[field.name] ?? field.name, field.name);
  return mappedNames.map((name) => {
    const raw = mapped.get(name);
    if (raw === undefined) {
      throw new InvalidArgumentError(
        `${what}: column "${name}" is not in its source ${source.fileOptions?.uri ?? source.name} (columns: ${schema.fields.map((f) => f.name).join(', ')})`,
      );
    }
    return raw;
  });
}

export interface ViewPlan {
  readonly view: FeatureView;
  readonly source: DataSource;
  readonly location: string;
  readonly schema: Schema;
  readonly timestampColumn: string;
  readonly createdColumn: string | null;
  /** Raw columns of the view's join keys (mapped names: view.entityColumns). */
  readonly keyColumns: readonly string[];
  /** Raw columns of the requested features, and their output names. */
  readonly featureColumns: readonly string[];
  readonly outputNames: readonly string[];
}

export async function planView(view: FeatureView, features: readonly string[], fullFeatureNames: boolean, repoPath: string): Promise<ViewPlan> {
  const source = view.batchSource;
  if (!source) {
    throw new InvalidArgumentError(`Feature view '${view.name}' has no batch_source and cannot be used for offline retrieval.`);
  }
  const location = sourcePath(source, repoPath);
  const schema = await readParquetSchema(location);
  const what = `Feature view ${view.name}`;
  const [timestampColumn] = rawColumnsFor(source, schema, [source.timestampField], what);
  const createdColumn = source.createdTimestampColumn
    ? rawColumnsFor(source, schema, [source.createdTimestampColumn], what)[0]!
    : null;
  const keyColumns = rawColumnsFor(source, schema, view.entityColumns.map((c) => c.name), what);
  const featureColumns = rawColumnsFor(source, schema, features, what);
  const prefix = nameToUse(view.projection);
  const outputNames = features.map((f) => (fullFeatureNames ? `${prefix}__${f}` : f));
  return { view, source, location, schema, timestampColumn: timestampColumn!, createdColumn, keyColumns, featureColumns, outputNames };
}

/** Row groups of a view's source with just the columns the join needs. */
export function readViewRowGroups(plan: ViewPlan, signal?: AbortSignal) {
  const columns = [...new Set([plan.timestampColumn, ...(plan.createdColumn ? [plan.createdColumn] : []), ...plan.keyColumns, ...plan.featureColumns])];
  return readRowGroups(plan.location, columns, signal);
}
