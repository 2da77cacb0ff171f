/**
 * The protobuf schema of Feast's registry: our trimmed .proto files (core/proto/feast/*.proto), as
 * the protobufjs JSON descriptor the build makes of them (core/proto/feast-registry.json, by
 * scripts/generate-proto-descriptors.js), loaded once with protobufjs. Parsing the .proto text at
 * every start took ~25 ms.
 *
 * Fields keep their proto (snake_case) names (`keepCase`), so decoded messages read like the spec's
 * field tables. protobufjs keeps enum numbers it does not know, leaves unset message fields as
 * `null`, exposes the name of the set member of a oneof as `message.<oneofName>`, and reports
 * explicit presence (proto3 `optional`) as an own property; decode.ts relies on all of that.
 */
import { loadDescriptor } from '@larder/flight';
import type protobuf from 'protobufjs';

/** core/proto/feast/*.proto as a protobufjs JSON descriptor, written by the build. */
const DESCRIPTOR_URL = new URL('../../proto/feast-registry.json', import.meta.url);

export interface RegistryTypes {
  readonly root: protobuf.Root;
  readonly Registry: protobuf.Type;
  readonly DataSource: protobuf.Type;
  readonly OnDemandFeatureView: protobuf.Type;
  readonly SourceType: protobuf.Enum;
  readonly ValueType: protobuf.Enum;
  readonly PermissionType: protobuf.Enum;
  readonly AuthzedAction: protobuf.Enum;
}

let cached: RegistryTypes | undefined;

/** The loaded registry types (read on first use, then shared). */
export function registryTypes(): RegistryTypes {
  if (cached) return cached;
  const root = loadDescriptor(DESCRIPTOR_URL);
  cached = {
    root,
    Registry: root.lookupType('feast.core.Registry'),
    DataSource: root.lookupType('feast.core.DataSource'),
    OnDemandFeatureView: root.lookupType('feast.core.OnDemandFeatureView'),
    SourceType: root.lookupEnum('feast.core.DataSource.SourceType'),
    ValueType: root.lookupEnum('feast.types.ValueType.Enum'),
    PermissionType: root.lookupEnum('feast.core.PermissionSpec.Type'),
    AuthzedAction: root.lookupEnum('feast.core.PermissionSpec.AuthzedAction'),
  };
  return cached;
}

/** The enum's name for `value`, or `undefined` for a number the enum does not declare. */
export function enumName(e: protobuf.Enum, value: number): string | undefined {
  return e.valuesById[value];
}

