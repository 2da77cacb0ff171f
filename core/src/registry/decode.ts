/**
 * Registry bytes → decoded protobuf messages → the plain model objects of model.ts.
 *
 * The conversions mirror Feast's Python `from_proto` methods where larder's behaviour depends on
 * them (see shared/spec/feast-registry.md §2–§3): TTL zero/unset means "no TTL", an empty alias
 * means "no alias", a view loaded from the registry carries its default projection, an empty
 * policy means allow-all. Everything returned is deep-frozen: a snapshot is shared by concurrent
 * requests, so nothing a request does may leak into another.
 */
import type protobuf from 'protobufjs';
import type {
  AuthzedAction,
  DataSource,
  Entity,
  FeatureService,
  FeatureView,
  FeatureViewProjection,
  Field,
  FileFormat,
  LoggingConfig,
  OnDemandFeatureView,
  OnDemandSource,
  Permission,
  PermissionResourceType,
  Policy,
} from './model.ts';
import {
  enumName,
  int64ToNumber,
  registryTypes,
  type PbDataSource,
  type PbDuration,
  type PbEntity,
  type PbFeatureService,
  type PbFeatureSpec,
  type PbFileFormat,
  type PbLoggingConfig,
  type PbMap,
  type PbOnDemandFeatureView,
  type PbOnDemandSource,
  type PbPermission,
  type PbPolicy,
  type PbProject,
  type PbProjection,
  type PbRegistry,
  type PbTimestamp,
  type PbView,
} from './proto.ts';
import { repeatedFieldBytes } from './raw-fields.ts';

/** Feast's internal column tags (feast/field.py); Python removes them from the user tags. */
export const STRUCT_SCHEMA_TAG = 'feast:struct_schema';
export const NESTED_INNER_TYPE_TAG = 'feast:nested_inner_type';

const VALUE_TYPE_STRUCT = 34;
const VALUE_TYPE_STRUCT_LIST = 35;
const VALUE_TYPE_VALUE_LIST = 42;
const VALUE_TYPE_VALUE_SET = 43;

