/**
 * Checks our registry code against Python Feast on two registries:
 *
 * 1. one written by the real `feast apply` (`feast init`'s demo plus extras.py below: entityless
 *    view, stream view, aliased projections with join-key maps, a clashing projection,
 *    permissions), decoded by us and compared with what Python reads from it — its objects and
 *    the offline server's own lookup code;
 * 2. one written by our encodeRegistry, which Python must read back the same way (the Python
 *    client reads the registry of a `larder example` repo itself).
 *
 * Everything is generated in temp dirs at test time with the venv of test/support/feast-python.ts.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { parseDataSourceJson } from '../../core/src/registry/data-source-json.ts';
import { encodeRegistry, type RegistryDraft } from '../../core/src/registry/encode.ts';
import { openFileRegistry, registryPathFromConfig } from '../../core/src/registry/file-registry.ts';
import { nameToUse, type FeatureView, type RegistrySnapshot } from '../../core/src/registry/model.ts';
import { feastPython } from '../support/feast-python.ts';

const run = promisify(execFile);

const EXTRAS = `
from datetime import timedelta

from feast import FeatureService, FeatureView, Field, FileSource, KafkaSource
from feast.data_format import JsonFormat
from feast.permissions.action import READ, AuthzedAction
from feast.permissions.permission import Permission
from feast.permissions.policy import AllowAll, GroupBasedPolicy, RoleBasedPolicy
from feast.stream_feature_view import stream_feature_view
from feast.types import Float32

from feature_definitions import driver, driver_stats_fv, driver_stats_source

global_source = FileSource(
    name="global_stats_source", path="data/driver_stats.parquet", timestamp_field="event_timestamp"
)
global_stats = FeatureView(
    name="global_stats", entities=[], ttl=timedelta(seconds=90.5),
    schema=[Field(name="conv_rate", dtype=Float32)], source=global_source,
)

aliased_service = FeatureService(
    name="aliased_service",
    features=[
        driver_stats_fv.with_name("a_stats").with_join_key_map({"driver_id": "a_driver"})[["conv_rate"]],
        driver_stats_fv.with_name("b_stats").with_join_key_map({"driver_id": "b_driver"}),
    ],
)
later_service = FeatureService(
    name="later_service",
    features=[driver_stats_fv.with_name("a_stats").with_join_key_map({"driver_id": "a_driver_2"})[["acc_rate"]]],
)
clash_service = FeatureService(name="clash_service", features=[global_stats.with_name("clash")])

reader = Permission(
    name="reader", types=[FeatureView], name_patterns=["driver_.*", " global_stats "],
    policy=RoleBasedPolicy(roles=["reader"]), actions=[AuthzedAction.READ_OFFLINE], required_tags={"team": "x"},
)
groups = Permission(name="groups", policy=GroupBasedPolicy(groups=["g1", "g2"]), actions=READ)
everyone = Permission(name="everyone", policy=AllowAll, actions=[AuthzedAction.DESCRIBE])

kafka_source = KafkaSource(
    name="driver_kafka", kafka_bootstrap_servers="localhost:9092", topic="drivers",
    timestamp_field="event_timestamp", batch_source=driver_stats_source,
    message_format=JsonFormat(schema_json="conv_rate double"), watermark_delay_threshold=timedelta(minutes=5),
)

@stream_feature_view(
    entities=[driver], ttl=timedelta(hours=2), mode="python", schema=[Field(name="conv_rate", dtype=Float32)],
    timestamp_field="event_timestamp", online=True, source=kafka_source,
)
def driver_stream(df):
    return df
`;

/** Python Feast's own reading of the registry, as JSON (run from the repo directory). */
const ORACLE = `
import json
import sys
from types import SimpleNamespace

from google.protobuf.json_format import MessageToJson

from feast import FeatureStore
from feast.offline_server import OfflineServer, remove_dummies
from feast.protos.feast.core.DataSource_pb2 import DataSource as DataSourceProto

store = FeatureStore(repo_path=".")
registry, project = store.registry, store.project
server = SimpleNamespace(store=store)  # get_feature_view_by_name only uses .store

def field(f):
    return {"name": f.name, "value_type": f.dtype.to_value_type().value}

def view(fv):
    p = fv.projection
    return {
        "class": type(fv).__name__, "name": fv.name, "entities": list(fv.entities),
        "entity_columns": [field(c) for c in fv.entity_columns], "features": [field(f) for f in fv.features],
        "ttl": fv.ttl.total_seconds() if fv.ttl else 0,
        "batch_source": fv.batch_source.name if fv.batch_source else None,
        "stream_source": fv.stream_source.name if fv.stream_source else None,
        "projection": {
            "name": p.name, "name_alias": p.name_alias, "join_key_map": dict(p.join_key_map),
            "features": [f.name for f in p.features], "version_tag": p.version_tag, "name_to_use": p.name_to_use(),
        },
    }

request = json.loads(sys.argv[1])
lookups = []
for name, alias in request["lookups"]:
    try:
        lookups.append({"name": name, "alias": alias, "view": view(remove_dummies(OfflineServer.get_feature_view_by_name(server, name, alias, project)))})
    except Exception as e:
        lookups.append({"name": name, "alias": alias, "error": type(e).__name__, "message": str(e)})

source = store.get_data_source(request["json_source"])
postgres = DataSourceProto(
    type=DataSourceProto.CUSTOM_SOURCE, name="driver_pg", timestamp_field="event_timestamp",
    data_source_class_type="feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource",
    custom_options=DataSourceProto.CustomSourceOptions(
        configuration=json.dumps({"name": "driver_pg", "query": "", "table": "public.driver_stats"}).encode()
    ),
)
postgres.meta.created_timestamp.FromJsonString("2024-05-01T12:00:00.123456Z")

print(json.dumps({
    "project": project,
    "feature_views": [view(fv) for fv in registry.list_feature_views(project, allow_cache=False)],
    "lookups": lookups,
    "feature_services": [
        {
            "name": fs.name,
            "projections": [
                {"name": p.name, "name_alias": p.name_alias, "join_key_map": dict(p.join_key_map), "features": [f.name for f in p.features]}
                for p in fs.feature_view_projections
            ],
            "logging": None if fs.logging_config is None else {
                "sample_rate": fs.logging_config.sample_rate, "path": fs.logging_config.destination.path,
            },
        }
        for fs in registry.list_feature_services(project, allow_cache=False)
    ],
    "odfvs": [
        {"name": v.name, "features": [field(f) for f in v.features], "mode": v.mode}
        for v in registry.list_on_demand_feature_views(project, allow_cache=False)
    ],
    "entities": [
        {"name": e.name, "join_key": e.join_key, "value_type": e.value_type.value}
        for e in registry.list_entities(project, allow_cache=False)
    ],
    "data_sources": [
        {"name": s.name, "class": type(s).__name__, "timestamp_field": s.timestamp_field,
         "created_timestamp_column": s.created_timestamp_column, "path": getattr(s, "path", None)}
        for s in registry.list_data_sources(project, allow_cache=False)
    ],
    "json": {
        "file": str(source),
        "file_snake": MessageToJson(source.to_proto(), preserving_proto_field_name=True),
        "postgres": MessageToJson(postgres),
    },
}))
`;

