/**
 * examples/store-plugin (larder-store-example), the template for third-party store authors, must
 * answer exactly as the built-in `file` store over the same parquet files: same requests, equal
 * tables, value by value (generated data with timestamp ties, null keys, times and features,
 * entity rows on TTL boundaries, a directory source, an alias with a join_key_map, an entityless
 * view, views sharing a source with different TTLs). Until `@larder/core/testing` lands this is
 * its conformance check; the example is loaded from its sources.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import examplePlugin from '../../examples/store-plugin/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { FailedPreconditionError, FeastJoinKeysDuringMaterialization, InvalidArgumentError, UnimplementedError } from '../../core/src/errors.ts';
import type { HistoricalFeaturesRequest, OfflineStore, PullRequest, StoreEnvironment } from '../../core/src/store.ts';
import { fileSource, featureView } from '../support/feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot, tsUtc } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';

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
    other: featureView('drivers', drivers, ['driver_id'], ['rate'], 0, { nameAlias: 'other', joinKeyMap: { driver_id: 'other_driver_id' } }),
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
    writeParquetFile(path.join(repo, 'globals.parquet'), arrowTable([
      ['ts', tsUtc, Array.from({ length: 30 }, (_, i) => T0_US + BigInt(i * 2) * H_US)],
      ['total', new Float64(), Array.from({ length: 30 }, (_, i) => (i % 7 === 0 ? null : i * 1.5))],
    ]));
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
    a.rows.forEach((row, i) => expect(row, `row ${i}`).to.equal(e.rows[i]));
    return expected;
  }

  const historical = (req: Partial<HistoricalFeaturesRequest>) => (store: OfflineStore) =>
    store.getHistoricalFeatures({ featureViews: [], featureRefs: [], project: 'p', fullFeatureNames: true, ...req }, callContext()).then(collect);

  it('get_historical_features with an entity table: four views, alias, entityless view', async () => {
    const result = await same(historical({
      entityTable: entityRows(rand, 4000),
      featureViews: [views.drivers, views.other, views.cities, views.global],
      featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
    }));
    // The data must exercise matches and misses alike.
    const rates = result.getChild('drivers__rate')!;
    expect(rates.nullCount).to.be.within(1, rates.length - 1);
  });

  it('get_historical_features with views sharing a source, each with its own TTL, short feature names', async () => {
    const result = await same(historical({
      entityTable: entityRows(rand, 3000),
      featureViews: [views.short, views.forever],
      featureRefs: ['drivers_short:trips', 'drivers_forever:name', 'drivers_forever:rate'],
      fullFeatureNames: false,
    }));
    expect(result.getChild('trips')!.nullCount).to.be.greaterThan(result.getChild('rate')!.nullCount);
  });

  it('get_historical_features in the start/end-date mode', async () => {
    await same(historical({
      featureViews: [views.drivers, views.short],
      featureRefs: ['drivers:rate', 'drivers:name', 'drivers_short:trips'],
      startDate: new Date(Number((T0_US + 10n * H_US) / 1000n)),
      endDate: new Date(Number((T0_US + 30n * H_US) / 1000n)),
    }));
  });

  const pull = (extra: Partial<PullRequest>): PullRequest => ({
    source: drivers, joinKeyColumns: ['driver_id'], featureNameColumns: ['rate', 'name', 'flag'], timestampField: 'ts',
    createdTimestampColumn: 'created', startDate: new Date(Number((T0_US + 5n * H_US) / 1000n)), endDate: new Date(Number((T0_US + 40n * H_US) / 1000n)),
    ...extra,
  });

  it('pull_latest_from_table_or_query, with and without join keys', async () => {
    await same((s) => s.pullLatestFromTableOrQuery(pull({}), callContext()).then(collect));
    await same((s) => s.pullLatestFromTableOrQuery(pull({ joinKeyColumns: [], startDate: null }), callContext()).then(collect));
  });

  it('pull_all_from_table_or_query, bounded and unbounded', async () => {
    await same((s) => s.pullAllFromTableOrQuery(pull({}), callContext()).then(collect));
    await same((s) => s.pullAllFromTableOrQuery(pull({ featureNameColumns: [], startDate: null, endDate: null }), callContext()).then(collect));
  });

  it('lists a source\'s columns with pyarrow\'s type names, as the built-in store does', async () => {
    const expected = await builtin.getTableColumnNamesAndTypes(drivers, callContext());
    expect(await example.getTableColumnNamesAndTypes(drivers, callContext())).to.deep.equal(expected);
  });

  it('refuses what it cannot do with the error classes the Feast client re-raises', async () => {
    const refused = (promise: Promise<unknown>) => promise.then(() => expect.fail('expected a refusal'), (e: Error) => e);
    expect(await refused(example.pullAllFromTableOrQuery(pull({ joinKeyColumns: ['nope'] }), callContext()))).to.be.instanceOf(FeastJoinKeysDuringMaterialization);
    expect(await refused(example.pullAllFromTableOrQuery(pull({ timestampField: 'name' }), callContext())))
      .to.be.instanceOf(InvalidArgumentError).and.have.property('message').that.match(/"name" is a Utf8 column, not a timestamp/);
    const noKey = entityRows(rand, 10).select(['city', 'event_timestamp']);
    expect(await refused(historical({ entityTable: noKey, featureViews: [views.drivers], featureRefs: ['drivers:rate'] })(example)))
      .to.be.instanceOf(InvalidArgumentError).and.have.property('message').that.match(/no column "driver_id"/);
    expect(await refused(example.getTableColumnNamesAndTypes(fileSource('outside', '/etc'), callContext())))
      .to.be.instanceOf(InvalidArgumentError).and.have.property('message').that.match(/outside the feature repo/);
    expect(await refused(example.offlineWriteBatch({ featureView: views.drivers, table: noKey }, callContext()))).to.be.instanceOf(UnimplementedError);
  });

  it('max_source_mb refuses a source too large to read into memory', async () => {
    const tiny = await examplePlugin.create({ type: 'larder-store-example', max_source_mb: 0.001 }, env);
    const error = await tiny.pullAllFromTableOrQuery(pull({}), callContext()).catch((e: Error) => e);
    expect(error).to.be.instanceOf(FailedPreconditionError);
    expect((error as Error).message).to.match(/more than larder-store-example's max_source_mb/);
  });
});
