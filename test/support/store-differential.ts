/**
 * The differential of a store against the built-in `file` (parquet-files) store: both read the same
 * generated parquet repo and must answer the same requests with equal tables, schema and rows,
 * value by value. The repo has a directory source of two files (full ties across files go to the
 * later file), timestamp ties with and without created, null keys, timestamps and features, an
 * entityless source; the views include an alias with a join_key_map and views sharing a source
 * with different TTLs; entity rows sit exactly on TTL boundaries (see generated-data.ts).
 *
 * A spec calls `useStoreDifferential` in its describe block (it registers the hooks that write the
 * repo and build the stores) and then `declareDifferentialCases` for the cases every such store
 * must pass; it may add its own cases with the sources, views and request builders exported here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, type Table } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import type { HistoricalFeaturesRequest, OfflineStore, PullRequest, StoreEnvironment } from '../../core/src/store.ts';
import { featureView, fileSource } from './feature-views.ts';
import { H_US, T0_US, TTL_S, cityRows, driverRows, entityRows, random, snapshot, tsUtc } from './generated-data.ts';
import { arrowTable, callContext, collect, writeParquetFile } from './parquet-fixtures.ts';

/** The repo's sources: a directory of two parquet files, and two single files without created. */
export const sources = {
  drivers: fileSource('drivers', 'drivers'),
  cities: fileSource('cities', 'cities.parquet', { createdTimestampColumn: '' }),
  globals: fileSource('globals', 'globals.parquet', { createdTimestampColumn: '' }),
};

/** The feature views over `sources` the cases request. */
export const views = {
  drivers: featureView('drivers', sources.drivers, ['driver_id'], ['rate', 'trips', 'name', 'flag'], TTL_S),
  other: featureView('drivers', sources.drivers, ['driver_id'], ['rate'], 0, {
    nameAlias: 'other',
    joinKeyMap: { driver_id: 'other_driver_id' },
  }),
  cities: featureView('cities', sources.cities, ['city'], ['population'], 0),
  global: featureView('global', sources.globals, [], ['total'], 6 * 3600),
  // With `drivers`, one source group: the same source, keys and timestamps; other TTLs.
  short: featureView('drivers_short', sources.drivers, ['driver_id'], ['trips'], 3600),
  forever: featureView('drivers_forever', sources.drivers, ['driver_id'], ['name', 'rate'], 0),
};

/** Writes the generated parquet files of `sources` under `repo`, drawing rows from `rand`. */
export function writeDifferentialData(repo: string, rand: () => number): void {
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
}

/** A call of one store method, collected into a table. */
export type StoreCall = (store: OfflineStore) => Promise<Table>;

/** A get_historical_features call in project `p` with full feature names, unless `req` says otherwise. */
export const historical =
  (req: Partial<HistoricalFeaturesRequest>): StoreCall =>
  (store) =>
    store
      .getHistoricalFeatures({ featureViews: [], featureRefs: [], project: 'p', fullFeatureNames: true, ...req }, callContext())
      .then(collect);

/** A pull request over the drivers source, bounded to hours 5 to 40, with `extra` replacing any field. */
export const pull = (extra: Partial<PullRequest>): PullRequest => ({
  source: sources.drivers,
  joinKeyColumns: ['driver_id'],
  featureNameColumns: ['rate', 'name', 'flag'],
  timestampField: 'ts',
  createdTimestampColumn: 'created',
  startDate: new Date(Number((T0_US + 5n * H_US) / 1000n)),
  endDate: new Date(Number((T0_US + 40n * H_US) / 1000n)),
  ...extra,
});

/** What a differential describe block works with; the stores are there once its `before` hook ran. */
export interface StoreDifferential {
  /** The generated repo's environment, as a store plugin is given it. */
  readonly env: StoreEnvironment;
  /** The built-in `file` store: the answers every candidate must give. */
  readonly reference: OfflineStore;
  /** The stores under test, by a label that names them in assertion messages. */
  readonly candidates: ReadonlyMap<string, OfflineStore>;
  /** The seeded generator the repo's data came from; cases draw their entity rows from it next. */
  readonly rand: () => number;
  /**
   * Runs `call` on the reference store and on every candidate; the reference's table must not be
   * empty and every candidate's must equal it, schema and rows in order. Returns the reference's.
   */
  compare(call: StoreCall): Promise<Table>;
}

/** How `useStoreDifferential` sets up a describe block. */
export interface StoreDifferentialOptions {
  /** Seed of the generator: the data (and so a failure) is the same on every run. */
  readonly seed: number;
  /** Prefix of the temporary repo directory's name. */
  readonly tmpPrefix: string;
  /** Builds the stores under test over the generated repo, by label; they are closed after the block. */
  readonly candidates: (env: StoreEnvironment) => Promise<ReadonlyMap<string, OfflineStore>>;
}

/**
 * Registers, in the calling describe block, a `before` hook that writes the generated repo to a
 * temporary directory and builds the reference and candidate stores over it, and an `after` hook
 * that closes them and removes the directory. Call it before the block's own hooks that use it.
 */
