import { expect } from 'chai';
import protobuf from 'protobufjs';
import { decodeRegistry, decodeRegistryMessage } from '../../core/src/registry/decode.ts';
import { encodeRegistry, registryMessage, type RegistryDraft } from '../../core/src/registry/encode.ts';
import { nameToUse } from '../../core/src/registry/model.ts';
import { registryTypes } from '../../core/src/registry/proto.ts';
import { DecodedRegistrySnapshot } from '../../core/src/registry/snapshot.ts';

const when = new Date('2024-05-01T12:00:00.250Z');

const draft: RegistryDraft = {
  project: 'demo',
  projectDescription: 'for tests',
  versionId: '00000000-0000-4000-8000-000000000000',
  lastUpdated: when,
  entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64', description: 'a driver' }],
  dataSources: [
    {
      kind: 'file',
      name: 'stats',
      path: 'data/stats.parquet',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
      fieldMapping: { src: 'dst' },
      tags: { a: 'b' },
    },
    {
      kind: 'file',
      name: 'delta_src',
      path: 's3://bucket/t',
      fileFormat: 'delta',
      s3EndpointOverride: 'http://minio:9000',
      timestampField: 'ts',
    },
    { kind: 'file', name: 'bare_src', path: 'data/bare.parquet', fileFormat: null, timestampField: 'ts' },
    {
      kind: 'custom',
      name: 'pg',
      classType: 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource',
      configuration: { name: 'pg', query: '', table: 'driver_stats' },
      timestampField: 'event_timestamp',
    },
    { kind: 'push', name: 'stats_push', batchSource: 'stats' },
    { kind: 'request', name: 'vals', schema: [{ name: 'val', valueType: 'INT64' }] },
  ],
  featureViews: [
    { name: 'driver_stats', entities: ['driver'], features: [{ name: 'conv', valueType: 'FLOAT' }], ttlSeconds: 90.5, source: 'stats' },
    { name: 'entityless', features: [{ name: 'total', valueType: 'INT64' }], source: 'pg' },
    { name: 'pushed', entities: ['driver'], features: [{ name: 'conv', valueType: 'FLOAT' }], source: 'stats_push', online: false },
  ],
  onDemandFeatureViews: [
    { name: 'odfv', features: [{ name: 'plus', valueType: 'DOUBLE' }], mode: 'python', sources: ['driver_stats', 'vals'] },
  ],
  featureServices: [
    {
      name: 'svc',
      projections: [
        { view: 'driver_stats', alias: 'v', joinKeyMap: { driver_id: 'd' }, versionTag: 0 },
        { view: 'driver_stats', alias: 'w', versionTag: 3 },
        { view: 'odfv' },
      ],
      loggingConfig: { destination: { kind: 'custom', destinationKind: 'my_dest', config: { k: 'v' } } },
    },
  ],
  permissions: [
    { name: 'all' },
    { name: 'none', types: [], actions: ['READ_OFFLINE', 'WRITE_OFFLINE'], policy: { kind: 'combined', groups: ['g'], namespaces: ['n'] } },
    { name: 'ns', namePatterns: ['  padded.*  '], policy: { kind: 'namespace', namespaces: ['x'] } },
  ],
};

const bytes = encodeRegistry(draft);
const raw = decodeRegistryMessage(bytes);
const decoded = decodeRegistry(bytes);
const snapshot = new DecodedRegistrySnapshot(decoded);

