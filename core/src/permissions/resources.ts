/**
 * The registry objects a permission can protect, seen the way Feast's permission code sees
 * them: as instances of Python classes. Matching on a permission's `types` is `isinstance` (so a
 * subclass matches its base), and denial texts print the class name and module, so each
 * resource is mapped to the exact class Python would have decoded it into.
 */
import type { ResourceAccess } from '../hooks.ts';
import type { DataSource, Entity, PermissionResourceType } from '../registry/model.ts';

/** A protected object: what the offline server checks (hooks.ts) plus entities (registry CRUD). */
export type ProtectedResource = ResourceAccess['resource'] | { readonly kind: 'entity'; readonly object: Entity };

/** A Python class, by module and name. */
export interface PythonClass {
  readonly module: string;
  readonly name: string;
  /** The permission types this class is an instance of (its own type and its bases'). */
  readonly types: readonly PermissionResourceType[];
}

const FEATURE_VIEW: PythonClass = { module: 'feast.feature_view', name: 'FeatureView', types: ['FEATURE_VIEW'] };
// Both are subclasses of FeatureView; OnDemandFeatureView is not (it derives from BaseFeatureView).
const BATCH_FEATURE_VIEW: PythonClass = {
  module: 'feast.batch_feature_view',
  name: 'BatchFeatureView',
  types: ['FEATURE_VIEW', 'BATCH_FEATURE_VIEW'],
};
const STREAM_FEATURE_VIEW: PythonClass = {
  module: 'feast.stream_feature_view',
  name: 'StreamFeatureView',
  types: ['FEATURE_VIEW', 'STREAM_FEATURE_VIEW'],
};
const FEATURE_SERVICE: PythonClass = { module: 'feast.feature_service', name: 'FeatureService', types: ['FEATURE_SERVICE'] };
const ENTITY: PythonClass = { module: 'feast.entity', name: 'Entity', types: ['ENTITY'] };

/** Python's `DataSource.from_proto` dispatch: the class fixed by each non-custom SourceType. */
const SOURCE_CLASS_BY_TYPE: Readonly<Record<string, string>> = {
  BATCH_FILE: 'feast.infra.offline_stores.file_source.FileSource',
  BATCH_BIGQUERY: 'feast.infra.offline_stores.bigquery_source.BigQuerySource',
  BATCH_REDSHIFT: 'feast.infra.offline_stores.redshift_source.RedshiftSource',
  BATCH_SNOWFLAKE: 'feast.infra.offline_stores.snowflake_source.SnowflakeSource',
  BATCH_TRINO: 'feast.infra.offline_stores.contrib.trino_offline_store.trino_source.TrinoSource',
  BATCH_SPARK: 'feast.infra.offline_stores.contrib.spark_offline_store.spark_source.SparkSource',
  BATCH_ATHENA: 'feast.infra.offline_stores.contrib.athena_offline_store.athena_source.AthenaSource',
  BATCH_ICEBERG: 'feast.infra.data_sources.contrib.iceberg_catalog.iceberg_source.IcebergSource',
  STREAM_KAFKA: 'feast.data_source.KafkaSource',
  STREAM_KINESIS: 'feast.data_source.KinesisSource',
  REQUEST_SOURCE: 'feast.data_source.RequestSource',
  PUSH_SOURCE: 'feast.data_source.PushSource',
};

/** The base class, named when a source's concrete class cannot be told (it still is a DataSource). */
const BASE_DATA_SOURCE = 'feast.data_source.DataSource';

/** The concrete Python class of a data source, as `DataSource.from_proto` would choose it. */
export function dataSourceClassPath(source: DataSource): string {
  // CUSTOM_SOURCE imports the class named in the proto; Iceberg also honours it (UnityCatalogSource).
  if (source.type === 'CUSTOM_SOURCE' || source.type === 'BATCH_ICEBERG') {
    if (isClassPath(source.dataSourceClassType)) return source.dataSourceClassType;
  }
  return SOURCE_CLASS_BY_TYPE[source.type] ?? (isClassPath(source.dataSourceClassType) ? source.dataSourceClassType : BASE_DATA_SOURCE);
}

function isClassPath(s: string): boolean {
  return /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$/.test(s);
}

/** The Python class of a protected resource. */
export function pythonClassOf(resource: ProtectedResource): PythonClass {
  switch (resource.kind) {
    case 'featureView':
      if (resource.object.kind === 'streamFeatureView') return STREAM_FEATURE_VIEW;
      return resource.object.batchFeatureView ? BATCH_FEATURE_VIEW : FEATURE_VIEW;
    case 'featureService':
      return FEATURE_SERVICE;
    case 'entity':
      return ENTITY;
    case 'dataSource': {
      // Every concrete source class is a subclass of feast.data_source.DataSource.
      const path = dataSourceClassPath(resource.object);
      const dot = path.lastIndexOf('.');
      return { module: path.slice(0, dot), name: path.slice(dot + 1), types: ['DATA_SOURCE'] };
    }
    default:
      // Not a Feast object: an instance of no permission type.
      return { module: 'builtins', name: 'object', types: [] };
  }
}

/** Python's `repr(type(obj))`: `<class 'feast.feature_view.FeatureView'>`. */
export function pythonClassRepr(cls: PythonClass): string {
  return `<class '${cls.module}.${cls.name}'>`;
}

/** `isinstance(resource, <class of type>)`: a subclass instance matches its base's type. */
export function isInstanceOfType(resource: ProtectedResource, type: PermissionResourceType): boolean {
  return pythonClassOf(resource).types.includes(type);
}

/** The resource's name, or `null` when it has none (a name filter then does not apply, as in Feast). */
export function resourceName(resource: ProtectedResource): string | null {
  const name: unknown = (resource.object as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : null;
}

/**
 * The resource's user tags. Entities are decoded without tags in the current model, so they have
 * none: a permission with `required_tags` never matches an entity (the safe side).
 */
export function resourceTags(resource: ProtectedResource): Readonly<Record<string, string>> {
  const tags: unknown = (resource.object as { tags?: unknown } | undefined)?.tags;
  return tags !== null && typeof tags === 'object' ? (tags as Record<string, string>) : {};
}