type Lookup = [name: string, alias: string | null];

/** (view name, alias) pairs for the offline server's lookup on the feast-apply registry; null is Python's None. */
const LOOKUPS: Lookup[] = [
  ['driver_hourly_stats', null],
  ['driver_hourly_stats', 'a_stats'],
  ['driver_hourly_stats', 'b_stats'],
  ['driver_hourly_stats', ''],
  ['driver_hourly_stats', 'unknown_alias'],
  ['driver_hourly_stats', 'clash'],
  ['driver_hourly_stats_fresh', null],
  ['global_stats', null],
  ['global_stats', 'clash'],
  ['driver_stream', 'a_stats'],
  ['driver_quality_labels', null],
  ['transformed_conv_rate', null],
  ['no_such_view', 'a_stats'],
];

interface OracleField {
  name: string;
  value_type: number;
}

interface OracleView {
  class: string;
  name: string;
  entities: string[];
  entity_columns: OracleField[];
  features: OracleField[];
  ttl: number;
  batch_source: string | null;
  stream_source: string | null;
  projection: {
    name: string;
    name_alias: string | null;
    join_key_map: Record<string, string>;
    features: string[];
    version_tag: number | null;
    name_to_use: string;
  };
}

interface Oracle {
  project: string;
  feature_views: OracleView[];
  lookups: { name: string; alias: string | null; view?: OracleView; error?: string; message?: string }[];
  feature_services: {
    name: string;
    projections: { name: string; name_alias: string | null; join_key_map: Record<string, string>; features: string[] }[];
    logging: { sample_rate: number; path: string } | null;
  }[];
  odfvs: { name: string; features: OracleField[]; mode: string }[];
  entities: { name: string; join_key: string; value_type: number }[];
  data_sources: { name: string; class: string; timestamp_field: string; created_timestamp_column: string; path: string | null }[];
  json: { file: string; file_snake: string; postgres: string };
}

