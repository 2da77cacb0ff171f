/**
 * The plain description of a registry that `encodeRegistry` (encode.ts) turns into Feast's
 * registry bytes: what `larder example` and the tests write instead of running `feast apply`.
 */
import type { AuthzedAction, PermissionResourceType, Policy } from './model.ts';

/** Names of `feast.types.ValueType.Enum`. */
// biome-ignore format: Feast's enum in its order, several names a line
export type ValueTypeName =
  | 'INVALID' | 'BYTES' | 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'FLOAT' | 'BOOL' | 'UNIX_TIMESTAMP'
  | 'BYTES_LIST' | 'STRING_LIST' | 'INT32_LIST' | 'INT64_LIST' | 'DOUBLE_LIST' | 'FLOAT_LIST' | 'BOOL_LIST'
  | 'UNIX_TIMESTAMP_LIST' | 'NULL' | 'MAP' | 'MAP_LIST' | 'BYTES_SET' | 'STRING_SET' | 'INT32_SET' | 'INT64_SET'
  | 'DOUBLE_SET' | 'FLOAT_SET' | 'BOOL_SET' | 'UNIX_TIMESTAMP_SET' | 'JSON' | 'JSON_LIST' | 'STRUCT' | 'STRUCT_LIST'
  | 'UUID' | 'TIME_UUID' | 'UUID_LIST' | 'TIME_UUID_LIST' | 'UUID_SET' | 'TIME_UUID_SET' | 'VALUE_LIST' | 'VALUE_SET'
  | 'DECIMAL' | 'DECIMAL_LIST' | 'DECIMAL_SET' | 'SCALAR_MAP' | 'ZONED_TIMESTAMP';

/** A column type: a ValueType name, or its number (numbers Feast's enum lacks, like 30/31, are kept). */
export type ValueTypeRef = ValueTypeName | number;

export type Tags = Readonly<Record<string, string>>;

/** A feature or entity column (FeatureSpecV2). */
export interface FieldDraft {
  readonly name: string;
  readonly valueType: ValueTypeRef;
  readonly description?: string;
  /** Stored as is, so Feast's internal tags (`feast:struct_schema`, …) can be given here. */
  readonly tags?: Tags;
}

/** Fields every object draft may set. `project` defaults to the registry draft's project. */
interface ObjectDraft {
  readonly name: string;
  readonly project?: string;
  readonly description?: string;
  readonly owner?: string;
  readonly tags?: Tags;
}

export interface EntityDraft extends ObjectDraft {
  /** Defaults to the entity name, as in Feast. */
  readonly joinKey?: string;
  /** Feast leaves this unset (0) unless the user gives it; it is also the default type of the view's entity column. */
  readonly valueType?: ValueTypeRef;
}

interface SourceDraftBase extends ObjectDraft {
  readonly timestampField?: string;
  readonly createdTimestampColumn?: string;
  /** Source column → feature/entity column. */
  readonly fieldMapping?: Tags;
}

/** A FileSource (`BATCH_FILE`). */
export interface FileSourceDraft extends SourceDraftBase {
  readonly kind: 'file';
  /** The source's path or URI, stored verbatim (relative paths resolve against the repo). */
  readonly path: string;
  /** `parquet` (default), `delta`, or `null` to leave the format unset as `FileSource(path=…)` does. */
  readonly fileFormat?: 'parquet' | 'delta' | null;
  readonly s3EndpointOverride?: string;
}

/** A contrib source stored as CUSTOM_SOURCE (PostgreSQLSource, …) with its JSON configuration. */
export interface CustomSourceDraft extends SourceDraftBase {
  readonly kind: 'custom';
  /** Python class path, e.g. `feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource`. */
  readonly classType: string;
  /** `custom_options.configuration`: bytes, a string (UTF-8) or an object (serialized as JSON). */
  readonly configuration: Uint8Array | string | Readonly<Record<string, unknown>>;
  readonly datePartitionColumn?: string;
  /** SourceType name; default `CUSTOM_SOURCE` (IcebergSource uses `BATCH_ICEBERG`). */
  readonly sourceType?: string;
}

/** A PushSource in front of a registered batch source. */
export interface PushSourceDraft extends ObjectDraft {
  readonly kind: 'push';
  /** Name of a file or custom source draft. */
  readonly batchSource: string;
}

