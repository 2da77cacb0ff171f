/**
 * examples/store-plugin (larder-store-example), the template for third-party store authors, must
 * answer exactly as the built-in `file` store over the same parquet files: same requests, equal
 * tables, value by value (generated data with timestamp ties, null keys, times and features,
 * entity rows on TTL boundaries, a directory source, an alias with a join_key_map, an entityless
 * view, views sharing a source with different TTLs). Until `@larder/core/testing` lands this is
 * its conformance check; the example is loaded from its sources.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Float64, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import examplePlugin from '../../examples/store-plugin/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import {
  FailedPreconditionError,
  FeastJoinKeysDuringMaterialization,
  InvalidArgumentError,
  UnimplementedError,
} from '../../core/src/errors.ts';
import type { HistoricalFeaturesRequest, OfflineStore, PullRequest, StoreEnvironment } from '../../core/src/store.ts';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { fileSource, featureView } from '../support/feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot, tsUtc } from '../support/generated-data.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';

const run = promisify(execFile);

describe('examples/store-plugin (larder-store-example) vs the built-in file store', () => {
  let repo: string;
  let env: StoreEnvironment;
  let builtin: OfflineStore;
  let example: OfflineStore;
  const rand = random(20251207);

  const drivers = fileSource('drivers', 'drivers');
  const cities = fileSource('cities', 'cities.parquet', { createdTimestampColumn: '' });
  const globals = fileSource('globals', 'globals.parquet', { createdTimestampColumn: '' });
  const views = {
    drivers: featureView('drivers', drivers, ['driver_id'], ['rate', 'trips', 'name', 'flag'], TTL_S),
    other: featureView('drivers', drivers, ['driver_id'], ['rate'], 0, {
      nameAlias: 'other',
      joinKeyMap: { driver_id: 'other_driver_id' },
    }),
    cities: featureView('cities', cities, ['city'], ['population'], 0),
    global: featureView('global', globals, [], ['total'], 6 * 3600),
    short: featureView('drivers_short', drivers, ['driver_id'], ['trips'], 3600),
    forever: featureView('drivers_forever', drivers, ['driver_id'], ['name', 'rate'], 0),
  };

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-example-store-'));
    // A directory source of two files: full ties across files go to the later file.
    writeParquetFile(path.join(repo, 'drivers', 'part-0.parquet'), driverRows(rand, 3000));
    writeParquetFile(path.join(repo, 'drivers', 'part-1.parquet'), driverRows(rand, 2000));
    writeParquetFile(path.join(repo, 'cities.parquet'), cityRows(rand, 500));
    writeParquetFile(
      path.join(repo, 'globals.parquet'),
      arrowTable([
        ['ts', tsUtc, Array.from({ length: 30 }, (_, i) => T0_US + BigInt(i * 2) * H_US)],
        ['total', new Float64(), Array.from({ length: 30 }, (_, i) => (i % 7 === 0 ? null : i * 1.5))],
      ]),
    );
    env = { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };
    builtin = await parquetFilesPlugin.create({ type: 'file' }, env);
    // Small batches, so results span several of them.
    example = await examplePlugin.create({ type: 'larder-store-example', batch_rows: 1000 }, env);
  });

  after(async () => {
    await example?.close();
    rmSync(repo, { recursive: true, force: true });
  });

  /** Runs `call` on both stores; the tables must be equal, schema and rows. */
  async function same(call: (store: OfflineStore) => Promise<Table>): Promise<Table> {
    const expected = await call(builtin);
    expect(expected.numRows).to.be.greaterThan(0);
    const e = snapshot(expected);
    const a = snapshot(await call(example));
    expect(a.schema).to.deep.equal(e.schema);
    expect(a.rows.length).to.equal(e.rows.length);
    a.rows.forEach((row, i) => {
      expect(row, `row ${i}`).to.equal(e.rows[i]);
    });
    return expected;
  }

  const historical = (req: Partial<HistoricalFeaturesRequest>) => (store: OfflineStore) =>
    store
      .getHistoricalFeatures({ featureViews: [], featureRefs: [], project: 'p', fullFeatureNames: true, ...req }, callContext())
      .then(collect);

  it('get_historical_features with an entity table: four views, alias, entityless view', async () => {
    const result = await same(
      historical({
        entityTable: entityRows(rand, 4000),
        featureViews: [views.drivers, views.other, views.cities, views.global],
        featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
      }),
    );
    // The data must exercise matches and misses alike.
    const rates = result.getChild('drivers__rate')!;
    expect(rates.nullCount).to.be.within(1, rates.length - 1);
  });

  it('get_historical_features with views sharing a source, each with its own TTL, short feature names', async () => {
    const result = await same(
      historical({
        entityTable: entityRows(rand, 3000),
        featureViews: [views.short, views.forever],
        featureRefs: ['drivers_short:trips', 'drivers_forever:name', 'drivers_forever:rate'],
        fullFeatureNames: false,
      }),
    );
    expect(result.getChild('trips')!.nullCount).to.be.greaterThan(result.getChild('rate')!.nullCount);
  });

  it('get_historical_features in the start/end-date mode', async () => {
    await same(
      historical({
        featureViews: [views.drivers, views.short],
        featureRefs: ['drivers:rate', 'drivers:name', 'drivers_short:trips'],
        startDate: new Date(Number((T0_US + 10n * H_US) / 1000n)),
        endDate: new Date(Number((T0_US + 30n * H_US) / 1000n)),
      }),
    );
  });

  const pull = (extra: Partial<PullRequest>): PullRequest => ({
    source: drivers,
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['rate', 'name', 'flag'],
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    startDate: new Date(Number((T0_US + 5n * H_US) / 1000n)),
    endDate: new Date(Number((T0_US + 40n * H_US) / 1000n)),
    ...extra,
  });

  it('pull_latest_from_table_or_query, with and without join keys', async () => {
    await same((s) => s.pullLatestFromTableOrQuery(pull({}), callContext()).then(collect));
    await same((s) => s.pullLatestFromTableOrQuery(pull({ joinKeyColumns: [], startDate: null }), callContext()).then(collect));
  });

  it('pull_all_from_table_or_query, bounded and unbounded', async () => {
    await same((s) => s.pullAllFromTableOrQuery(pull({}), callContext()).then(collect));
    await same((s) =>
      s.pullAllFromTableOrQuery(pull({ featureNameColumns: [], startDate: null, endDate: null }), callContext()).then(collect),
    );
  });

  it("lists a source's columns with pyarrow's type names, as the built-in store does", async () => {
    const expected = await builtin.getTableColumnNamesAndTypes(drivers, callContext());
    expect(await example.getTableColumnNamesAndTypes(drivers, callContext())).to.deep.equal(expected);
  });

  it('refuses what it cannot do with the error classes the Feast client re-raises', async () => {
    const refused = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.fail('expected a refusal'),
        (e: Error) => e,
      );
    expect(await refused(example.pullAllFromTableOrQuery(pull({ joinKeyColumns: ['nope'] }), callContext()))).to.be.instanceOf(
      FeastJoinKeysDuringMaterialization,
    );
    expect(await refused(example.pullAllFromTableOrQuery(pull({ timestampField: 'name' }), callContext())))
      .to.be.instanceOf(InvalidArgumentError)
      .and.have.property('message')
      .that.match(/"name" is a Utf8 column, not a timestamp/);
    const noKey = entityRows(rand, 10).select(['city', 'event_timestamp']);
    expect(await refused(historical({ entityTable: noKey, featureViews: [views.drivers], featureRefs: ['drivers:rate'] })(example)))
      .to.be.instanceOf(InvalidArgumentError)
      .and.have.property('message')
      .that.match(/no column "driver_id"/);
    expect(await refused(example.getTableColumnNamesAndTypes(fileSource('outside', '/etc'), callContext())))
      .to.be.instanceOf(InvalidArgumentError)
      .and.have.property('message')
      .that.match(/outside the feature repo/);
    expect(await refused(example.offlineWriteBatch({ featureView: views.drivers, table: noKey }, callContext()))).to.be.instanceOf(
      UnimplementedError,
    );
  });

  it('max_source_mb refuses a source too large to read into memory', async () => {
    const tiny = await examplePlugin.create({ type: 'larder-store-example', max_source_mb: 0.001 }, env);
    const error = await tiny.pullAllFromTableOrQuery(pull({}), callContext()).catch((e: Error) => e);
    expect(error).to.be.instanceOf(FailedPreconditionError);
    expect((error as Error).message).to.match(/more than larder-store-example's max_source_mb/);
  });
});