export interface ProjectInfo {
  readonly name: string;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** Everything larder reads from one registry file, in registry order. */
export interface DecodedRegistry {
  /** `"1"` in every registry Feast writes; `""` when absent. */
  readonly registrySchemaVersion: string;
  /** UUID of the last write (`""` when absent). */
  readonly versionId: string;
  readonly lastUpdated: Date | null;
  readonly entities: readonly Entity[];
  readonly dataSources: readonly DataSource[];
  /** `feature_views`, each with its default projection. */
  readonly featureViews: readonly FeatureView[];
  readonly streamFeatureViews: readonly FeatureView[];
  readonly onDemandFeatureViews: readonly OnDemandFeatureView[];
  readonly featureServices: readonly FeatureService[];
  readonly permissions: readonly Permission[];
  readonly projects: readonly ProjectInfo[];
}

/** Parses raw registry bytes (a serialized `feast.core.Registry`); throws on malformed input. */
export function decodeRegistryMessage(bytes: Uint8Array): PbRegistry {
  const { Registry } = registryTypes();
  return Registry.decode(bytes) as unknown as PbRegistry;
}

/** Raw registry bytes → model objects. Throws on malformed protobuf. */
export function decodeRegistry(bytes: Uint8Array): DecodedRegistry {
  return registryFromMessage(decodeRegistryMessage(bytes), repeatedFieldBytes(bytes, ON_DEMAND_FEATURE_VIEWS_FIELD));
}

/** `Registry.on_demand_feature_views`. */
const ON_DEMAND_FEATURE_VIEWS_FIELD = 8;

/** `rawOnDemandViews`: each on-demand view's own bytes, in the order of `m.on_demand_feature_views`. */
export function registryFromMessage(m: PbRegistry, rawOnDemandViews: readonly Uint8Array[] = []): DecodedRegistry {
  return deepFreeze({
    registrySchemaVersion: m.registry_schema_version ?? '',
    versionId: m.version_id ?? '',
    lastUpdated: timestampToDate(m.last_updated),
    entities: (m.entities ?? []).map(entityFromMessage),
    dataSources: (m.data_sources ?? []).map(dataSourceFromMessage),
    featureViews: (m.feature_views ?? []).map((v) => featureViewFromMessage(v, 'featureView')),
    streamFeatureViews: (m.stream_feature_views ?? []).map((v) => featureViewFromMessage(v, 'streamFeatureView')),
    onDemandFeatureViews: (m.on_demand_feature_views ?? []).map((v, i) => onDemandFeatureViewFromMessage(v, rawOnDemandViews[i])),
    featureServices: (m.feature_services ?? []).map(featureServiceFromMessage),
    permissions: (m.permissions ?? []).map(permissionFromMessage),
    projects: (m.projects ?? []).map(projectFromMessage),
  });
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

/** A Duration as (possibly fractional) seconds; unset is 0, which Feast treats as "no TTL". */
export function durationToSeconds(d: PbDuration | null | undefined): number {
  if (!d) return 0;
  return int64ToNumber(d.seconds) + (d.nanos ?? 0) / 1e9;
}

export function timestampToDate(t: PbTimestamp | null | undefined): Date | null {
  if (!t) return null;
  return new Date(int64ToNumber(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

function map(m: PbMap | null | undefined): Record<string, string> {
  return { ...(m ?? {}) };
}

/** The member of a oneof that is set, by looking at the members (works for plain objects too). */
function whichOneof<K extends string>(m: object, members: readonly K[]): K | undefined {
  const record = m as Record<string, unknown>;
  return members.find((k) => record[k] !== null && record[k] !== undefined);
}

// ---------------------------------------------------------------------------------------------
// Columns, sources, views
// ---------------------------------------------------------------------------------------------

/** `FeatureSpecV2` → Field, splitting Feast's internal type tags off the user tags like `Field.from_proto`. */
export function fieldFromMessage(m: PbFeatureSpec): Field {
  const valueType = m.value_type ?? 0;
  const { [STRUCT_SCHEMA_TAG]: structSchema, [NESTED_INNER_TYPE_TAG]: nestedInnerType, ...tags } = map(m.tags);
  const field: { -readonly [K in keyof Field]: Field[K] } = {
    name: m.name ?? '',
    valueType,
    tags,
    description: m.description ?? '',
    vectorIndex: m.vector_index ?? false,
    vectorLength: m.vector_length ?? 0,
    vectorSearchMetric: m.vector_search_metric ?? '',
  };
  // The tags only shape the type of these value types; Python ignores them elsewhere.
  if (structSchema !== undefined && (valueType === VALUE_TYPE_STRUCT || valueType === VALUE_TYPE_STRUCT_LIST)) {
    field.structSchema = structSchema;
  }
  if (nestedInnerType !== undefined && (valueType === VALUE_TYPE_VALUE_LIST || valueType === VALUE_TYPE_VALUE_SET)) {
    field.nestedInnerType = nestedInnerType;
  }
  return field;
}

function fileFormatFromMessage(f: PbFileFormat | null | undefined): FileFormat {
  if (!f) return undefined;
  switch (whichOneof(f, ['parquet_format', 'delta_format'] as const)) {
    case 'parquet_format':
      return 'parquet';
    case 'delta_format':
      return 'delta';
    default:
      return undefined;
  }
}

/** Name of a SourceType number; a number Feast added after our .proto stays visible as its digits. */
export function sourceTypeName(type: number): string {
  return enumName(registryTypes().SourceType, type) ?? String(type);
}

export function dataSourceFromMessage(m: PbDataSource): DataSource {
  const source: { -readonly [K in keyof DataSource]: DataSource[K] } = {
    name: m.name ?? '',
    project: m.project ?? '',
    type: sourceTypeName(m.type ?? 0),
    dataSourceClassType: m.data_source_class_type ?? '',
    timestampField: m.timestamp_field ?? '',
    createdTimestampColumn: m.created_timestamp_column ?? '',
    datePartitionColumn: m.date_partition_column ?? '',
    fieldMapping: map(m.field_mapping),
    description: m.description ?? '',
    owner: m.owner ?? '',
    tags: map(m.tags),
  };
  if (m.file_options) {
    source.fileOptions = {
      uri: m.file_options.uri ?? '',
      fileFormat: fileFormatFromMessage(m.file_options.file_format),
      s3EndpointOverride: m.file_options.s3_endpoint_override ?? '',
    };
  }
  if (m.trino_options) {
    source.trinoOptions = { table: m.trino_options.table ?? '', query: m.trino_options.query ?? '' };
  }
  if (m.custom_options) {
    // Copy: protobufjs hands out views into the whole file buffer, which must not stay alive
    // (or be mutable) through the model.
    source.customConfiguration = Uint8Array.from(m.custom_options.configuration ?? []);
  }
  if (m.batch_source) source.batchSource = dataSourceFromMessage(m.batch_source);
  return source;
}

/** Feast's default projection of a view loaded from the registry (FeatureViewProjection.from_feature_view_definition). */
export function defaultProjection(name: string, features: readonly Field[]): FeatureViewProjection {
  return { name, nameAlias: null, features, joinKeyMap: {}, versionTag: null };
}

export function featureViewFromMessage(m: PbView, kind: FeatureView['kind']): FeatureView {
  const spec = m.spec ?? {};
  const name = spec.name ?? '';
  const features = (spec.features ?? []).map(fieldFromMessage);
  const view: { -readonly [K in keyof FeatureView]: FeatureView[K] } = {
    kind,
    name,
    project: spec.project ?? '',
    entities: [...(spec.entities ?? [])],
    features,
    entityColumns: (spec.entity_columns ?? []).map(fieldFromMessage),
    ttlSeconds: durationToSeconds(spec.ttl),
    tags: map(spec.tags),
    projection: defaultProjection(name, features),
    batchFeatureView: kind === 'featureView' && !!spec.feature_transformation,
  };
  if (spec.batch_source) view.batchSource = dataSourceFromMessage(spec.batch_source);
  if (spec.stream_source) view.streamSource = dataSourceFromMessage(spec.stream_source);
  return view;
}

export function projectionFromMessage(m: PbProjection): FeatureViewProjection {
  return {
    name: m.feature_view_name ?? '',
    nameAlias: m.feature_view_name_alias ? m.feature_view_name_alias : null,
    features: (m.feature_columns ?? []).map(fieldFromMessage),
    joinKeyMap: map(m.join_key_map),
    // proto3 `optional`: protobufjs leaves an absent field at null, a present one (even 0) a number.
    versionTag: typeof m.version_tag === 'number' ? m.version_tag : null,
  };
}

/** `LoggingConfig.from_proto`: no destination means no logging config at all. */
export function loggingConfigFromMessage(m: PbLoggingConfig | null | undefined): LoggingConfig | null {
  if (!m) return null;
  const members = [
    'file_destination',
    'bigquery_destination',
    'redshift_destination',
    'snowflake_destination',
    'custom_destination',
    'athena_destination',
    'couchbase_columnar_destination',
  ] as const;
  const kind = whichOneof(m, members);
  if (kind === undefined) return null;
  const config: { -readonly [K in keyof LoggingConfig]: LoggingConfig[K] } = {
    sampleRate: m.sample_rate ?? 0,
    // Python resolves a custom destination by its `kind`, the others by the oneof member name.
    destinationKind: kind === 'custom_destination' ? (m.custom_destination?.kind ?? '') : kind,
  };
  if (kind === 'custom_destination' && m.custom_destination) {
    config.customConfig = Object.fromEntries(Object.entries(m.custom_destination.config ?? {}).map(([k, v]) => [k, String(v)]));
  }
  if (kind === 'file_destination' && m.file_destination) {
    config.fileDestination = {
      path: m.file_destination.path ?? '',
      s3EndpointOverride: m.file_destination.s3_endpoint_override ?? '',
      partitionBy: [...(m.file_destination.partition_by ?? [])],
    };
  }
  return config;
}

export function featureServiceFromMessage(m: PbFeatureService): FeatureService {
  const spec = m.spec ?? {};
  return {
    name: spec.name ?? '',
    project: spec.project ?? '',
    projections: (spec.features ?? []).map(projectionFromMessage),
    loggingConfig: loggingConfigFromMessage(spec.logging_config),
    tags: map(spec.tags),
  };
}

/**
 * `raw` is the message's own bytes when the caller has them (a registry file's slice, a SQL row);
 * otherwise the decoded message is encoded again, which keeps every field larder's .proto declares.
 */
export function onDemandFeatureViewFromMessage(m: PbOnDemandFeatureView, raw?: Uint8Array): OnDemandFeatureView {
  const spec = m.spec ?? {};
  return {
    name: spec.name ?? '',
    project: spec.project ?? '',
    features: (spec.features ?? []).map(fieldFromMessage),
    mode: spec.mode ?? '',
    sources: Object.entries(spec.sources ?? {}).map(([key, source]) => onDemandSourceFromMessage(key, source)),
    // A copy: a slice of the whole registry buffer must not keep that buffer alive.
    proto: raw
      ? Uint8Array.from(raw)
      : registryTypes()
          .OnDemandFeatureView.encode(m as never)
          .finish(),
  };
}

/** `OnDemandFeatureView.from_proto`'s reading of one source: a view (or its projection), or a RequestSource. */
function onDemandSourceFromMessage(key: string, m: PbOnDemandSource): OnDemandSource {
  if (m.feature_view_projection) return { kind: 'featureView', projection: projectionFromMessage(m.feature_view_projection) };
  if (m.feature_view) return { kind: 'featureView', projection: featureViewFromMessage(m.feature_view, 'featureView').projection };
  const request = m.request_data_source ?? {};
  return { kind: 'request', name: request.name || key, schema: (request.request_data_options?.schema ?? []).map(fieldFromMessage) };
}

export function entityFromMessage(m: PbEntity): Entity {
  const spec = m.spec ?? {};
  return {
    name: spec.name ?? '',
    project: spec.project ?? '',
    joinKey: spec.join_key ?? '',
    valueType: spec.value_type ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Permissions
// ---------------------------------------------------------------------------------------------

/**
 * Name of a permission enum number. An unknown number (a newer Feast) becomes `UNKNOWN_<n>`
 * rather than being dropped: dropping the only type of a permission would turn it into an
 * "all types" permission.
 */
function permissionEnumName<T extends string>(e: protobuf.Enum, value: number): T {
  return (enumName(e, value) ?? `UNKNOWN_${value}`) as T;
}

/** `Policy.from_proto`, except that an empty policy (how Feast serializes AllowAll) is allow-all. */
export function policyFromMessage(m: PbPolicy | null | undefined): Policy {
  if (!m) return { kind: 'allow_all' };
  const kind = whichOneof(m, [
    'role_based_policy',
    'group_based_policy',
    'namespace_based_policy',
    'combined_group_namespace_policy',
  ] as const);
  switch (kind) {
    case 'role_based_policy':
      return { kind: 'role', roles: [...(m.role_based_policy?.roles ?? [])] };
    case 'group_based_policy':
      return { kind: 'group', groups: [...(m.group_based_policy?.groups ?? [])] };
    case 'namespace_based_policy':
      return { kind: 'namespace', namespaces: [...(m.namespace_based_policy?.namespaces ?? [])] };
    case 'combined_group_namespace_policy':
      return {
        kind: 'combined',
        groups: [...(m.combined_group_namespace_policy?.groups ?? [])],
        namespaces: [...(m.combined_group_namespace_policy?.namespaces ?? [])],
      };
    default:
      return { kind: 'allow_all' };
  }
}

export function permissionFromMessage(m: PbPermission): Permission {
  const spec = m.spec ?? {};
  const { PermissionType, AuthzedAction } = registryTypes();
  return {
    name: spec.name ?? '',
    project: spec.project ?? '',
    types: (spec.types ?? []).map((t) => permissionEnumName<PermissionResourceType>(PermissionType, t)),
    // Permission.__init__ strips every pattern.
    namePatterns: (spec.name_patterns ?? []).map((p) => p.trim()),
    requiredTags: map(spec.required_tags),
    actions: (spec.actions ?? []).map((a) => permissionEnumName<AuthzedAction>(AuthzedAction, a)),
    policy: policyFromMessage(spec.policy),
    tags: map(spec.tags),
  };
}

function projectFromMessage(m: PbProject): ProjectInfo {
  const spec = m.spec ?? {};
  return { name: spec.name ?? '', description: spec.description ?? '', owner: spec.owner ?? '', tags: map(spec.tags) };
}

// ---------------------------------------------------------------------------------------------

/** Freezes a decoded tree. Typed arrays cannot be frozen and are copies already. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