/** Our view in the oracle's shape. */
function asOracleView(v: FeatureView): OracleView {
  const field = (f: { name: string; valueType: number }) => ({ name: f.name, value_type: f.valueType });
  return {
    class: v.kind === 'streamFeatureView' ? 'StreamFeatureView' : v.batchFeatureView ? 'BatchFeatureView' : 'FeatureView',
    name: v.name,
    entities: [...v.entities],
    entity_columns: v.entityColumns.map(field),
    features: v.features.map(field),
    ttl: v.ttlSeconds,
    batch_source: v.batchSource?.name ?? null,
    stream_source: v.streamSource?.name ?? null,
    projection: {
      name: v.projection.name,
      name_alias: v.projection.nameAlias,
      join_key_map: { ...v.projection.joinKeyMap },
      features: v.projection.features.map((f) => f.name),
      version_tag: v.projection.versionTag,
      name_to_use: nameToUse(v.projection),
    },
  };
}

const PYTHON_ENV = { ...process.env, FEAST_USAGE: 'False', PYTHONWARNINGS: 'ignore' };

/** Runs the oracle in `repo` (a directory with feature_store.yaml). */
async function askPython(repo: string, lookups: Lookup[], jsonSource: string): Promise<Oracle> {
  const script = join(repo, '..', 'oracle.py');
  writeFileSync(script, ORACLE);
  const request = JSON.stringify({ lookups, json_source: jsonSource });
  const { stdout } = await run(feastPython().python, [script, request], { cwd: repo, env: PYTHON_ENV, maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Oracle;
}

/** Our snapshot of the registry named by `repo`/feature_store.yaml, through the file registry. */
async function ourSnapshot(repo: string): Promise<RegistrySnapshot> {
  const yaml = readFileSync(join(repo, 'feature_store.yaml'), 'utf8');
  const registryKey = /^registry:\s*(\S+)\s*$/m.exec(yaml)![1]!;
  const source = await openFileRegistry({
    path: registryPathFromConfig(registryKey, repo),
    repoPath: repo,
    logger: pino({ level: 'silent' }),
  });
  try {
    return await source.snapshot();
  } finally {
    await source.close();
  }
}

/** Comparisons of our decoding with Python's, shared by both registries. */
function sameAsPython(get: () => { oracle: Oracle; snapshot: RegistrySnapshot }): void {
  it('decodes every feature view as Python does (entities, columns, TTL, sources, default projection)', () => {
    const { oracle, snapshot } = get();
    expect(oracle.feature_views).to.not.be.empty;
    for (const expected of oracle.feature_views) {
      expect(asOracleView(snapshot.getFeatureView(expected.name, oracle.project)), expected.name).to.deep.equal(expected);
    }
  });

  it("answers the offline server's get_feature_view_by_name + remove_dummies exactly like Python", () => {
    const { oracle, snapshot } = get();
    expect(oracle.lookups).to.not.be.empty;
    for (const lookup of oracle.lookups) {
      const label = `${lookup.name} / ${JSON.stringify(lookup.alias)}`;
      let ours: { view?: OracleView; message?: string };
      try {
        ours = { view: asOracleView(snapshot.getFeatureViewByName(lookup.name, lookup.alias, oracle.project)) };
      } catch (error) {
        ours = { message: (error as Error).message };
      }
      if (lookup.error) {
        expect(ours.message, label).to.equal(lookup.message);
      } else {
        expect(ours.view, label).to.deep.equal(lookup.view);
      }
    }
  });

  it('decodes feature services: projections, aliases, join key maps, logging config', () => {
    const { oracle, snapshot } = get();
    for (const expected of oracle.feature_services) {
      const service = snapshot.getFeatureService(expected.name, oracle.project);
      expect(
        service.projections.map((p) => ({
          name: p.name,
          name_alias: p.nameAlias,
          join_key_map: { ...p.joinKeyMap },
          features: p.features.map((f) => f.name),
        })),
        expected.name,
      ).to.deep.equal(expected.projections);
      expect(
        service.loggingConfig && { sample_rate: service.loggingConfig.sampleRate, path: service.loggingConfig.fileDestination?.path },
        expected.name,
      ).to.deep.equal(expected.logging);
    }
    expect(snapshot.listFeatureServices(oracle.project).map((s) => s.name)).to.deep.equal(oracle.feature_services.map((s) => s.name));
  });

  it('decodes on-demand feature views', () => {
    const { oracle, snapshot } = get();
    expect(
      snapshot
        .listOnDemandFeatureViews(oracle.project)
        .map((v) => ({ name: v.name, features: v.features.map((f) => ({ name: f.name, value_type: f.valueType })), mode: v.mode })),
    ).to.deep.equal(oracle.odfvs);
  });

  it('decodes entities, including the dummy entity', () => {
    const { oracle, snapshot } = get();
    expect(
      snapshot.listEntities(oracle.project).map((e) => ({ name: e.name, join_key: e.joinKey, value_type: e.valueType })),
    ).to.deep.equal(oracle.entities);
    expect(oracle.entities.map((e) => e.name)).to.include('__dummy');
  });

  it('decodes data sources', () => {
    const { oracle, snapshot } = get();
    const kinds: Record<string, string> = {
      FileSource: 'BATCH_FILE',
      PushSource: 'PUSH_SOURCE',
      RequestSource: 'REQUEST_SOURCE',
      KafkaSource: 'STREAM_KAFKA',
    };
    for (const expected of oracle.data_sources) {
      const source = snapshot.getDataSource(expected.name, oracle.project);
      expect(source.type, expected.name).to.equal(kinds[expected.class]);
      if (expected.class === 'PushSource') {
        // PushSource.from_proto drops the timestamp columns Feast copied into the proto from the
        // batch source; we keep what the registry holds, i.e. the batch source's.
        expect(source.timestampField, expected.name).to.equal(source.batchSource?.timestampField);
      } else {
        expect(source.timestampField, expected.name).to.equal(expected.timestamp_field);
        expect(source.createdTimestampColumn, expected.name).to.equal(expected.created_timestamp_column);
      }
      if (expected.path !== null) expect(source.fileOptions?.uri, expected.name).to.equal(expected.path);
      expect(source.dataSourceClassType, expected.name).to.match(new RegExp(`\\.${expected.class}$`));
    }
  });

  it("parses Python's str(DataSource) and MessageToJson output (camelCase, snake_case, CUSTOM_SOURCE)", () => {
    const { oracle, snapshot } = get();
    const source = JSON.parse(oracle.json.file) as { name: string };
    const registered = snapshot.getDataSource(source.name, oracle.project);
    // str() carries no project and (for FileSource) no class type; everything else matches the registry.
    const expected = { ...registered, project: '', dataSourceClassType: '' };
    expect(parseDataSourceJson(oracle.json.file)).to.deep.equal(expected);
    expect(parseDataSourceJson(oracle.json.file_snake)).to.deep.equal(expected);
    const postgres = parseDataSourceJson(oracle.json.postgres);
    expect(postgres.type).to.equal('CUSTOM_SOURCE');
    expect(postgres.dataSourceClassType).to.match(/\.PostgreSQLSource$/);
    expect(JSON.parse(new TextDecoder().decode(postgres.customConfiguration))).to.deep.equal({
      name: 'driver_pg',
      query: '',
      table: 'public.driver_stats',
    });
  });
}

describe('a registry written by the real feast apply', function () {
  this.timeout(300_000);

  let dir: string;
  let oracle: Oracle;
  let snapshot: RegistrySnapshot;

  before(async () => {
    const { feast } = feastPython();
    dir = mkdtempSync(join(tmpdir(), 'larder-feast-fixture-'));
    await run(feast, ['init', 'demo'], { cwd: dir, env: PYTHON_ENV });
    const repo = join(dir, 'demo', 'feature_repo');
    writeFileSync(join(repo, 'extras.py'), EXTRAS);
    await run(feast, ['-c', repo, 'apply'], { cwd: dir, env: PYTHON_ENV });
    oracle = await askPython(repo, LOOKUPS, 'driver_hourly_stats_source');
    snapshot = await ourSnapshot(repo);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  sameAsPython(() => ({ oracle, snapshot }));

  it('covers the interesting lookup outcomes', () => {
    const byKey = new Map(oracle.lookups.map((l) => [`${l.name}/${l.alias}`, l]));
    // Two services alias the view as a_stats; feast apply's order of them varies between runs, and
    // the one stored last must win.
    const withAlias = oracle.feature_services.filter((s) => s.projections.some((p) => p.name_alias === 'a_stats'));
    expect(withAlias.map((s) => s.name)).to.have.members(['aliased_service', 'later_service']);
    const lastMap = withAlias[withAlias.length - 1]!.projections.find((p) => p.name_alias === 'a_stats')!.join_key_map;
    expect(byKey.get('driver_hourly_stats/a_stats')?.view?.projection.join_key_map).to.deep.equal(lastMap);
    expect(byKey.get('driver_hourly_stats/clash')?.error).to.equal('ValueError');
    expect(byKey.get('global_stats/null')?.view?.entities).to.deep.equal([]);
    expect(byKey.get('driver_stream/a_stats')?.view?.class).to.equal('StreamFeatureView');
    expect(byKey.get('driver_quality_labels/null')?.error).to.equal('FeatureViewNotFoundException');
    expect(byKey.get('no_such_view/a_stats')?.message).to.equal('Feature view no_such_view does not exist in project demo');
  });

  it('gets the TTLs right, including a fractional one', () => {
    expect(snapshot.getFeatureView('driver_hourly_stats', 'demo').ttlSeconds).to.equal(86400);
    expect(snapshot.getFeatureView('global_stats', 'demo').ttlSeconds).to.equal(90.5);
    expect(snapshot.getStreamFeatureView('driver_stream', 'demo').ttlSeconds).to.equal(7200);
  });

  it("decodes the demo's logging config, push source and unset file format", () => {
    expect(snapshot.getFeatureService('driver_activity_v1', 'demo').loggingConfig).to.deep.equal({
      sampleRate: 1,
      destinationKind: 'file_destination',
      fileDestination: { path: 'data', s3EndpointOverride: '', partitionBy: [] },
    });
    expect(snapshot.getDataSource('driver_hourly_stats_source', 'demo').fileOptions?.fileFormat).to.equal(undefined);
    expect(snapshot.getDataSource('driver_stats_push_source', 'demo').batchSource?.name).to.equal('driver_hourly_stats_source');
    expect(oracle.odfvs).to.have.length(2);
  });

  it('decodes permissions (types, trimmed patterns, actions, policies; AllowAll as an empty policy)', () => {
    const byName = new Map(snapshot.listPermissions('demo').map((p) => [p.name, p]));
    expect(byName.get('reader')).to.deep.include({
      types: ['FEATURE_VIEW'],
      namePatterns: ['driver_.*', 'global_stats'],
      actions: ['READ_OFFLINE'],
      requiredTags: { team: 'x' },
      policy: { kind: 'role', roles: ['reader'] },
    });
    expect(byName.get('groups')?.policy).to.deep.equal({ kind: 'group', groups: ['g1', 'g2'] });
    expect(byName.get('groups')?.actions).to.deep.equal(['READ_OFFLINE', 'READ_ONLINE']);
    // Feast writes "all types" explicitly when none are given.
    expect(byName.get('groups')?.types).to.have.length(12);
    expect(byName.get('everyone')?.policy).to.deep.equal({ kind: 'allow_all' });
  });
});

/** A registry like the demo's, written without Python. */
const DRAFT: RegistryDraft = {
  project: 'enc',
  entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
  dataSources: [
    {
      kind: 'file',
      name: 'stats',
      path: 'data/stats.parquet',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
      fieldMapping: { a: 'b' },
    },
    { kind: 'push', name: 'stats_push', batchSource: 'stats' },
    { kind: 'request', name: 'vals', schema: [{ name: 'val', valueType: 'INT64' }] },
  ],
  featureViews: [
    {
      name: 'driver_stats',
      entities: ['driver'],
      features: [
        { name: 'conv', valueType: 'FLOAT' },
        { name: 'acc', valueType: 'DOUBLE', description: 'accuracy' },
      ],
      ttlSeconds: 3600.25,
      source: 'stats',
      tags: { team: 't' },
    },
    { name: 'global', features: [{ name: 'total', valueType: 'INT64' }], source: 'stats' },
    { name: 'pushed', entities: ['driver'], features: [{ name: 'conv', valueType: 'FLOAT' }], source: 'stats_push' },
  ],
  streamFeatureViews: [
    { name: 'streamy', entities: ['driver'], features: [{ name: 'conv', valueType: 'FLOAT' }], source: 'stats_push', ttlSeconds: 60 },
  ],
  onDemandFeatureViews: [{ name: 'odfv', features: [{ name: 'plus', valueType: 'DOUBLE' }], sources: ['driver_stats', 'vals'] }],
  featureServices: [
    {
      name: 'svc',
      projections: [
        { view: 'driver_stats', alias: 'a', features: ['conv'], joinKeyMap: { driver_id: 'x' } },
        { view: 'driver_stats', alias: 'b' },
        { view: 'odfv' },
      ],
      loggingConfig: { sampleRate: 0.25, destination: { kind: 'file', path: 'logs' } },
    },
    {
      name: 'svc2',
      projections: [
        { view: 'driver_stats', alias: 'a', joinKeyMap: { driver_id: 'y' } },
        { view: 'global', alias: 'g' },
      ],
    },
  ],
  permissions: [{ name: 'r', types: ['FEATURE_VIEW'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['x'] } }],
};

const DRAFT_LOOKUPS: Lookup[] = [
  ['driver_stats', null],
  ['driver_stats', 'a'],
  ['driver_stats', 'b'],
  ['driver_stats', 'g'],
  ['global', 'g'],
  ['pushed', null],
  ['streamy', 'a'],
  ['odfv', null],
];

describe('a registry written by encodeRegistry, read by Python Feast', function () {
  this.timeout(300_000);

  let dir: string;
  let oracle: Oracle;
  let snapshot: RegistrySnapshot;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'larder-encoded-registry-'));
    const repo = join(dir, 'repo');
    mkdirSync(join(repo, 'data'), { recursive: true });
    writeFileSync(join(repo, 'data', 'registry.db'), encodeRegistry(DRAFT));
    writeFileSync(
      join(repo, 'feature_store.yaml'),
      'project: enc\nregistry: data/registry.db\nprovider: local\nonline_store:\n  type: sqlite\n  path: data/online.db\nentity_key_serialization_version: 3\n',
    );
    oracle = await askPython(repo, DRAFT_LOOKUPS, 'stats');
    snapshot = await ourSnapshot(repo);
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  sameAsPython(() => ({ oracle, snapshot }));

  it('is read by Python with every object the draft describes', () => {
    expect(oracle.feature_views.map((v) => [v.name, v.ttl])).to.have.deep.members([
      ['driver_stats', 3600.25],
      ['global', 0],
      ['pushed', 0],
    ]);
    expect(oracle.feature_services.map((s) => s.name)).to.deep.equal(['svc', 'svc2']);
    expect(oracle.odfvs.map((v) => v.name)).to.deep.equal(['odfv']);
    expect(oracle.data_sources.map((s) => s.class)).to.deep.equal(['FileSource', 'PushSource', 'RequestSource']);
    const byKey = new Map(oracle.lookups.map((l) => [`${l.name}/${l.alias}`, l]));
    expect(byKey.get('driver_stats/a')?.view?.projection.join_key_map).to.deep.equal({ driver_id: 'y' });
    expect(byKey.get('driver_stats/g')?.error).to.equal('ValueError');
    expect(byKey.get('streamy/a')?.view?.class).to.equal('StreamFeatureView');
    expect(byKey.get('odfv/null')?.error).to.equal('FeatureViewNotFoundException');
  });
});
