/**
 * Builds Feast registry bytes from a plain description, without Python: for `larder example` and
 * for tests. The output mirrors what `feast apply` (0.67) writes for the same objects:
 *
 * - `registry_schema_version` "1", a fresh `version_id` UUID and `last_updated`;
 * - one `projects` entry per project, and the dummy entity `__dummy` (join key `__dummy_id`) in
 *   each project after the user's entities;
 * - entityless views stored with entities `["__dummy"]` and the entity column `__dummy_id` STRING;
 * - every registered source in `data_sources` with its project and `data_source_class_type`;
 *   views embed a copy of their source (class type set, project empty); a push source's view
 *   embeds the push source's batch source as `batch_source` and the push source as `stream_source`;
 * - feature-service projections copy the view's batch source and, like Feast, put the source's
 *   created-timestamp column in both `timestamp_field` and `created_timestamp_column`;
 * - permissions without `types` list every resource type, in Feast's order.
 *
 * Drafts refer to each other by name (a view's source, a projection's view), whatever their
 * project; a dangling name is a mistake in the draft and throws.
 *
 * @example
 * const bytes = encodeRegistry({
 *   project: 'demo',
 *   entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
 *   dataSources: [{ kind: 'file', name: 'stats', path: 'data/stats.parquet', timestampField: 'event_timestamp' }],
 *   featureViews: [
 *     { name: 'driver_stats', entities: ['driver'], features: [{ name: 'conv_rate', valueType: 'FLOAT' }], ttlSeconds: 86400, source: 'stats' },
 *   ],
 *   featureServices: [{ name: 'model_v1', projections: [{ view: 'driver_stats', features: ['conv_rate'] }] }],
 * });
 * writeFileSync('data/registry.db', bytes);
 */
import { randomUUID } from 'node:crypto';
import { DUMMY_ENTITY_ID, DUMMY_ENTITY_NAME, type AuthzedAction, type PermissionResourceType, type Policy } from './model.ts';
import {
  enumValue,
  registryTypes,
  type PbDataSource,
  type PbEntity,
  type PbFeatureService,
  type PbFeatureSpec,
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
  type PbViewSpec,
} from './proto.ts';
import type {
  ValueTypeRef,
  FieldDraft,
  EntityDraft,
  FileSourceDraft,
  CustomSourceDraft,
  PushSourceDraft,
  DataSourceDraft,
  BatchSourceDraft,
  FeatureViewDraft,
  OnDemandFeatureViewDraft,
  ProjectionDraft,
  FeatureServiceDraft,
  PermissionDraft,
  RegistryDraft,
} from './draft.ts';

/** The draft types are part of this module's API. */
export type * from './draft.ts';

const CLASS_FILE_SOURCE = 'feast.infra.offline_stores.file_source.FileSource';
const CLASS_PUSH_SOURCE = 'feast.data_source.PushSource';
const CLASS_REQUEST_SOURCE = 'feast.data_source.RequestSource';

/** Feast's ALL_RESOURCE_TYPES order, as `feast apply` writes a permission without types. */
// biome-ignore format: Feast's order, several names a line
const ALL_PERMISSION_TYPES: readonly PermissionResourceType[] = [
  'PROJECT', 'FEATURE_VIEW', 'ON_DEMAND_FEATURE_VIEW', 'BATCH_FEATURE_VIEW', 'STREAM_FEATURE_VIEW', 'LABEL_VIEW',
  'ENTITY', 'FEATURE_SERVICE', 'DATA_SOURCE', 'VALIDATION_REFERENCE', 'SAVED_DATASET', 'PERMISSION',
];

// biome-ignore format: Feast's order, several names a line
const ALL_ACTIONS: readonly AuthzedAction[] = [
  'CREATE', 'DESCRIBE', 'UPDATE', 'DELETE', 'READ_ONLINE', 'READ_OFFLINE', 'WRITE_ONLINE', 'WRITE_OFFLINE',
];