describe('encodeRegistry (feast apply without Python)', () => {
  describe('writes what feast apply writes', () => {
    it('sets the registry header fields', () => {
      expect(raw.registry_schema_version).to.equal('1');
      expect(raw.version_id).to.equal(draft.versionId);
      expect(decoded.lastUpdated?.toISOString()).to.equal(when.toISOString());
      expect(decodeRegistryMessage(encodeRegistry({ project: 'x' })).version_id).to.match(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(decoded.projects).to.deep.equal([{ name: 'demo', description: 'for tests', owner: '', tags: {} }]);
    });

    it('adds the dummy entity after the user entities', () => {
      expect(raw.entities?.map((e) => [e.spec?.name, e.spec?.join_key, e.spec?.value_type, e.spec?.project])).to.deep.equal([
        ['driver', 'driver_id', 4, 'demo'],
        ['__dummy', '__dummy_id', 0, 'demo'],
      ]);
    });

    it('stores entityless views with the dummy entity and its __dummy_id STRING column', () => {
      const spec = raw.feature_views?.[1]?.spec;
      expect(spec?.entities).to.deep.equal(['__dummy']);
      expect(spec?.entity_columns?.map((c) => [c.name, c.value_type])).to.deep.equal([['__dummy_id', 2]]);
    });

    it('registers sources with project and class type, and embeds copies without project', () => {
      expect(raw.data_sources?.map((s) => [s.name, s.project, s.data_source_class_type])).to.deep.equal([
        ['stats', 'demo', 'feast.infra.offline_stores.file_source.FileSource'],
        ['delta_src', 'demo', 'feast.infra.offline_stores.file_source.FileSource'],
        ['bare_src', 'demo', 'feast.infra.offline_stores.file_source.FileSource'],
        ['pg', 'demo', 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource'],
        ['stats_push', 'demo', 'feast.data_source.PushSource'],
        ['vals', 'demo', 'feast.data_source.RequestSource'],
      ]);
      const embedded = raw.feature_views?.[0]?.spec?.batch_source;
      expect(embedded?.project).to.equal('');
      expect(embedded?.data_source_class_type).to.equal('feast.infra.offline_stores.file_source.FileSource');
    });

    it('gives a push view the inner batch source and the push source (whose batch copy has no class type)', () => {
      const spec = raw.feature_views?.[2]?.spec;
      expect(spec?.batch_source?.name).to.equal('stats');
      expect(spec?.stream_source?.name).to.equal('stats_push');
      expect(spec?.stream_source?.batch_source?.data_source_class_type).to.equal('');
      // PushSource takes over the batch source's timestamp columns.
      expect(spec?.stream_source?.timestamp_field).to.equal('event_timestamp');
      expect(spec?.stream_source?.created_timestamp_column).to.equal('created');
    });

    it("fills a projection's timestamp fields from the created column, as Feast does", () => {
      const projection = raw.feature_services?.[0]?.spec?.features?.[0];
      expect(projection?.timestamp_field).to.equal('created');
      expect(projection?.created_timestamp_column).to.equal('created');
      expect(projection?.batch_source?.name).to.equal('stats');
      expect(projection?.view_type).to.equal('featureView');
    });

    it('writes on-demand views with their sources and a Python UDF source Feast can rehydrate', () => {
      const spec = raw.on_demand_feature_views?.[0]?.spec;
      expect(Object.keys(spec?.sources ?? {})).to.deep.equal(['driver_stats', 'vals']);
      expect(spec?.sources?.driver_stats?.feature_view_projection?.feature_view_name).to.equal('driver_stats');
      expect(spec?.sources?.vals?.request_data_source?.request_data_options?.schema?.map((f) => f.name)).to.deep.equal(['val']);
      expect(spec?.entities).to.deep.equal(['__dummy']);
      const udf = (
        spec?.feature_transformation as { user_defined_function?: { name?: string; body_text?: string; mode?: string } } | undefined
      )?.user_defined_function;
      expect(udf?.mode).to.equal('python');
      expect(udf?.body_text).to.match(/^def odfv\(inputs\):\n {4}raise NotImplementedError\(/);
    });

    it('writes permissions without types as every type, and all actions by default', () => {
      const [all, none] = raw.permissions ?? [];
      expect(all?.spec?.types).to.have.length(12);
      expect(all?.spec?.actions).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(all?.spec?.policy?.policy_type).to.equal(undefined);
      expect(none?.spec?.types).to.deep.equal([]);
    });

    it('writes fields in field-number order, like Python (entities before the schema version)', () => {
      // Tag of field 1 (entities, length-delimited) is 0x0a; the file starts with it.
      expect(bytes[0]).to.equal(0x0a);
    });
  });

  describe('decodes back to the model', () => {
    it('round-trips entities, views and TTLs', () => {
      expect(decoded.entities[0]).to.deep.equal({ name: 'driver', project: 'demo', joinKey: 'driver_id', valueType: 4 });
      const view = snapshot.getFeatureView('driver_stats', 'demo');
      expect(view.ttlSeconds).to.equal(90.5);
      expect(view.features).to.deep.equal([
        { name: 'conv', valueType: 6, tags: {}, description: '', vectorIndex: false, vectorLength: 0, vectorSearchMetric: '' },
      ]);
      expect(snapshot.getFeatureView('entityless', 'demo').ttlSeconds).to.equal(0);
      expect(snapshot.getFeatureView('entityless', 'demo').batchSource?.type).to.equal('CUSTOM_SOURCE');
    });

    it('round-trips sources: file formats, endpoint override, mapping, custom configuration', () => {
      const stats = snapshot.getDataSource('stats', 'demo');
      expect(stats).to.deep.include({
        name: 'stats',
        project: 'demo',
        type: 'BATCH_FILE',
        dataSourceClassType: 'feast.infra.offline_stores.file_source.FileSource',
        timestampField: 'event_timestamp',
        createdTimestampColumn: 'created',
        datePartitionColumn: '',
        fieldMapping: { src: 'dst' },
        tags: { a: 'b' },
      });
      expect(stats.fileOptions).to.deep.equal({ uri: 'data/stats.parquet', fileFormat: 'parquet', s3EndpointOverride: '' });
      expect(snapshot.getDataSource('delta_src', 'demo').fileOptions).to.deep.equal({
        uri: 's3://bucket/t',
        fileFormat: 'delta',
        s3EndpointOverride: 'http://minio:9000',
      });
      expect(snapshot.getDataSource('bare_src', 'demo').fileOptions?.fileFormat).to.equal(undefined);
      const pg = snapshot.getDataSource('pg', 'demo');
      expect(pg.fileOptions).to.equal(undefined);
      expect(JSON.parse(new TextDecoder().decode(pg.customConfiguration))).to.deep.equal({ name: 'pg', query: '', table: 'driver_stats' });
    });

    it('keeps version_tag presence: 0 is a tag, unset is none', () => {
      const [v, w, odfv] = snapshot.getFeatureService('svc', 'demo').projections;
      expect(v?.versionTag).to.equal(0);
      expect(nameToUse(v!)).to.equal('v@v0');
      expect(w?.versionTag).to.equal(3);
      expect(odfv?.versionTag).to.equal(null);
      expect(nameToUse(odfv!)).to.equal('odfv');
    });

    it('names a custom logging destination by its kind, with its config', () => {
      expect(snapshot.getFeatureService('svc', 'demo').loggingConfig).to.deep.equal({
        sampleRate: 1,
        destinationKind: 'my_dest',
        customConfig: { k: 'v' },
      });
    });

    it('decodes permissions: type and action names, trimmed patterns, policies', () => {
      const [all, none, ns] = snapshot.listPermissions('demo');
      expect(all?.types).to.include.members(['FEATURE_VIEW', 'STREAM_FEATURE_VIEW', 'DATA_SOURCE', 'FEATURE_SERVICE']);
      expect(all?.actions).to.deep.equal([
        'CREATE',
        'DESCRIBE',
        'UPDATE',
        'DELETE',
        'READ_ONLINE',
        'READ_OFFLINE',
        'WRITE_ONLINE',
        'WRITE_OFFLINE',
      ]);
      expect(all?.policy).to.deep.equal({ kind: 'allow_all' });
      expect(none?.types).to.deep.equal([]);
      expect(none?.actions).to.deep.equal(['READ_OFFLINE', 'WRITE_OFFLINE']);
      expect(none?.policy).to.deep.equal({ kind: 'combined', groups: ['g'], namespaces: ['n'] });
      expect(ns?.namePatterns).to.deep.equal(['padded.*']);
      expect(ns?.policy).to.deep.equal({ kind: 'namespace', namespaces: ['x'] });
    });

    it('decodes on-demand views with their sources, and keeps their own bytes for the worker', () => {
      const [odfv] = decoded.onDemandFeatureViews;
      expect({ ...odfv, proto: undefined, sources: undefined }).to.deep.equal({
        name: 'odfv',
        project: 'demo',
        mode: 'python',
        features: [{ name: 'plus', valueType: 5, tags: {}, description: '', vectorIndex: false, vectorLength: 0, vectorSearchMetric: '' }],
        proto: undefined,
        sources: undefined,
      });
      expect(
        odfv!.sources.map((s) =>
          s.kind === 'request'
            ? `request ${s.name}: ${s.schema.map((f) => f.name)}`
            : `view ${s.projection.name}: ${s.projection.features.map((f) => f.name)}`,
        ),
      ).to.deep.equal(['view driver_stats: conv', 'request vals: val']);
      expect((registryTypes().OnDemandFeatureView.decode(odfv!.proto) as unknown as { spec: { name: string } }).spec.name).to.equal('odfv');
      // A field larder's .proto does not declare (99, a varint) survives: the bytes are the registry's own.
      const withUnknown = Uint8Array.from([...odfv!.proto, ((99 << 3) & 0x7f) | 0x80, 99 >> 4, 1]);
      const registry = protobuf.Writer.create()
        .uint32((8 << 3) | 2)
        .bytes(withUnknown)
        .finish();
      expect(Buffer.from(decodeRegistry(registry).onDemandFeatureViews[0]!.proto)).to.deep.equal(Buffer.from(withUnknown));
    });
  });

  describe('rejects drafts with dangling names', () => {
    it('names the missing source, entity, view or feature', () => {
      expect(() => encodeRegistry({ project: 'p', featureViews: [{ name: 'v', features: [], source: 'nope' }] })).to.throw(
        'Feature view "v" refers to data source "nope", which the draft does not define',
      );
      expect(() => encodeRegistry({ project: 'p', featureViews: [{ name: 'v', entities: ['e'], features: [] }] })).to.throw(
        'refers to entity "e"',
      );
      expect(() =>
        encodeRegistry({ project: 'p', entities: [{ name: 'e' }], featureViews: [{ name: 'v', entities: ['e'], features: [] }] }),
      ).to.throw('give entityColumns, or a valueType for entity "e"');
      expect(() => encodeRegistry({ project: 'p', featureServices: [{ name: 's', projections: [{ view: 'v' }] }] })).to.throw(
        'Feature service "s" refers to view "v", which the draft does not define',
      );
      expect(() => encodeRegistry({ project: 'p', onDemandFeatureViews: [{ name: 'o', features: [], sources: [] }] })).to.throw(
        'On-demand feature view "o" needs at least one source',
      );
      expect(() => encodeRegistry({ project: 'p', onDemandFeatureViews: [{ name: 'o', features: [], sources: ['ghost'] }] })).to.throw(
        'refers to "ghost", which is neither a feature view nor a request source',
      );
      expect(() =>
        encodeRegistry({
          project: 'p',
          dataSources: [{ kind: 'file', name: 'f', path: 'f.parquet' }],
          streamFeatureViews: [{ name: 'sv', features: [], source: 'f' }],
        }),
      ).to.throw('Stream feature view "sv" needs a push source');
      expect(() =>
        encodeRegistry({
          project: 'p',
          featureViews: [{ name: 'v', features: [] }],
          featureServices: [{ name: 's', projections: [{ view: 'v', features: ['f'] }] }],
        }),
      ).to.throw('view "v" has no feature "f"');
      expect(() =>
        encodeRegistry({ project: 'p', featureViews: [{ name: 'v', features: [{ name: 'f', valueType: 'INT65' as 'INT64' }] }] }),
      ).to.throw('Unknown value type "INT65"');
    });
  });

  describe('decoding edge cases', () => {
    const { Registry } = registryTypes();
    const encodeRaw = (object: Record<string, unknown>) => Registry.encode(Registry.fromObject(object)).finish();

    it('keeps value types and source types the enums do not name', () => {
      const message = registryMessage({ project: 'p', featureViews: [{ name: 'v', features: [{ name: 'pdf', valueType: 30 }] }] });
      const view = new DecodedRegistrySnapshot(decodeRegistry(encodeRaw(message as Record<string, unknown>))).getFeatureView('v', 'p');
      expect(view.features[0]?.valueType).to.equal(30);
      const source = decodeRegistry(encodeRaw({ data_sources: [{ name: 's', project: 'p', type: 99 }] })).dataSources[0];
      expect(source?.type).to.equal('99');
    });

    it('keeps unknown permission types as UNKNOWN_<n> instead of dropping them (dropping would widen the permission)', () => {
      const decodedPermission = decodeRegistry(
        encodeRaw({ permissions: [{ spec: { name: 'x', project: 'p', types: [42], actions: [5, 77] } }] }),
      ).permissions[0];
      expect(decodedPermission?.types).to.deep.equal(['UNKNOWN_42']);
      expect(decodedPermission?.actions).to.deep.equal(['READ_OFFLINE', 'UNKNOWN_77']);
      expect(decodedPermission?.policy).to.deep.equal({ kind: 'allow_all' });
    });

    it('treats a zero TTL as none and keeps sub-second TTLs', () => {
      const registry = decodeRegistry(
        encodeRaw({
          feature_views: [
            { spec: { name: 'zero', project: 'p', ttl: { seconds: 0, nanos: 0 } } },
            { spec: { name: 'nanos', project: 'p', ttl: { seconds: 1, nanos: 500_000_000 } } },
          ],
        }),
      );
      expect(registry.featureViews.map((v) => v.ttlSeconds)).to.deep.equal([0, 1.5]);
    });

    it("splits Feast's internal type tags off the user tags", () => {
      const registry = decodeRegistry(
        encodeRaw({
          feature_views: [
            {
              spec: {
                name: 'v',
                project: 'p',
                features: [
                  { name: 's', value_type: 34, tags: { 'feast:struct_schema': '{"a": "INT64"}', team: 'x' } },
                  { name: 'n', value_type: 42, tags: { 'feast:nested_inner_type': 'Array(Array(Int64))' } },
                  { name: 'i', value_type: 4, tags: { 'feast:struct_schema': 'ignored for INT64' } },
                ],
              },
            },
          ],
        }),
      );
      const [s, n, i] = registry.featureViews[0]!.features;
      expect(s).to.deep.include({ tags: { team: 'x' }, structSchema: '{"a": "INT64"}' });
      expect(n).to.deep.include({ tags: {}, nestedInnerType: 'Array(Array(Int64))' });
      expect(i?.tags).to.deep.equal({});
      expect(i).to.not.have.property('structSchema');
    });

    it('decodes an empty file as an empty registry', () => {
      const empty = decodeRegistry(new Uint8Array(0));
      expect(empty.registrySchemaVersion).to.equal('');
      expect(empty.featureViews).to.deep.equal([]);
      expect(empty.lastUpdated).to.equal(null);
    });

    it('marks views with a transformation as batch feature views', () => {
      const registry = decodeRegistry(
        encodeRaw({
          feature_views: [
            { spec: { name: 'b', project: 'p', feature_transformation: { user_defined_function: { name: 'f' } } } },
            { spec: { name: 'plain', project: 'p' } },
          ],
        }),
      );
      expect(registry.featureViews.map((v) => v.batchFeatureView)).to.deep.equal([true, false]);
    });

    it('throws on malformed bytes', () => {
      expect(() => decodeRegistry(bytes.subarray(0, bytes.length - 7))).to.throw();
      expect(() => decodeRegistry(new TextEncoder().encode('definitely not a protobuf message'))).to.throw();
    });
  });
});