/** A RequestSource: request-time inputs of on-demand feature views. */
export interface RequestSourceDraft extends ObjectDraft {
  readonly kind: 'request';
  readonly schema: readonly FieldDraft[];
}

export type DataSourceDraft = FileSourceDraft | CustomSourceDraft | PushSourceDraft | RequestSourceDraft;

/** A source that holds data: what a view reads, possibly behind a push source. */
export type BatchSourceDraft = FileSourceDraft | CustomSourceDraft;

export interface FeatureViewDraft extends ObjectDraft {
  /** Entity names; omit or `[]` for an entityless view (stored as `["__dummy"]`). */
  readonly entities?: readonly string[];
  readonly features: readonly FieldDraft[];
  /**
   * Join-key columns. Default: one per entity, named by its join key, typed by the entity's
   * `valueType` (then required); `__dummy_id` STRING for an entityless view.
   */
  readonly entityColumns?: readonly FieldDraft[];
  /** 0 or omitted: no TTL. */
  readonly ttlSeconds?: number;
  /** Name of a data source draft; omit for a view without a source. Stream views need a push source. */
  readonly source?: string;
  /** Default true, as in Feast. */
  readonly online?: boolean;
}

export interface OnDemandFeatureViewDraft extends ObjectDraft {
  readonly features: readonly FieldDraft[];
  /** Names of feature view drafts and request source drafts the view reads; Feast requires one at least. */
  readonly sources: readonly string[];
  /** Transformation mode; default `pandas`. */
  readonly mode?: string;
  /**
   * Python source of the transformation, stored as the UDF's `body_text`, from which Feast 0.67
   * rebuilds the function (no dill body is written). Default: a function that raises, so Python
   * can load the view but never silently computes wrong values.
   */
  readonly udfSource?: string;
}

export interface ProjectionDraft {
  /** Name of a feature view, stream feature view or on-demand feature view draft. */
  readonly view: string;
  /** `fv.with_name(alias)`; omitted means no alias. */
  readonly alias?: string;
  /**
   * Selected features (`fv[["a", "b"]]`); default all. A name picks the view's feature; a full
   * FieldDraft is stored as given (e.g. to build a projection the view no longer matches).
   */
  readonly features?: readonly (string | FieldDraft)[];
  /** `fv.with_join_key_map({...})`: view join key → entity-dataframe column. */
  readonly joinKeyMap?: Tags;
  readonly versionTag?: number;
}

export type LoggingDestinationDraft =
  | { readonly kind: 'file'; readonly path: string; readonly s3EndpointOverride?: string; readonly partitionBy?: readonly string[] }
  | { readonly kind: 'custom'; readonly destinationKind: string; readonly config?: Tags };

export interface FeatureServiceDraft extends ObjectDraft {
  readonly projections: readonly ProjectionDraft[];
  readonly loggingConfig?: { readonly sampleRate?: number; readonly destination: LoggingDestinationDraft };
}

export interface PermissionDraft {
  readonly name: string;
  readonly project?: string;
  /** Default: every resource type (how Feast stores `types=[]`); `[]` stores an empty list. */
  readonly types?: readonly PermissionResourceType[];
  readonly namePatterns?: readonly string[];
  /** Default: all eight actions (Feast's ALL_ACTIONS). */
  readonly actions?: readonly AuthzedAction[];
  /** Default allow-all, stored as an empty Policy like Feast's AllowAll. */
  readonly policy?: Policy;
  readonly requiredTags?: Tags;
  readonly tags?: Tags;
}

/** Everything a registry holds, as `encodeRegistry` takes it. Only `project` is required. */
export interface RegistryDraft {
  /** The project every object belongs to unless it names another. */
  readonly project: string;
  readonly projectDescription?: string;
  readonly entities?: readonly EntityDraft[];
  readonly dataSources?: readonly DataSourceDraft[];
  readonly featureViews?: readonly FeatureViewDraft[];
  readonly streamFeatureViews?: readonly FeatureViewDraft[];
  readonly onDemandFeatureViews?: readonly OnDemandFeatureViewDraft[];
  readonly featureServices?: readonly FeatureServiceDraft[];
  readonly permissions?: readonly PermissionDraft[];
  /** Default: a random UUID. */
  readonly versionId?: string;
  /** Written as `last_updated` and as every object's created/updated time. Default: now. */
  readonly lastUpdated?: Date;
}
