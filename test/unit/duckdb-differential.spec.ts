/**
 * The duckdb and parquet-files stores over the same generated data must return identical tables,
 * value by value: several views (one a multi-file directory), an alias with a join_key_map, an
 * entityless view, timestamp ties with and without created, null keys, null timestamps, null
 * features, and entity rows placed exactly on TTL boundaries; views sharing a source with different
 * TTLs. The duckdb store runs with each point-in-time strategy (auto, asof, join).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import type { HistoricalFeaturesRequest, OfflineStore, PullRequest } from '../../core/src/store.ts';
import { fileSource, featureView } from '../support/feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot, tsUtc } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';

const source = fileSource;
const view = featureView;

describe('duckdb store vs parquet-files store: identical results on generated data', () => {
  let repo: string;
  let file: OfflineStore;
  const ducks = new Map<string, OfflineStore>();
  const rand = random(20241201);

  const drivers = source('drivers', 'drivers');
  const cities = source('cities', 'cities.parquet', { createdTimestampColumn: '' });
  const globals = source('globals', 'globals.parquet', { createdTimestampColumn: '' });
  const views = {
    drivers: view('drivers', drivers, ['driver_id'], ['rate', 'trips', 'name', 'flag'], TTL_S),
    other: view('drivers', drivers, ['driver_id'], ['rate'], 0, { nameAlias: 'other', joinKeyMap: { driver_id: 'other_driver_id' } }),
    cities: view('cities', cities, ['city'], ['population'], 0),
    global: view('global', globals, [], ['total'], 6 * 3600),
    // With `drivers`, one source group: the same source, keys and timestamps; other TTLs.
    short: view('drivers_short', drivers, ['driver_id'], ['trips'], 3600),
    forever: view('drivers_forever', drivers, ['driver_id'], ['name', 'rate'], 0),
  };

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-diff-'));
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
    const env = { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };
    file = await parquetFilesPlugin.create({ type: 'file' }, env);
    for (const strategy of ['auto', 'asof', 'join']) {
      ducks.set(strategy, await duckdbPlugin.create({ type: 'duckdb', threads: 2, point_in_time_strategy: strategy }, env));
    }
  });

  after(async () => {
    for (const duck of ducks.values()) await duck.close();
    rmSync(repo, { recursive: true, force: true });
  });

  async function both(call: (store: OfflineStore) => Promise<Table>) {
    const expected = await call(file);
    expect(expected.numRows).to.be.greaterThan(0);
    const e = snapshot(expected);
    for (const [strategy, duck] of ducks) {
      const a = snapshot(await call(duck));
      expect(a.schema, strategy).to.deep.equal(e.schema);
      expect(a.rows.length, strategy).to.equal(e.rows.length);
      a.rows.forEach((row, i) => expect(row, `${strategy}: row ${i}`).to.equal(e.rows[i]));
    }
    return expected;
  }

  const historical = (req: Partial<HistoricalFeaturesRequest>) => (store: OfflineStore) =>
    store
      .getHistoricalFeatures({ featureViews: [], featureRefs: [], project: 'p', fullFeatureNames: true, ...req }, callContext())
      .then(collect);

  it('get_historical_features with an entity table: four views, alias, entityless view', async () => {
    const entityTable = entityRows(rand, 4000);
    const result = await both(
      historical({
        entityTable,
        featureViews: [views.drivers, views.other, views.cities, views.global],
        featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
      }),
    );
    // The data must exercise matches and misses alike.
    const rates = result.getChild('drivers__rate')!.toArray() as Float64Array;
    expect(result.getChild('drivers__rate')!.nullCount).to.be.within(1, rates.length - 1);
  });

  it('get_historical_features with views sharing a source: one match, each view its own TTL', async () => {
    const result = await both(
      historical({
        entityTable: entityRows(rand, 3000),
        featureViews: [views.short, views.drivers, views.forever],
        featureRefs: ['drivers_short:trips', 'drivers:rate', 'drivers_forever:name', 'drivers_forever:rate'],
      }),
    );
    // The shortest TTL must blank rows the longer ones keep.
    expect(result.getChild('drivers_short__trips')!.nullCount).to.be.greaterThan(result.getChild('drivers__rate')!.nullCount);
    expect(result.getChild('drivers_forever__rate')!.nullCount).to.be.below(result.getChild('drivers__rate')!.nullCount);
  });

  it('get_historical_features in the start/end-date mode', async () => {
    await both(
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

  it('pull_latest_from_table_or_query', async () => {
    await both((s) => s.pullLatestFromTableOrQuery(pull({}), callContext()).then(collect));
    await both((s) => s.pullLatestFromTableOrQuery(pull({ joinKeyColumns: [], startDate: null }), callContext()).then(collect));
  });

  it('pull_all_from_table_or_query', async () => {
    await both((s) => s.pullAllFromTableOrQuery(pull({}), callContext()).then(collect));
    await both((s) =>
      s.pullAllFromTableOrQuery(pull({ featureNameColumns: [], startDate: null, endDate: null }), callContext()).then(collect),
    );
  });
});
