/** Registry objects for store tests: a parquet FileSource and a feature view over it. */
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';

/** A FileSource in project `p` with timestamp `ts` and created column `created` unless overridden. */
export function fileSource(name: string, uri: string, extra: Partial<DataSource> = {}): DataSource {
  return {
    name, project: 'p', type: 'BATCH_FILE', dataSourceClassType: '', timestampField: 'ts', createdTimestampColumn: 'created',
    datePartitionColumn: '', fieldMapping: {}, description: '', owner: '', tags: {},
    fileOptions: { uri, fileFormat: 'parquet', s3EndpointOverride: '' }, ...extra,
  };
}

/** A feature view over `src` with int64 join keys, as core hands it to a store. */
export function featureView(
  name: string,
  src: DataSource,
  keys: string[],
  features: string[],
  ttlSeconds: number,
  projection: Partial<FeatureView['projection']> = {},
): FeatureView {
  const fields = features.map((f) => ({ name: f, valueType: 5, tags: {} }));
  return {
    kind: 'featureView', name, project: 'p', entities: keys, features: fields,
    entityColumns: keys.map((k) => ({ name: k, valueType: 4, tags: {} })), ttlSeconds, batchSource: src, tags: {},
    projection: { name, nameAlias: null, features: fields, joinKeyMap: {}, versionTag: null, ...projection },
  };
}
