/** Registry objects for store tests: a parquet FileSource, a PostgreSQLSource, and a feature view over one. */
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';

/** A FileSource in project `p` with timestamp `ts` and created column `created` unless overridden. */
export function fileSource(name: string, uri: string, extra: Partial<DataSource> = {}): DataSource {
  return {
    name,
    project: 'p',
    type: 'BATCH_FILE',
    dataSourceClassType: '',
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    datePartitionColumn: '',
    fieldMapping: {},
    description: '',
    owner: '',
    tags: {},
    fileOptions: { uri, fileFormat: 'parquet', s3EndpointOverride: '' },
    ...extra,
  };
}

/** A PostgreSQLSource as Feast stores it (CUSTOM_SOURCE, JSON options), over a table or a query. */
export function postgresSource(name: string, relation: { table?: string; query?: string }, extra: Partial<DataSource> = {}): DataSource {
  const configuration = JSON.stringify({ name, query: relation.query ?? '', table: relation.table ?? '' });
  return {
    name,
    project: 'p',
    type: 'CUSTOM_SOURCE',
    dataSourceClassType: 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource',
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    datePartitionColumn: '',
    fieldMapping: {},
    description: '',
    owner: '',
    tags: {},
    customConfiguration: new TextEncoder().encode(configuration),
    ...extra,
  };
}

/** The class path Feast records for a TrinoSource (`data_source_class_type`). */
export const TRINO_SOURCE_CLASS = 'feast.infra.offline_stores.contrib.trino_offline_store.trino_source.TrinoSource';

/** A TrinoSource as Feast stores it (BATCH_TRINO, trino_options), over a table or a query. */
export function trinoSource(name: string, relation: { table?: string; query?: string }, extra: Partial<DataSource> = {}): DataSource {
  return {
    name,
    project: 'p',
    type: 'BATCH_TRINO',
    dataSourceClassType: TRINO_SOURCE_CLASS,
    timestampField: 'event_timestamp',
    createdTimestampColumn: '',
    datePartitionColumn: '',
    fieldMapping: {},
    description: '',
    owner: '',
    tags: {},
    trinoOptions: { table: relation.table ?? '', query: relation.query ?? '' },
    ...extra,
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
    kind: 'featureView',
    name,
    project: 'p',
    entities: keys,
    features: fields,
    entityColumns: keys.map((k) => ({ name: k, valueType: 4, tags: {} })),
    ttlSeconds,
    batchSource: src,
    tags: {},
    projection: { name, nameAlias: null, features: fields, joinKeyMap: {}, versionTag: null, ...projection },
  };
}