/** Serializes a draft as a `feast.core.Registry`, the exact content of a registry.db file. */
export function encodeRegistry(draft: RegistryDraft): Uint8Array {
  const { Registry } = registryTypes();
  const message = Registry.fromObject(registryMessage(draft));
  return Registry.encode(message).finish();
}

/** The draft as a Registry message object (before protobuf encoding). */
export function registryMessage(draft: RegistryDraft): PbRegistry {
  return new DraftEncoder(draft).registry();
}

class DraftEncoder {
  private readonly now: PbTimestamp;
  private readonly sources = new Map<string, DataSourceDraft>();
  private readonly entities = new Map<string, EntityDraft>();
  private readonly views = new Map<string, FeatureViewDraft | OnDemandFeatureViewDraft>();
  private readonly viewKinds = new Map<string, 'view' | 'odfv'>();

  constructor(private readonly draft: RegistryDraft) {
    const ms = (draft.lastUpdated ?? new Date()).getTime();
    this.now = { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
    // First draft of a name wins, like Feast's first-match lookups.
    for (const s of draft.dataSources ?? []) if (!this.sources.has(s.name)) this.sources.set(s.name, s);
    for (const e of draft.entities ?? []) if (!this.entities.has(e.name)) this.entities.set(e.name, e);
    for (const v of [...(draft.featureViews ?? []), ...(draft.streamFeatureViews ?? [])]) this.addView(v.name, v, 'view');
    for (const v of draft.onDemandFeatureViews ?? []) this.addView(v.name, v, 'odfv');
  }

  registry(): PbRegistry {
    const d = this.draft;
    return {
      entities: this.entityMessages(),
      registry_schema_version: '1',
      version_id: d.versionId ?? randomUUID(),
      last_updated: this.now,
      feature_views: (d.featureViews ?? []).map((v) => this.viewMessage(v, 'featureView')),
      feature_services: (d.featureServices ?? []).map((s) => this.featureServiceMessage(s)),
      on_demand_feature_views: (d.onDemandFeatureViews ?? []).map((v) => this.onDemandMessage(v)),
      data_sources: (d.dataSources ?? []).map((s) => ({ ...this.sourceMessage(s, true), project: this.project(s) })),
      stream_feature_views: (d.streamFeatureViews ?? []).map((v) => this.viewMessage(v, 'streamFeatureView')),
      permissions: (d.permissions ?? []).map((p) => this.permissionMessage(p)),
      projects: this.projectNames().map(
        (name): PbProject => ({
          spec: { name, description: name === d.project ? (d.projectDescription ?? '') : '' },
          meta: this.meta(),
        }),
      ),
    };
  }

  private addView(name: string, view: FeatureViewDraft | OnDemandFeatureViewDraft, kind: 'view' | 'odfv'): void {
    if (this.views.has(name)) return;
    this.views.set(name, view);
    this.viewKinds.set(name, kind);
  }

  private project(o: { readonly project?: string }): string {
    return o.project ?? this.draft.project;
  }

  private meta() {
    return { created_timestamp: this.now, last_updated_timestamp: this.now };
  }

  /** Every project an object lives in, the draft's own first. */
  private projectNames(): string[] {
    const d = this.draft;
    const all = [
      d.project,
      ...[d.entities, d.dataSources, d.featureViews, d.streamFeatureViews, d.onDemandFeatureViews, d.featureServices, d.permissions]
        .flatMap((list) => (list ?? []) as readonly { project?: string }[])
        .map((o) => this.project(o)),
    ];
    return [...new Set(all)];
  }

  private entityMessages(): PbEntity[] {
    const user = (this.draft.entities ?? []).map(
      (e): PbEntity => ({
        spec: {
          name: e.name,
          project: this.project(e),
          value_type: e.valueType === undefined ? 0 : valueTypeNumber(e.valueType),
          description: e.description,
          join_key: e.joinKey ?? e.name,
          tags: e.tags as PbMap,
          owner: e.owner,
        },
        meta: this.meta(),
      }),
    );
    const dummies = this.projectNames().map(
      (project): PbEntity => ({ spec: { name: DUMMY_ENTITY_NAME, project, join_key: DUMMY_ENTITY_ID }, meta: this.meta() }),
    );
    return [...user, ...dummies];
  }

  private source(name: string, owner: string): DataSourceDraft {
    const source = this.sources.get(name);
    if (!source) throw new Error(`${owner} refers to data source "${name}", which the draft does not define`);
    return source;
  }

  /** The sources a view reads: its batch source, and the push source in front of it if any. */
  private viewSources(name: string, owner: string): { batch: BatchSourceDraft; push?: PushSourceDraft } {
    const source = this.source(name, owner);
    if (source.kind === 'request') throw new Error(`${owner} cannot read request source "${name}"`);
    if (source.kind !== 'push') return { batch: source };
    const batch = this.source(source.batchSource, `Push source "${source.name}"`);
    if (batch.kind === 'push' || batch.kind === 'request') {
      throw new Error(`Push source "${source.name}" needs a file or custom batch source, not a ${batch.kind} source`);
    }
    return { batch, push: source };
  }

  /**
   * A source as Feast stores it. `withClassType` is false for the batch source nested in a push
   * source, which Feast writes without its class type.
   */
  private sourceMessage(s: DataSourceDraft, withClassType: boolean): PbDataSource {
    const common: PbDataSource = {
      name: s.name,
      description: s.description,
      tags: s.tags as PbMap,
      owner: s.owner,
      meta: { created_timestamp: this.now, last_updated_timestamp: this.now },
    };
    switch (s.kind) {
      case 'file':
        return {
          ...common,
          ...timestampColumns(s),
          type: 1,
          data_source_class_type: withClassType ? CLASS_FILE_SOURCE : undefined,
          file_options: {
            file_format: s.fileFormat === null ? undefined : s.fileFormat === 'delta' ? { delta_format: {} } : { parquet_format: {} },
            uri: s.path,
            s3_endpoint_override: s.s3EndpointOverride,
          },
        };
      case 'custom': {
        const type = enumValue(registryTypes().SourceType, s.sourceType ?? 'CUSTOM_SOURCE');
        if (type === undefined) throw new Error(`Data source "${s.name}": unknown sourceType "${s.sourceType}"`);
        return {
          ...common,
          ...timestampColumns(s),
          type,
          date_partition_column: s.datePartitionColumn,
          data_source_class_type: withClassType ? s.classType : undefined,
          custom_options: { configuration: configurationBytes(s.configuration) },
        };
      }
      case 'push': {
        const { batch } = this.viewSources(s.name, `Push source "${s.name}"`);
        // PushSource takes over its batch source's timestamp columns and mapping.
        return {
          ...common,
          ...timestampColumns(batch),
          type: 9,
          data_source_class_type: withClassType ? CLASS_PUSH_SOURCE : undefined,
          batch_source: this.sourceMessage(batch, false),
        };
      }
      case 'request':
        return {
          ...common,
          type: 7,
          data_source_class_type: withClassType ? CLASS_REQUEST_SOURCE : undefined,
          request_data_options: { schema: s.schema.map(fieldMessage) },
        };
    }
  }

  private viewMessage(v: FeatureViewDraft, kind: 'featureView' | 'streamFeatureView'): PbView {
    const entityless = (v.entities ?? []).length === 0;
    const spec: PbViewSpec = {
      name: v.name,
      project: this.project(v),
      entities: entityless ? [DUMMY_ENTITY_NAME] : [...v.entities!],
      features: v.features.map(fieldMessage),
      entity_columns: (v.entityColumns ?? this.defaultEntityColumns(v, entityless)).map(fieldMessage),
      tags: v.tags as PbMap,
      ttl: v.ttlSeconds ? secondsToDuration(v.ttlSeconds) : undefined,
      online: v.online ?? true,
      description: v.description,
      owner: v.owner,
      version: 'latest',
    };
    const sources = v.source === undefined ? undefined : this.viewSources(v.source, `Feature view "${v.name}"`);
    if (kind === 'streamFeatureView' && !sources?.push) {
      // StreamFeatureView.from_proto rebuilds the view from its stream source.
      throw new Error(`Stream feature view "${v.name}" needs a push source`);
    }
    if (sources) {
      spec.batch_source = this.sourceMessage(sources.batch, true);
      if (sources.push) spec.stream_source = this.sourceMessage(sources.push, true);
    }
    if (kind === 'streamFeatureView') spec.mode = 'python';
    return { spec, meta: this.meta() };
  }

  private defaultEntityColumns(v: FeatureViewDraft, entityless: boolean): FieldDraft[] {
    if (entityless) return [{ name: DUMMY_ENTITY_ID, valueType: 'STRING' }];
    return v.entities!.map((name) => {
      const entity = this.entities.get(name);
      if (!entity) throw new Error(`Feature view "${v.name}" refers to entity "${name}", which the draft does not define`);
      if (entity.valueType === undefined) {
        throw new Error(`Feature view "${v.name}": give entityColumns, or a valueType for entity "${name}"`);
      }
      return { name: entity.joinKey ?? entity.name, valueType: entity.valueType };
    });
  }

  private onDemandMessage(v: OnDemandFeatureViewDraft): PbOnDemandFeatureView {
    const mode = v.mode ?? 'pandas';
    const functionName = v.name.replace(/\W/g, '_').replace(/^(?=\d)/, '_');
    const source =
      v.udfSource ??
      `def ${functionName}(inputs):\n` +
        `    raise NotImplementedError(${JSON.stringify(`on-demand feature view ${v.name} was written by larder without a transformation`)})\n`;
    return {
      spec: {
        name: v.name,
        project: this.project(v),
        features: v.features.map(fieldMessage),
        sources: this.onDemandSources(v),
        feature_transformation: { user_defined_function: { name: functionName, body_text: source, mode } },
        description: v.description,
        tags: v.tags as PbMap,
        owner: v.owner,
        mode,
        entities: [DUMMY_ENTITY_NAME],
        entity_columns: [fieldMessage({ name: DUMMY_ENTITY_ID, valueType: 'STRING' })],
        version: 'latest',
      },
      meta: this.meta(),
    };
  }

  /** Feast stores an ODFV's view inputs as projections and its request inputs as sources, keyed by name. */
  private onDemandSources(v: OnDemandFeatureViewDraft): Record<string, PbOnDemandSource> {
    if (v.sources.length === 0) throw new Error(`On-demand feature view "${v.name}" needs at least one source`);
    const owner = `On-demand feature view "${v.name}"`;
    return Object.fromEntries(
      v.sources.map((name): [string, PbOnDemandSource] => {
        if (this.viewKinds.get(name) === 'view') return [name, { feature_view_projection: this.projectionMessage({ view: name }, owner) }];
        const source = this.sources.get(name);
        if (source?.kind === 'request') return [name, { request_data_source: this.sourceMessage(source, false) }];
        throw new Error(`${owner} refers to "${name}", which is neither a feature view nor a request source of the draft`);
      }),
    );
  }

  private featureServiceMessage(s: FeatureServiceDraft): PbFeatureService {
    return {
      spec: {
        name: s.name,
        project: this.project(s),
        features: s.projections.map((p) => this.projectionMessage(p, `Feature service "${s.name}"`)),
        tags: s.tags as PbMap,
        description: s.description,
        owner: s.owner,
        logging_config: s.loggingConfig ? loggingConfigMessage(s.loggingConfig) : undefined,
      },
      meta: this.meta(),
    };
  }

  private projectionMessage(p: ProjectionDraft, owner: string): PbProjection {
    const view = this.views.get(p.view);
    if (!view) throw new Error(`${owner} refers to view "${p.view}", which the draft does not define`);
    const columns = (p.features ?? view.features).map((f) => {
      if (typeof f !== 'string') return f;
      const found = view.features.find((vf) => vf.name === f);
      if (!found) throw new Error(`${owner}: view "${p.view}" has no feature "${f}"`);
      return found;
    });
    const message: PbProjection = {
      feature_view_name: p.view,
      feature_view_name_alias: p.alias,
      feature_columns: columns.map(fieldMessage),
      join_key_map: p.joinKeyMap as PbMap,
      view_type: 'featureView',
    };
    if (p.versionTag !== undefined) message.version_tag = p.versionTag;
    const source = this.viewKinds.get(p.view) === 'view' ? (view as FeatureViewDraft).source : undefined;
    if (source !== undefined) {
      const { batch } = this.viewSources(source, `Feature view "${p.view}"`);
      // Feast's FeatureViewProjection.from_feature_view_definition fills timestamp_field from
      // the created-timestamp column; reproduced so decoders see what Feast writes.
      message.timestamp_field = batch.createdTimestampColumn;
      message.created_timestamp_column = batch.createdTimestampColumn;
      message.batch_source = this.sourceMessage(batch, false);
    }
    return message;
  }

  private permissionMessage(p: PermissionDraft): PbPermission {
    const { PermissionType, AuthzedAction } = registryTypes();
    const number = (e: typeof PermissionType, name: string, what: string) => {
      const n = enumValue(e, name);
      if (n === undefined) throw new Error(`Permission "${p.name}": unknown ${what} "${name}"`);
      return n;
    };
    return {
      spec: {
        name: p.name,
        project: this.project(p),
        types: (p.types ?? ALL_PERMISSION_TYPES).map((t) => number(PermissionType, t, 'type')),
        name_patterns: (p.namePatterns ?? []).map((n) => n.trim()),
        required_tags: p.requiredTags as PbMap,
        actions: (p.actions ?? ALL_ACTIONS).map((a) => number(AuthzedAction, a, 'action')),
        policy: policyMessage(p.policy ?? { kind: 'allow_all' }),
        tags: p.tags as PbMap,
      },
      meta: this.meta(),
    };
  }
}

function timestampColumns(s: FileSourceDraft | CustomSourceDraft): PbDataSource {
  return {
    timestamp_field: s.timestampField,
    created_timestamp_column: s.createdTimestampColumn,
    field_mapping: s.fieldMapping as PbMap,
  };
}

function fieldMessage(f: FieldDraft): PbFeatureSpec {
  return { name: f.name, value_type: valueTypeNumber(f.valueType), description: f.description, tags: f.tags as PbMap };
}

function valueTypeNumber(t: ValueTypeRef): number {
  if (typeof t === 'number') return t;
  const n = enumValue(registryTypes().ValueType, t);
  if (n === undefined) throw new Error(`Unknown value type "${t}"`);
  return n;
}

function secondsToDuration(seconds: number): PbTimestamp {
  const whole = Math.trunc(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}

function configurationBytes(c: CustomSourceDraft['configuration']): Uint8Array {
  if (c instanceof Uint8Array) return c;
  return new TextEncoder().encode(typeof c === 'string' ? c : JSON.stringify(c));
}

function loggingConfigMessage(c: NonNullable<FeatureServiceDraft['loggingConfig']>): PbLoggingConfig {
  const d = c.destination;
  const base = { sample_rate: c.sampleRate ?? 1.0 };
  if (d.kind === 'file') {
    return {
      ...base,
      file_destination: { path: d.path, s3_endpoint_override: d.s3EndpointOverride, partition_by: [...(d.partitionBy ?? [])] },
    };
  }
  return { ...base, custom_destination: { kind: d.destinationKind, config: d.config as PbMap } };
}

function policyMessage(p: Policy): PbPolicy {
  switch (p.kind) {
    case 'allow_all':
      return {};
    case 'role':
      return { role_based_policy: { roles: [...p.roles] } };
    case 'group':
      return { group_based_policy: { groups: [...p.groups] } };
    case 'namespace':
      return { namespace_based_policy: { namespaces: [...p.namespaces] } };
    case 'combined':
      return { combined_group_namespace_policy: { groups: [...p.groups], namespaces: [...p.namespaces] } };
  }
}
