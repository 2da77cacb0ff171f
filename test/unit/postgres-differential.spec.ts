/**
 * The postgres and parquet-files stores over the same generated data (parquet files for one,
 * tables loaded in the same row order for the other) must return the same values: several
 * views, an alias with a join_key_map, an entityless view, timestamp ties with and without
 * created (full ties go to the row stored last, as to the later file), null keys, null
 * timestamps, null features, entity rows exactly on TTL boundaries, and a query source; views
 * sharing one source with different TTLs (answered by one match, each view checking its own TTL).
 *
 * Each postgres formulation of the rule (`point_in_time_strategy` window, join, auto) is compared.
 * Timestamps are the same instants; their type is naive in PostgreSQL results, as in Feast's.
 * Row order is compared exactly for get_historical_features with an entity table (the entity
 * rows' order); the pulls are compared as sorted rows, since the stores order them differently
 * (by time and key in PostgreSQL, by first file row in the file store). The start/end-date mode is
 * not compared: each store answers it as the Feast store it emulates, and those differ.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Float64, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import pino from 'pino';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import { encodeCopyBinary } from '../../plugins/postgres/src/copy-binary-encoder.ts';
import { pgTypeForArrow } from '../../plugins/postgres/src/pg-types.ts';
import type { HistoricalFeaturesRequest, OfflineStore, PullRequest } from '../../core/src/store.ts';
import type { DataSource } from '../../core/src/registry/model.ts';
import { featureView, fileSource, postgresSource } from '../support/feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot, tsUtc } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

async function loadTable(client: pg.Client, name: string, parts: readonly Table[]): Promise<void> {
  const schema = parts[0]!.schema;
  await client.query(`CREATE TABLE ${name} (${schema.fields.map((f) => `"${f.name}" ${pgTypeForArrow(f.type, f.name)}`).join(', ')})`);
  for (const part of parts)
    await pipeline(Readable.from(encodeCopyBinary(part)), client.query(copyFrom(`COPY ${name} FROM STDIN (FORMAT binary)`)));
}

describe('postgres store vs parquet-files store: the same results on generated data', function () {
  this.timeout(120_000);
  let repo: string;
  let server: PostgresServer;
  let file: OfflineStore;
  /** One store per point-in-time formulation: both must agree with the file store. */
  const postgres = new Map<string, OfflineStore>();
  const rand = random(20241202);

  const fileViews = (s: Record<'drivers' | 'cities' | 'globals', DataSource>) => ({
    drivers: featureView('drivers', s.drivers, ['driver_id'], ['rate', 'trips', 'name', 'flag'], TTL_S),
    other: featureView('drivers', s.drivers, ['driver_id'], ['rate'], 0, {
      nameAlias: 'other',
      joinKeyMap: { driver_id: 'other_driver_id' },
    }),
    cities: featureView('cities', s.cities, ['city'], ['population'], 0),
    global: featureView('global', s.globals, [], ['total'], 6 * 3600),
    // With `drivers`, one source group (same relation, keys, timestamp, created) with other TTLs:
    // an hour (entity and source rows on whole hours sit exactly on its boundary), and none.
    short: featureView('drivers_short', s.drivers, ['driver_id'], ['trips'], 3600),
    forever: featureView('drivers_forever', s.drivers, ['driver_id'], ['name', 'rate'], 0),
  });
  const sourcesOf = {
    file: {
      drivers: fileSource('drivers', 'drivers'),
      cities: fileSource('cities', 'cities.parquet', { createdTimestampColumn: '' }),
      globals: fileSource('globals', 'globals.parquet', { createdTimestampColumn: '' }),
    },
    postgres: {
      drivers: postgresSource('drivers', { table: 'drivers' }),
      cities: postgresSource('cities', { table: 'public.cities_table' }, { createdTimestampColumn: '' }),
      // A query source has no physical row order to settle full ties; the global rows have none.
      globals: postgresSource('globals', { query: 'SELECT ts, total FROM globals' }, { createdTimestampColumn: '' }),
    },
  };
  const views = { file: fileViews(sourcesOf.file), postgres: fileViews(sourcesOf.postgres) };

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-pgdiff-'));
    server = await startPostgres();
    const driversA = driverRows(rand, 3000);
    const driversB = driverRows(rand, 2000);
    const cities = cityRows(rand, 500);
    const globals = arrowTable([
      ['ts', tsUtc, Array.from({ length: 30 }, (_, i) => T0_US + BigInt(i * 2) * H_US)],
      ['total', new Float64(), Array.from({ length: 30 }, (_, i) => (i % 7 === 0 ? null : i * 1.5))],
    ]);
    writeParquetFile(path.join(repo, 'drivers', 'part-0.parquet'), driversA);
    writeParquetFile(path.join(repo, 'drivers', 'part-1.parquet'), driversB);
    writeParquetFile(path.join(repo, 'cities.parquet'), cities);
    writeParquetFile(path.join(repo, 'globals.parquet'), globals);
    const client = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database: server.database,
    });
    await client.connect();
    try {
      await loadTable(client, 'drivers', [driversA, driversB]);
      await loadTable(client, 'cities_table', [cities]);
      await loadTable(client, 'globals', [globals]);
    } finally {
      await client.end();
    }
    const env = { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };
    file = await parquetFilesPlugin.create({ type: 'file' }, env);
    for (const strategy of ['window', 'join', 'auto']) {
      postgres.set(strategy, await postgresPlugin.create(server.offlineStoreConfig({ point_in_time_strategy: strategy }), env));
    }
  });

  after(async () => {
    for (const store of postgres.values()) await store.close();
    await server?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  async function same(call: (store: OfflineStore, kind: 'file' | 'postgres') => Promise<Table>, sorted = false) {
    const expected = await call(file, 'file');
    expect(expected.numRows).to.be.greaterThan(0);
    const e = snapshot(expected);
    // Feast's postgres store types every timestamp as naive timestamp[us] (UTC instants); so does larder's.
    e.schema = e.schema.map((s) => s.replace('Timestamp<MICROSECOND, UTC>', 'Timestamp<MICROSECOND>'));
    if (sorted) e.rows.sort();
    for (const [strategy, store] of postgres) {
      const a = snapshot(await call(store, 'postgres'));
      expect(a.schema, strategy).to.deep.equal(e.schema);
      if (sorted) a.rows.sort();
      expect(a.rows.length, strategy).to.equal(e.rows.length);
      a.rows.forEach((row, i) => expect(row, `${strategy}: row ${i}`).to.equal(e.rows[i]));
    }
    return expected;
  }

  const historical =
    (req: Partial<HistoricalFeaturesRequest>, pick: (v: typeof views.file) => HistoricalFeaturesRequest['featureViews']) =>
    (store: OfflineStore, kind: 'file' | 'postgres') =>
      store
        .getHistoricalFeatures(
          { featureViews: pick(views[kind]), featureRefs: [], project: 'p', fullFeatureNames: true, ...req },
          callContext(),
        )
        .then(collect);

  it('get_historical_features with an entity table: four views, alias, entityless view, a query source', async () => {
    const entityTable = entityRows(rand, 4000);
    const result = await same(
      historical(
        {
          entityTable,
          featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
        },
        (v) => [v.drivers, v.other, v.cities, v.global],
      ),
    );
    const rates = result.getChild('drivers__rate')!;
    expect(rates.nullCount).to.be.within(1, rates.length - 1);
  });

  it('get_historical_features with views sharing a source: one match, each view its own TTL', async () => {
    const result = await same(
      historical(
        {
          entityTable: entityRows(rand, 3000),
          featureRefs: ['drivers_short:trips', 'drivers:rate', 'drivers_forever:name', 'drivers_forever:rate', 'drivers:trips'],
        },
        (v) => [v.short, v.drivers, v.forever],
      ),
    );
    // The shortest TTL must blank rows the longer ones keep, and no TTL blank fewer still: a
    // group answered with one TTL for all would fail here (or against the file store above).
    const nulls = (name: string) => result.getChild(name)!.nullCount;
    expect(nulls('drivers_short__trips')).to.be.greaterThan(nulls('drivers__trips'));
    expect(nulls('drivers_forever__rate')).to.be.below(nulls('drivers__rate'));
  });

  const pull = (source: DataSource, extra: Partial<PullRequest>): PullRequest => ({
    source,
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['rate', 'name', 'flag'],
    timestampField: 'ts',
    createdTimestampColumn: 'created',
    startDate: new Date(Number((T0_US + 5n * H_US) / 1000n)),
    endDate: new Date(Number((T0_US + 40n * H_US) / 1000n)),
    ...extra,
  });

  it('pull_latest_from_table_or_query', async () => {
    await same((s, kind) => s.pullLatestFromTableOrQuery(pull(sourcesOf[kind].drivers, {}), callContext()).then(collect), true);
    await same(
      (s, kind) =>
        s.pullLatestFromTableOrQuery(pull(sourcesOf[kind].drivers, { joinKeyColumns: [], startDate: null }), callContext()).then(collect),
      true,
    );
  });

  it('pull_all_from_table_or_query', async () => {
    await same((s, kind) => s.pullAllFromTableOrQuery(pull(sourcesOf[kind].drivers, {}), callContext()).then(collect), true);
    await same(
      (s, kind) =>
        s
          .pullAllFromTableOrQuery(pull(sourcesOf[kind].drivers, { featureNameColumns: [], startDate: null, endDate: null }), callContext())
          .then(collect),
      true,
    );
  });
});