/**
 * The Feast client's requests, answered by the bundled example repo with this store in one
 * larder process (loaded by absolute path from `offline_store.type`) and with the built-in `file`
 * store in another: both answers must be equal, and not empty.
 */
const CLIENT_SCRIPT = `
import sys, json
from datetime import datetime, timezone
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
entity_df = pd.DataFrame({
    "driver_id": [1001, 1002, 1003, 1001, 9999],
    "event_timestamp": [datetime(2021, 4, 12, 10, 59, 42, tzinfo=timezone.utc), datetime(2021, 4, 12, 8, 0, 0, tzinfo=timezone.utc),
                        datetime(2021, 4, 12, 16, 40, 26, tzinfo=timezone.utc), datetime(2021, 4, 1, tzinfo=timezone.utc),
                        datetime(2021, 4, 11, tzinfo=timezone.utc)],
})
features = ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"]
training = store.get_historical_features(entity_df=entity_df, features=features).to_df()
latest = store._get_provider().offline_store.pull_latest_from_table_or_query(
    config=store.config, data_source=store.get_data_source("driver_hourly_stats_source"), join_key_columns=["driver_id"],
    feature_name_columns=["conv_rate", "avg_daily_trips"], timestamp_field="event_timestamp", created_timestamp_column="created",
    start_date=datetime(2021, 4, 11, tzinfo=timezone.utc), end_date=datetime(2021, 4, 12, 12, tzinfo=timezone.utc)).to_df()
print("RESULT" + json.dumps({"training": training.to_json(orient="records"), "latest": latest.sort_values("driver_id").to_json(orient="records")}))
`;

