/**
 * The registry objects larder reads, decoded from Feast's protos into plain, immutable values.
 * Names follow Feast's Python attributes (camelCased); the meaning of every field is Feast's
 * (see shared/spec/feast-registry.md).
 */

/** A `FeatureSpecV2`: a feature or entity column of a view. `valueType` is Feast's ValueType number. */
export interface Field {
  readonly name: string;
  readonly valueType: number;
  /** User tags; Feast's internal type tags are moved to `structSchema` / `nestedInnerType`. */
  readonly tags: Readonly<Record<string, string>>;
  // The remaining members are set by the registry decoder; Feast compares all of them when it
  // checks that a projection's features belong to a view (Field.__eq__).
  readonly description?: string;
  readonly vectorIndex?: boolean;
  readonly vectorLength?: number;
  readonly vectorSearchMetric?: string;
  /** Tag `feast:struct_schema` of a STRUCT / STRUCT_LIST column: JSON of the struct's fields. */
  readonly structSchema?: string;
  /** Tag `feast:nested_inner_type` of a VALUE_LIST / VALUE_SET column, e.g. `Array(Array(Int64))`. */
  readonly nestedInnerType?: string;
}

/** File format of a FileSource; `undefined` when the proto leaves it unset. */
export type FileFormat = 'parquet' | 'delta' | undefined;

export interface FileOptions {
  readonly uri: string;
  readonly fileFormat: FileFormat;
  readonly s3EndpointOverride: string;
}

/** A TrinoSource's `trino_options`: a table name (as written, possibly catalog- and schema-qualified) or a query; `""` when unset. */
export interface TrinoOptions {
  readonly table: string;
  readonly query: string;
}

export interface FileLoggingDestination {
  readonly path: string;
  readonly s3EndpointOverride: string;
  readonly partitionBy: readonly string[];
}

/**
 * A `DataSource`. `type` is the SourceType enum name (`BATCH_FILE`, `CUSTOM_SOURCE`, …);
 * `fieldMapping` maps source column → feature/entity name.
 */
export interface DataSource {
  readonly name: string;
  readonly project: string;
  readonly type: string;
  readonly dataSourceClassType: string;
  readonly timestampField: string;
  readonly createdTimestampColumn: string;
  readonly datePartitionColumn: string;
  readonly fieldMapping: Readonly<Record<string, string>>;
  readonly description: string;
  readonly owner: string;
  readonly tags: Readonly<Record<string, string>>;
  /** Set for `BATCH_FILE`. */
  readonly fileOptions?: FileOptions;
  /** Set for `BATCH_TRINO` (Feast's TrinoSource). */
  readonly trinoOptions?: TrinoOptions;
  /** Raw `custom_options.configuration` (usually UTF-8 JSON), set for `CUSTOM_SOURCE`. */
  readonly customConfiguration?: Uint8Array;
  /** The inner batch source of a Push/Kafka/Kinesis source. */
  readonly batchSource?: DataSource;
}

/** A `FeatureViewProjection`: how a feature service (or a plain request) uses a view. */
export interface FeatureViewProjection {
  readonly name: string;
  /** `null` when no alias is set (Feast stores `""`). */
  readonly nameAlias: string | null;
  readonly features: readonly Field[];
  /** View join key → entity-dataframe column. */
  readonly joinKeyMap: Readonly<Record<string, string>>;
  readonly versionTag: number | null;
}

/** `projection.name_to_use()`: the alias or the name, plus `@v<N>` when a version tag is set. */
export function nameToUse(p: FeatureViewProjection): string {
  const base = p.nameAlias ?? p.name;
  return p.versionTag !== null ? `${base}@v${p.versionTag}` : base;
}

export const DUMMY_ENTITY_NAME = '__dummy';
export const DUMMY_ENTITY_ID = '__dummy_id';

/** A `FeatureView` or `StreamFeatureView`, with the projection currently applied. */
export interface FeatureView {
  readonly kind: 'featureView' | 'streamFeatureView';
  readonly name: string;
  readonly project: string;
  /** Entity names; `[]` once `remove_dummies` has run for an entityless view. */
  readonly entities: readonly string[];
  readonly features: readonly Field[];
  /** Join-key columns (entity columns), in the view's namespace. */
  readonly entityColumns: readonly Field[];
  /** TTL in seconds (fractional allowed); 0 means no TTL. */
  readonly ttlSeconds: number;
  readonly batchSource?: DataSource;
  readonly streamSource?: DataSource;
  readonly tags: Readonly<Record<string, string>>;
  readonly projection: FeatureViewProjection;
  /**
   * True when the spec carries a feature transformation, which makes Python build a
   * `BatchFeatureView` (a FeatureView subclass): permissions of type BATCH_FEATURE_VIEW match it.
   */
  readonly batchFeatureView?: boolean;
}

export interface LoggingConfig {
  readonly sampleRate: number;
  /** Set when the destination is a file; other destinations are named in `destinationKind`. */
  readonly fileDestination?: FileLoggingDestination;
  readonly destinationKind: string | null;
  /** The `config` map of a custom destination (e.g. the postgres store's `table_name`). */
  readonly customConfig?: Readonly<Record<string, string>>;
}

