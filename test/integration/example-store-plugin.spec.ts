/**
 * examples/store-plugin (larder-store-example), the template for third-party store authors.
 *
 * The store conformance kit, `@larder/core/testing` (core/src/testing), holds it to the rules every
 * store follows: test/packaging/packed-install.spec.ts runs the kit (`npx larder-conformance`) on
 * the example store installed from its tarball. This spec is the value-by-value check against the
 * built-in `file` store: the same requests over the same parquet files must give equal tables
 * (the generated data, views and shared cases of test/support/store-differential.ts: timestamp
 * ties, null keys, times and features, entity rows on TTL boundaries, a directory source, an alias
 * with a join_key_map, an entityless view, views sharing a source with different TTLs), plus the
 * example's own refusals and limits, and the Feast client through a larder process serving it.
 * The example is loaded from its sources.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import examplePlugin from '../../examples/store-plugin/src/index.ts';
import {
  FailedPreconditionError,
  FeastJoinKeysDuringMaterialization,
  InvalidArgumentError,
  MissingColumnError,
  UnimplementedError,
} from '../../core/src/errors.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { fileSource } from '../support/feature-views.ts';
import { entityRows } from '../support/generated-data.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';
import { callContext } from '../support/parquet-fixtures.ts';
import { declareDifferentialCases, historical, pull, sources, useStoreDifferential, views } from '../support/store-differential.ts';

const run = promisify(execFile);

describe('examples/store-plugin (larder-store-example) vs the built-in file store', () => {
  let example: OfflineStore;
  const differential = useStoreDifferential({
    seed: 20251207,
    tmpPrefix: 'larder-example-store-',
    async candidates(env) {
      // Small batches, so results span several of them.
      example = await examplePlugin.create({ type: 'larder-store-example', batch_rows: 1000 }, env);
      return new Map([['larder-store-example', example]]);
    },
  });

  declareDifferentialCases(differential, { sharedSource: 'two views, short names' });

  it("lists a source's columns with pyarrow's type names, as the built-in store does", async () => {
    const expected = await differential.reference.getTableColumnNamesAndTypes(sources.drivers, callContext());
    expect(await example.getTableColumnNamesAndTypes(sources.drivers, callContext())).to.deep.equal(expected);
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
    const noKey = entityRows(differential.rand, 10).select(['city', 'event_timestamp']);
    expect(await refused(historical({ entityTable: noKey, featureViews: [views.drivers], featureRefs: ['drivers:rate'] })(example)))
      .to.be.instanceOf(MissingColumnError)
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
    const tiny = await examplePlugin.create({ type: 'larder-store-example', max_source_mb: 0.001 }, differential.env);
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