export function useStoreDifferential(options: StoreDifferentialOptions): StoreDifferential {
  const rand = random(options.seed);
  let repo: string | undefined;
  let env: StoreEnvironment | undefined;
  let reference: OfflineStore | undefined;
  let candidates: ReadonlyMap<string, OfflineStore> = new Map();
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the store differential is set up by its before hook: use it inside it() or a later hook');
    return value;
  };

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), options.tmpPrefix));
    writeDifferentialData(repo, rand);
    env = { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) };
    reference = await parquetFilesPlugin.create({ type: 'file' }, env);
    candidates = await options.candidates(env);
  });

  after(async () => {
    for (const store of candidates.values()) await store.close();
    await reference?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  return {
    get env() {
      return ready(env);
    },
    get reference() {
      return ready(reference);
    },
    get candidates() {
      return candidates;
    },
    rand,
    async compare(call) {
      const expected = await call(ready(reference));
      expect(expected.numRows).to.be.greaterThan(0);
      const e = snapshot(expected);
      for (const [label, candidate] of candidates) {
        const a = snapshot(await call(candidate));
        expect(a.schema, label).to.deep.equal(e.schema);
        expect(a.rows.length, label).to.equal(e.rows.length);
        a.rows.forEach((row, i) => expect(row, `${label}: row ${i}`).to.equal(e.rows[i]));
      }
      return expected;
    },
  };
}

/** Which request the case of views sharing a source makes (each spec keeps the one it had). */
export type SharedSourceRequest =
  /** Three views of one source group with full names: the shortest and the longest TTL against `drivers`'. */
  | 'three views, full names'
  /** Two views with short feature names, so the columns come out unprefixed. */
  | 'two views, short names';

/**
 * Declares the cases every store in a differential must pass, in this order (the entity rows are
 * drawn from `d.rand` as the cases run, so the order fixes the data): get_historical_features with
 * an entity table over four views, with views sharing a source, in the start/end-date mode (only
 * with `dateModeAsFileStore`); pull_latest with and without join keys; pull_all bounded and unbounded.
 */
export function declareDifferentialCases(
  d: StoreDifferential,
  options: {
    sharedSource: SharedSourceRequest;
    /**
     * The store answers the start/end-date mode as the file store does (a snapshot as of
     * end_date, Feast's file store); stores that emulate another Feast store answer it otherwise.
     */
    dateModeAsFileStore?: boolean;
  },
): void {
  it('get_historical_features with an entity table: four views, alias, entityless view', async () => {
    const result = await d.compare(
      historical({
        entityTable: entityRows(d.rand, 4000),
        featureViews: [views.drivers, views.other, views.cities, views.global],
        featureRefs: ['drivers:rate', 'drivers:trips', 'drivers:name', 'drivers:flag', 'other:rate', 'cities:population', 'global:total'],
      }),
    );
    // The data must exercise matches and misses alike.
    const rates = result.getChild('drivers__rate')!;
    expect(rates.nullCount).to.be.within(1, rates.length - 1);
  });

  if (options.sharedSource === 'three views, full names') {
    it('get_historical_features with views sharing a source: one match, each view its own TTL', async () => {
      const result = await d.compare(
        historical({
          entityTable: entityRows(d.rand, 3000),
          featureViews: [views.short, views.drivers, views.forever],
          featureRefs: ['drivers_short:trips', 'drivers:rate', 'drivers_forever:name', 'drivers_forever:rate'],
        }),
      );
      // The shortest TTL must blank rows the longer ones keep.
      expect(result.getChild('drivers_short__trips')!.nullCount).to.be.greaterThan(result.getChild('drivers__rate')!.nullCount);
      expect(result.getChild('drivers_forever__rate')!.nullCount).to.be.below(result.getChild('drivers__rate')!.nullCount);
    });
  } else {
    it('get_historical_features with views sharing a source, each with its own TTL, short feature names', async () => {
      const result = await d.compare(
        historical({
          entityTable: entityRows(d.rand, 3000),
          featureViews: [views.short, views.forever],
          featureRefs: ['drivers_short:trips', 'drivers_forever:name', 'drivers_forever:rate'],
          fullFeatureNames: false,
        }),
      );
      // The shorter TTL must blank rows the unlimited one keeps.
      expect(result.getChild('trips')!.nullCount).to.be.greaterThan(result.getChild('rate')!.nullCount);
    });
  }

  if (options.dateModeAsFileStore) {
    it('get_historical_features in the start/end-date mode', async () => {
      await d.compare(
        historical({
          featureViews: [views.drivers, views.short],
          featureRefs: ['drivers:rate', 'drivers:name', 'drivers_short:trips'],
          startDate: new Date(Number((T0_US + 10n * H_US) / 1000n)),
          endDate: new Date(Number((T0_US + 30n * H_US) / 1000n)),
        }),
      );
    });
  }

  it('pull_latest_from_table_or_query, with and without join keys', async () => {
    await d.compare((s) => s.pullLatestFromTableOrQuery(pull({}), callContext()).then(collect));
    await d.compare((s) => s.pullLatestFromTableOrQuery(pull({ joinKeyColumns: [], startDate: null }), callContext()).then(collect));
  });

  it('pull_all_from_table_or_query, bounded and unbounded', async () => {
    await d.compare((s) => s.pullAllFromTableOrQuery(pull({}), callContext()).then(collect));
    await d.compare((s) =>
      s.pullAllFromTableOrQuery(pull({ featureNameColumns: [], startDate: null, endDate: null }), callContext()).then(collect),
    );
  });
}