/** The number for an enum name, or `undefined` if the enum has no such name. */
export function enumValue(e: protobuf.Enum, name: string): number | undefined {
  return Object.hasOwn(e.values, name) ? e.values[name] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Message shapes, as protobufjs decodes them (keepCase) and as `Type.fromObject` accepts them.
// Every field is optional so the same shapes describe both decoded messages (where unset message
// fields are null) and the partial objects encode.ts and data-source-json.ts build. Enums are
// numbers; int64 values may arrive as protobufjs `Long`s.
// ---------------------------------------------------------------------------------------------

/** An int64 as protobufjs hands it over: a number, a Long (when `long` is installed) or a string. */
export type PbInt64 = number | string | { toNumber(): number };

export interface PbTimestamp {
  seconds?: PbInt64 | null;
  nanos?: number | null;
}

export type PbDuration = PbTimestamp;

export type PbMap = Record<string, string>;

export interface PbFeatureSpec {
  name?: string;
  value_type?: number;
  tags?: PbMap;
  description?: string;
  vector_index?: boolean;
  vector_search_metric?: string;
  vector_length?: number;
}

export interface PbFileFormat {
  parquet_format?: Record<string, never> | null;
  delta_format?: { checkpoint_location?: string; properties?: PbMap } | null;
  format?: 'parquet_format' | 'delta_format';
}

export interface PbSourceMeta {
  earliestEventTimestamp?: PbTimestamp | null;
  latestEventTimestamp?: PbTimestamp | null;
  created_timestamp?: PbTimestamp | null;
  last_updated_timestamp?: PbTimestamp | null;
}

export interface PbDataSource {
  name?: string;
  project?: string;
  description?: string;
  tags?: PbMap;
  owner?: string;
  type?: number;
  field_mapping?: PbMap;
  timestamp_field?: string;
  date_partition_column?: string;
  created_timestamp_column?: string;
  timestamp_field_type?: string;
  data_source_class_type?: string;
  batch_source?: PbDataSource | null;
  meta?: PbSourceMeta | null;
  file_options?: { file_format?: PbFileFormat | null; uri?: string; s3_endpoint_override?: string } | null;
  custom_options?: { configuration?: Uint8Array } | null;
  trino_options?: { table?: string; query?: string } | null;
  request_data_options?: { schema?: PbFeatureSpec[] } | null;
  push_options?: Record<string, never> | null;
  /** Name of the set member of the `options` oneof (decoded messages only). */
  options?: string;
  /** Other oneof members (bigquery_options, spark_options, …) are passed through untouched. */
  [otherOption: `${string}_options`]: unknown;
}

export interface PbFeatureViewMeta {
  created_timestamp?: PbTimestamp | null;
  last_updated_timestamp?: PbTimestamp | null;
}

/** The fields FeatureViewSpec and StreamFeatureViewSpec share (under different numbers). */
export interface PbViewSpec {
  name?: string;
  project?: string;
  entities?: string[];
  features?: PbFeatureSpec[];
  entity_columns?: PbFeatureSpec[];
  tags?: PbMap;
  ttl?: PbDuration | null;
  batch_source?: PbDataSource | null;
  stream_source?: PbDataSource | null;
  online?: boolean;
  offline?: boolean;
  description?: string;
  owner?: string;
  feature_transformation?: Record<string, unknown> | null;
  mode?: string;
  version?: string;
}

export interface PbView {
  spec?: PbViewSpec | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbProjection {
  feature_view_name?: string;
  feature_view_name_alias?: string;
  feature_columns?: PbFeatureSpec[];
  join_key_map?: PbMap;
  timestamp_field?: string;
  date_partition_column?: string;
  created_timestamp_column?: string;
  batch_source?: PbDataSource | null;
  stream_source?: PbDataSource | null;
  version_tag?: number | null;
  view_type?: string;
}

export interface PbLoggingConfig {
  sample_rate?: number;
  file_destination?: { path?: string; s3_endpoint_override?: string; partition_by?: string[] } | null;
  custom_destination?: { kind?: string; config?: PbMap } | null;
  /** Name of the set member of the `destination` oneof (decoded messages only). */
  destination?: string;
  [otherDestination: `${string}_destination`]: unknown;
}

export interface PbFeatureService {
  spec?: {
    name?: string;
    project?: string;
    features?: PbProjection[];
    tags?: PbMap;
    description?: string;
    owner?: string;
    logging_config?: PbLoggingConfig | null;
  } | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbOnDemandSource {
  feature_view?: PbView | null;
  feature_view_projection?: PbProjection | null;
  request_data_source?: PbDataSource | null;
}

export interface PbOnDemandFeatureView {
  spec?: {
    name?: string;
    project?: string;
    features?: PbFeatureSpec[];
    sources?: Record<string, PbOnDemandSource>;
    feature_transformation?: Record<string, unknown> | null;
    description?: string;
    tags?: PbMap;
    owner?: string;
    mode?: string;
    entities?: string[];
    entity_columns?: PbFeatureSpec[];
    version?: string;
  } | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbEntity {
  spec?: {
    name?: string;
    project?: string;
    value_type?: number;
    description?: string;
    join_key?: string;
    tags?: PbMap;
    owner?: string;
  } | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbPolicy {
  name?: string;
  project?: string;
  role_based_policy?: { roles?: string[] } | null;
  group_based_policy?: { groups?: string[] } | null;
  namespace_based_policy?: { namespaces?: string[] } | null;
  combined_group_namespace_policy?: { groups?: string[]; namespaces?: string[] } | null;
  /** Name of the set member of the `policy_type` oneof (decoded messages only). */
  policy_type?: string;
}

export interface PbPermission {
  spec?: {
    name?: string;
    project?: string;
    types?: number[];
    name_patterns?: string[];
    required_tags?: PbMap;
    actions?: number[];
    policy?: PbPolicy | null;
    tags?: PbMap;
  } | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbProject {
  spec?: { name?: string; description?: string; tags?: PbMap; owner?: string } | null;
  meta?: PbFeatureViewMeta | null;
}

export interface PbRegistry {
  entities?: PbEntity[];
  registry_schema_version?: string;
  version_id?: string;
  last_updated?: PbTimestamp | null;
  feature_views?: PbView[];
  feature_services?: PbFeatureService[];
  on_demand_feature_views?: PbOnDemandFeatureView[];
  data_sources?: PbDataSource[];
  stream_feature_views?: PbView[];
  permissions?: PbPermission[];
  projects?: PbProject[];
}

/** An int64 field as a JS number (registry values — seconds, durations — fit easily). */
export function int64ToNumber(v: PbInt64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  return v.toNumber();
}