describe('examples/store-plugin (larder-store-example) in a larder process, called by the Feast client', function () {
  this.timeout(240_000);
  let workdir: string;
  const servers: ServerProcess[] = [];

  before(() => {
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-example-store-e2e-'));
  });

  after(async () => {
    for (const server of servers) await server.stop();
    rmSync(workdir, { recursive: true, force: true });
  });

  /** Serves a copy of the example repo with `storeType`, fetches with the Feast client, returns what it printed. */
  async function fetchThrough(name: string, storeType: string): Promise<{ training: string; latest: string }> {
    const repo = await writeExampleRepo(path.join(workdir, name));
    const yamlPath = path.join(repo, 'feature_store.yaml');
    writeFileSync(yamlPath, readFileSync(yamlPath, 'utf8').replace('  type: file', `  type: ${storeType}`));
    const server = await startLarder({ repoPath: repo });
    servers.push(server);
    const client = path.join(workdir, `${name}-client`);
    mkdirSync(client);
    writeFileSync(
      path.join(client, 'feature_store.yaml'),
      [
        'project: larder_example',
        `registry: ${path.join(repo, 'data', 'registry.db')}`,
        'provider: local',
        'offline_store:',
        '  type: remote',
        '  host: 127.0.0.1',
        `  port: ${server.port}`,
        'entity_key_serialization_version: 3',
        '',
      ].join('\n'),
    );
    const { stdout } = await run(feastPython().python, ['-c', CLIENT_SCRIPT, client], { env: feastEnv(), timeout: 120_000 });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
    expect(line, stdout).to.be.a('string');
    return JSON.parse(line!.slice('RESULT'.length));
  }

  it('get_historical_features and pull_latest answer as with the built-in file store', async () => {
    const pluginPath = fileURLToPath(new URL('../../examples/store-plugin/src/index.ts', import.meta.url));
    const example = await fetchThrough('with-example', pluginPath);
    const builtin = await fetchThrough('with-file', 'file');
    expect(example).to.deep.equal(builtin);
    const training = JSON.parse(example.training) as Array<Record<string, unknown>>;
    expect(training.map((r) => r.conv_rate === null)).to.deep.equal([false, false, false, true, true]);
    expect(JSON.parse(example.latest)).to.have.length(5);
  });
});
