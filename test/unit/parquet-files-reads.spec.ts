/**
 * pull_latest / pull_all, the start/end-date mode, column listing and bad sources of the two
 * file-based stores (parquet-files and duckdb), which must behave alike.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Field, Float32, Int32, Int64, List, type Table, TimeUnit, Timestamp, Utf8, type DataType } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { DataSourceNotFoundException, FeastJoinKeysDuringMaterialization, InvalidArgumentError } from '../../core/src/errors.ts';
import type { DataSource, FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore, OfflineStorePlugin, PullRequest } from '../../core/src/store.ts';
import { fileSource } from '../support/feature-views.ts';
import { arrowTable, callContext, collect, micros, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

/** Like arrowTable, with timestamps given in milliseconds. */
function table(columns: Array<[string, DataType, unknown[]]>): Table {
  return arrowTable(columns.map(([n, t, v]) => [n, t, t instanceof Timestamp ? (v as Array<number | null>).map(micros) : v]));
}

const source = (uri: string, extra: Partial<DataSource> = {}): DataSource => fileSource('src', uri, extra);

const stores: Array<[OfflineStorePlugin, string]> = [
  [parquetFilesPlugin, 'file'],
  [duckdbPlugin, 'duckdb'],
];

for (const [plugin, storeType] of stores)
  describe(`${plugin.name} store: pulls, date range, column listing, bad sources`, () => {
    let repo: string;
    let store: OfflineStore;

    before(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-pq-'));
      writeParquetFile(
        path.join(repo, 'data', 'stats.parquet'),
        table([
          ['driver_id', new Int64(), [1n, 1n, 1n, 2n, 2n]],
          ['ts', tsUtc, [T0, T0 + H, T0 + H, T0, T0 + 5 * H]],
          ['created', tsUtc, [T0, T0 + 2, T0 + 1, T0, T0]],
          ['rate', new Float32(), [1, 2, 3, 20, 50]],
          ['trips', new Int32(), [10, 20, 30, 40, 50]],
          ['tags', new List(new Field('item', new Utf8(), true)), [['a'], [], null, ['b', 'c'], ['d']]],
        ]),
      );
      writeFileSync(path.join(repo, 'data', 'not-parquet.parquet'), 'hello');
      store = await plugin.create(
        { type: storeType },
        { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
      );
    });

    after(async () => {
      await store.close();
      rmSync(repo, { recursive: true, force: true });
    });

    const pull = (extra: Partial<PullRequest> = {}): PullRequest => ({
      source: source('data/stats.parquet'),
      joinKeyColumns: ['driver_id'],
      featureNameColumns: ['rate'],
      timestampField: 'ts',
      createdTimestampColumn: 'created',
      startDate: new Date(T0),
      endDate: new Date(T0 + H),
      ...extra,
    });

    it('pull_latest: one row per key, bounds inclusive, created breaks ts ties', async () => {
      const result = await collect(await store.pullLatestFromTableOrQuery(pull(), callContext()));
      expect(result.schema.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'rate', 'ts', 'created']);
      expect(rows(result).map((r) => [r.driver_id, r.rate])).to.deep.equal([
        [1, 2],
        [2, 20],
      ]);
    });

    it("pull_latest without join keys: the single latest row and Feast's __dummy_id", async () => {
      const result = await collect(
        await store.pullLatestFromTableOrQuery(pull({ joinKeyColumns: [], endDate: new Date(T0 + 9 * H) }), callContext()),
      );
      expect(rows(result)).to.have.length(1);
      expect(rows(result)[0]).to.include({ rate: 50, __dummy_id: '' });
    });

    it('pull_all: every row in range (either bound optional), all columns when none are named', async () => {
      const bounded = await collect(await store.pullAllFromTableOrQuery(pull(), callContext()));
      expect(rows(bounded).map((r) => r.rate)).to.deep.equal([1, 2, 3, 20]);
      const open = await collect(
        await store.pullAllFromTableOrQuery(pull({ featureNameColumns: [], startDate: null, endDate: null }), callContext()),
      );
      expect(open.numRows).to.equal(5);
      expect(open.schema.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'ts', 'created', 'rate', 'trips', 'tags']);
      expect(rows(open).map((r) => (r.tags as { toArray(): string[] } | null)?.toArray() ?? null)).to.deep.equal([
        ['a'],
        [],
        null,
        ['b', 'c'],
        ['d'],
      ]);
    });

    it('pull: a missing join key is FeastJoinKeysDuringMaterialization', async () => {
      const error = await store.pullAllFromTableOrQuery(pull({ joinKeyColumns: ['rider_id'] }), callContext()).catch((e: Error) => e);
      expect(error).to.be.instanceOf(FeastJoinKeysDuringMaterialization);
    });

    // The file store answers as Feast's file store: each key's latest row at or before end_date,
    // stamped end_date (start_date filters nothing). duckdb keeps the (key, timestamp)-in-range rule.
    const dateMode =
      storeType === 'file'
        ? {
            what: "one row per key as of end_date (Feast's file store)",
            rows: [
              [T0 + 2 * H, 2, 20],
              [T0 + 2 * H, 1, 2],
            ],
          }
        : {
            what: 'each (key, timestamp) in range with its features',
            rows: [
              [T0, 1, 1],
              [T0 + H, 1, 2],
              [T0, 2, 20],
            ],
          };
    it(`the start/end-date mode returns ${dateMode.what}`, async () => {
      const fields = [{ name: 'rate', valueType: 6, tags: {} }];
      const fv: FeatureView = {
        kind: 'featureView',
        name: 'stats',
        project: 'p',
        entities: ['driver'],
        features: fields,
        entityColumns: [{ name: 'driver_id', valueType: 4, tags: {} }],
        ttlSeconds: 0,
        batchSource: source('data/stats.parquet'),
        tags: {},
        projection: { name: 'stats', nameAlias: null, features: fields, joinKeyMap: {}, versionTag: null },
      };
      const result = await collect(
        await store.getHistoricalFeatures(
          {
            featureViews: [fv],
            featureRefs: ['stats:rate'],
            project: 'p',
            fullFeatureNames: false,
            startDate: new Date(T0),
            endDate: new Date(T0 + 2 * H),
          },
          callContext(),
        ),
      );
      expect(result.schema.fields.map((f) => f.name)).to.deep.equal(['event_timestamp', 'driver_id', 'rate']);
      expect(rows(result).map((r) => [r.event_timestamp, r.driver_id, r.rate])).to.deep.equal(dateMode.rows);
    });

    it("lists columns with pyarrow's type strings", async () => {
      const columns = await store.getTableColumnNamesAndTypes(source('data/stats.parquet'), callContext());
      expect(columns).to.deep.equal([
        { name: 'driver_id', type: 'int64' },
        { name: 'ts', type: 'timestamp[us, tz=UTC]' },
        { name: 'created', type: 'timestamp[us, tz=UTC]' },
        { name: 'rate', type: 'float' },
        { name: 'trips', type: 'int32' },
        { name: 'tags', type: 'list<item: string>' },
      ]);
    });

    it('refuses a client-sent source outside the repo and data roots', async () => {
      const error = await store.getTableColumnNamesAndTypes(source('/etc/passwd'), callContext()).catch((e: Error) => e);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect((error as Error).message).to.match(/outside the feature repo/);
    });

    it('reports a missing file, a non-parquet file and a missing timestamp column clearly', async () => {
      const missing = await store
        .pullAllFromTableOrQuery(pull({ source: source('data/nope.parquet') }), callContext())
        .catch((e: Error) => e);
      expect(missing).to.be.instanceOf(DataSourceNotFoundException);
      expect((missing as Error).message).to.equal(
        `Unable to find table at '${path.join(repo, 'data/nope.parquet')}'. Please check that table exists.`,
      );
      const garbage = await store
        .pullAllFromTableOrQuery(pull({ source: source('data/not-parquet.parquet') }), callContext())
        .catch((e: Error) => e);
      expect((garbage as Error).message).to.match(/not-parquet\.parquet is not a parquet file/);
      const noTs = await store.pullAllFromTableOrQuery(pull({ timestampField: 'when' }), callContext()).catch((e: Error) => e);
      expect((noTs as Error).message).to.match(/has no column "when"/);
    });
  });