export interface FeatureService {
  readonly name: string;
  readonly project: string;
  readonly projections: readonly FeatureViewProjection[];
  readonly loggingConfig: LoggingConfig | null;
  readonly tags: Readonly<Record<string, string>>;
}

export interface OnDemandFeatureView {
  readonly name: string;
  readonly project: string;
  readonly features: readonly Field[];
  readonly mode: string;
  /** What the transformation reads, in the order of the registry's `sources` map. */
  readonly sources: readonly OnDemandSource[];
  /**
   * The view's serialized `OnDemandFeatureView` message, exactly as the registry holds it: the
   * ODFV worker rebuilds the Python object (with its pickled function) from these bytes.
   */
  readonly proto: Uint8Array;
}

/** One input of an on-demand feature view: features of a view, or columns of the request. */
export type OnDemandSource =
  | { readonly kind: 'featureView'; readonly projection: FeatureViewProjection }
  | { readonly kind: 'request'; readonly name: string; readonly schema: readonly Field[] };

export interface Entity {
  readonly name: string;
  readonly project: string;
  readonly joinKey: string;
  readonly valueType: number;
}

/** Resource types of Feast's PermissionSpec.Type, by name. */
// biome-ignore format: Feast's enum, several names a line
export type PermissionResourceType =
  | 'FEATURE_VIEW' | 'ON_DEMAND_FEATURE_VIEW' | 'BATCH_FEATURE_VIEW' | 'STREAM_FEATURE_VIEW' | 'ENTITY'
  | 'FEATURE_SERVICE' | 'DATA_SOURCE' | 'VALIDATION_REFERENCE' | 'SAVED_DATASET' | 'PERMISSION' | 'PROJECT'
  | 'LABEL_VIEW';

export type AuthzedAction = 'CREATE' | 'DESCRIBE' | 'UPDATE' | 'DELETE' | 'READ_ONLINE' | 'READ_OFFLINE' | 'WRITE_ONLINE' | 'WRITE_OFFLINE';

export type Policy =
  | { readonly kind: 'allow_all' }
  | { readonly kind: 'role'; readonly roles: readonly string[] }
  | { readonly kind: 'group'; readonly groups: readonly string[] }
  | { readonly kind: 'namespace'; readonly namespaces: readonly string[] }
  | { readonly kind: 'combined'; readonly groups: readonly string[]; readonly namespaces: readonly string[] };

export interface Permission {
  readonly name: string;
  readonly project: string;
  readonly types: readonly PermissionResourceType[];
  readonly namePatterns: readonly string[];
  readonly requiredTags: Readonly<Record<string, string>>;
  readonly actions: readonly AuthzedAction[];
  readonly policy: Policy;
  readonly tags: Readonly<Record<string, string>>;
}

/**
 * One consistent view of the registry. Lookups follow Feast's semantics and throw Feast's
 * not-found errors (see errors.ts).
 */
export interface RegistrySnapshot {
  /** `registry.get_feature_view`: `feature_views` only. */
  getFeatureView(name: string, project: string): FeatureView;
  /** `registry.get_stream_feature_view`. */
  getStreamFeatureView(name: string, project: string): FeatureView;
  /**
   * The offline server's `get_feature_view_by_name(name, alias, project)`: feature view (with the
   * projection of the last feature-service projection whose alias matches, when `alias` is not
   * null), else stream feature view; then `remove_dummies`.
   */
  getFeatureViewByName(name: string, alias: string | null, project: string): FeatureView;
  getDataSource(name: string, project: string): DataSource;
  getFeatureService(name: string, project: string): FeatureService;
  listFeatureServices(project: string): readonly FeatureService[];
  listOnDemandFeatureViews(project: string): readonly OnDemandFeatureView[];
  listPermissions(project: string): readonly Permission[];
  listEntities(project: string): readonly Entity[];
  /** `data_sources` of the project, as registered. */
  listDataSources(project: string): readonly DataSource[];
  /** `feature_views` of the project, with their default projections and dummies intact. */
  listFeatureViews(project: string): readonly FeatureView[];
  listStreamFeatureViews(project: string): readonly FeatureView[];
}

/** Whether a registry source could read its backing store the last time it tried. */
export interface RegistryStatus {
  /** `stale`: the last read failed, and the last good copy is being served. */
  readonly state: 'fresh' | 'stale';
  /** When the copy being served was read (or last confirmed unchanged). */
  readonly loadedAt: Date;
  /** Why the last read failed, when `stale`. */
  readonly error?: string;
}

/** Where the registry comes from (a file, a database, a registry server). */
export interface RegistrySource {
  /**
   * The current snapshot. Re-reads the backing store when the source's freshness rule says so, and
   * never rejects once the source is open: when the store cannot be read, the last good copy is
   * served (and `status()` says so). Never serves a half-written registry.
   */
  snapshot(): Promise<RegistrySnapshot>;
  /**
   * Asks the backing store now, ignoring any cache period, for a lookup that missed: an object
   * applied a moment ago should not wait for the cache to expire. The answer comes from a read
   * that started after the call; sources coalesce such reads, so a client asking for unknown
   * names cannot turn them into more than one read at a time.
   */
  refresh?(): Promise<RegistrySnapshot>;
  /** For health reporting; sources that cannot go stale may leave it out. */
  status?(): RegistryStatus;
  close(): Promise<void>;
}
