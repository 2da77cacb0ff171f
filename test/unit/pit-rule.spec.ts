/**
 * The point-in-time rule of DESIGN.md, edge by edge, through each file-based store (parquet-files
 * in JavaScript, duckdb in DuckDB) on the same real parquet files.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, Int64, type Table, TimeUnit, Timestamp, Utf8, type DataType } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { status } from '@grpc/grpc-js';
import { EntityTimestampInferenceException, InvalidArgumentError, MissingColumnError } from '../../core/src/errors.ts';
import type { FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore, OfflineStorePlugin } from '../../core/src/store.ts';
import { fileSource, featureView } from '../support/feature-views.ts';
import { arrowTable, callContext, collect, micros, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const H = 3_600_000; // an hour in ms
const T0 = Date.UTC(2024, 0, 1);
const us = micros;
const table = arrowTable;

const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const tsNaive = new Timestamp(TimeUnit.MICROSECOND);

const source = fileSource;
const view = featureView;

const stores: Array<[OfflineStorePlugin, string]> = [
  [parquetFilesPlugin, 'file'],
  [duckdbPlugin, 'duckdb'],
];

for (const [plugin, storeType] of stores)
  describe(`point-in-time rule (${plugin.name} store)`, () => {
    let repo: string;
    let store: OfflineStore;

    before(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-pit-'));
      // driver 1: rows at T0, T0+1h (two versions: created later wins), T0+2h; driver 2: T0 only.
      writeParquetFile(
        path.join(repo, 'drivers.parquet'),
        table([
          ['driver_id', new Int64(), [1n, 1n, 1n, 1n, 2n, null]],
          ['ts', tsUtc, [us(T0), us(T0 + H), us(T0 + H), us(T0 + 2 * H), us(T0), us(T0)]],
          ['created', tsUtc, [us(T0), us(T0 + 5), us(T0 + 10), null, us(T0), us(T0)]],
          ['rate', new Float64(), [1, 2, 3, 4, 20, 99]],
        ]),
      );
      // Full tie (same ts, same created): the later source row wins; a null created loses a tie.
      writeParquetFile(
        path.join(repo, 'ties.parquet'),
        table([
          ['driver_id', new Int64(), [1n, 1n, 2n, 2n]],
          ['ts', tsUtc, [us(T0), us(T0), us(T0), us(T0)]],
          ['created', tsUtc, [us(T0), us(T0), us(T0), null]],
          ['rate', new Float64(), [10, 11, 30, 31]],
        ]),
      );
      writeParquetFile(
        path.join(repo, 'global.parquet'),
        table([
          ['ts', tsNaive, [us(T0), us(T0 + 2 * H)]],
          ['total', new Float64(), [100, 200]],
        ]),
      );
      writeParquetFile(
        path.join(repo, 'mapped.parquet'),
        table([
          ['id', new Int64(), [1n]],
          ['event_time', tsUtc, [us(T0)]],
          ['raw_rate', new Float64(), [7]],
        ]),
      );
      store = await plugin.create(
        { type: storeType },
        { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
      );
    });

    after(async () => {
      await store.close();
      rmSync(repo, { recursive: true, force: true });
    });

    const drivers = () => view('drivers', source('drivers', 'drivers.parquet'), ['driver_id'], ['rate'], 3600);

    async function retrieve(entities: Table, views: FeatureView[], refs: string[], fullFeatureNames = false) {
      return collect(
        await store.getHistoricalFeatures(
          { featureViews: views, featureRefs: refs, project: 'p', fullFeatureNames, entityTable: entities },
          callContext(),
        ),
      );
    }

    function entities(ids: Array<bigint | null>, times: Array<number | null>, tsType: DataType = tsUtc): Table {
      return table([
        ['driver_id', new Int64(), ids],
        ['event_timestamp', tsType, times.map(us)],
      ]);
    }

    it('includes both ttl bounds: T − ttl ≤ ts ≤ T', async () => {
      const result = await retrieve(entities([1n, 1n, 1n], [T0 + H, T0 + 2 * H, T0 + 2 * H + 1]), [drivers()], ['drivers:rate']);
      // At T0+1h: the row at T0+1h (ts = T). At T0+2h: the row at T0+2h. At T0+2h+1ms: still T0+2h (within 1h).
      expect(rows(result).map((r) => r.rate)).to.deep.equal([3, 4, 4]);
      const edge = await retrieve(entities([2n, 2n], [T0 + H, T0 + H + 1]), [drivers()], ['drivers:rate']);
      expect(rows(edge).map((r) => r.rate)).to.deep.equal([20, null]); // ts = T − ttl exactly is in; 1 ms later it is out
    });

    it('treats ttl 0 as unbounded', async () => {
      const unbounded = view('drivers', source('drivers', 'drivers.parquet'), ['driver_id'], ['rate'], 0);
      const result = await retrieve(entities([2n], [T0 + 1000 * H]), [unbounded], ['drivers:rate']);
      expect(rows(result)[0]!.rate).to.equal(20);
    });

    it('breaks a timestamp tie by the created column, a null created losing, and a full tie by source order', async () => {
      const result = await retrieve(entities([1n], [T0 + H]), [drivers()], ['drivers:rate']);
      expect(rows(result)[0]!.rate).to.equal(3);
      const ties = view('ties', source('ties', 'ties.parquet'), ['driver_id'], ['rate'], 0);
      const tied = await retrieve(entities([1n, 2n], [T0, T0]), [ties], ['ties:rate']);
      expect(rows(tied).map((r) => r.rate)).to.deep.equal([11, 30]);
    });

    it('chooses a row with a null created when it is the only candidate', async () => {
      const result = await retrieve(entities([1n], [T0 + 2 * H]), [drivers()], ['drivers:rate']);
      expect(rows(result)[0]!.rate).to.equal(4);
    });

    it('keeps duplicate and out-of-order entity rows, one output row each, in input order', async () => {
      const result = await retrieve(entities([2n, 1n, 2n, 1n], [T0, T0 + H, T0, T0]), [drivers()], ['drivers:rate']);
      expect(rows(result).map((r) => [r.driver_id, r.rate])).to.deep.equal([
        [2, 20],
        [1, 3],
        [2, 20],
        [1, 1],
      ]);
    });

    it('never matches a null join key, and gives nulls when nothing matches', async () => {
      const result = await retrieve(entities([null, 3n, 1n], [T0, T0, T0 - 1]), [drivers()], ['drivers:rate']);
      expect(rows(result).map((r) => r.rate)).to.deep.equal([null, null, null]);
    });

    it('joins several views, entityless ones to every row, with full feature names', async () => {
      const global = view('global', source('global', 'global.parquet', { createdTimestampColumn: '' }), [], ['total'], 0);
      const result = await retrieve(entities([1n, 2n], [T0 + H, T0 + 3 * H]), [drivers(), global], ['global:total', 'drivers:rate'], true);
      expect(result.schema.fields.map((f) => f.name)).to.deep.equal(['driver_id', 'event_timestamp', 'global__total', 'drivers__rate']);
      expect(rows(result).map((r) => [r.global__total, r.drivers__rate])).to.deep.equal([
        [100, 3],
        [200, null],
      ]);
    });

    it('applies field_mapping (the join key and timestamp included) and join_key_map with an alias', async () => {
      const mappedSource = source('mapped', 'mapped.parquet', {
        timestampField: 'ts',
        createdTimestampColumn: '',
        fieldMapping: { id: 'driver_id', event_time: 'ts', raw_rate: 'rate' },
      });
      const mapped = view('mapped', mappedSource, ['driver_id'], ['rate'], 0, {
        nameAlias: 'origin',
        joinKeyMap: { driver_id: 'origin_id' },
      });
      const entity = table([
        ['origin_id', new Int64(), [1n]],
        ['event_timestamp', tsUtc, [us(T0)]],
      ]);
      const result = await retrieve(entity, [mapped], ['origin:rate'], true);
      expect(rows(result)).to.deep.equal([{ origin_id: 1, event_timestamp: T0, origin__rate: 7 }]);
    });

    it('reads naive entity timestamps as UTC, at full precision', async () => {
      const result = await retrieve(entities([1n, 1n], [T0 + H, T0 + H], tsNaive), [drivers()], ['drivers:rate']);
      expect(rows(result).map((r) => r.rate)).to.deep.equal([3, 3]);
      const ns = new Timestamp(TimeUnit.NANOSECOND, 'UTC');
      const justBefore = table([
        ['driver_id', new Int64(), [1n]],
        ['event_timestamp', ns, [BigInt(T0 + H) * 1_000_000n - 1n]],
      ]);
      expect(rows(await retrieve(justBefore, [drivers()], ['drivers:rate']))[0]!.rate).to.equal(1);
    });

    it('finds the single timestamp column when there is no event_timestamp, and refuses ambiguity', async () => {
      const renamed = table([
        ['driver_id', new Int64(), [2n]],
        ['when', tsUtc, [us(T0)]],
      ]);
      expect(rows(await retrieve(renamed, [drivers()], ['drivers:rate']))[0]!.rate).to.equal(20);
      const none = table([
        ['driver_id', new Int64(), [2n]],
        ['label', new Utf8(), ['x']],
      ]);
      const error = await retrieve(none, [drivers()], ['drivers:rate']).catch((e: Error) => e);
      expect(error).to.be.instanceOf(EntityTimestampInferenceException);
    });

    it('refuses a ref to no requested view and a missing source column, naming them', async () => {
      const unknown = await retrieve(entities([1n], [T0]), [drivers()], ['other:rate']).catch((e: Error) => e);
      expect(unknown).to.be.instanceOf(InvalidArgumentError);
      expect((unknown as Error).message).to.equal('Could not find feature view from reference other:rate');
      const missing = await retrieve(entities([1n], [T0]), [drivers()], ['drivers:speed']).catch((e: Error) => e);
      expect((missing as Error).message).to.match(/Feature view drivers: column "speed" is not in its source/);
      // NOT_FOUND: the Feast client raises pyarrow's ArrowKeyError (a KeyError), as Feast's stores' KeyError gives.
      expect(missing).to.be.instanceOf(MissingColumnError);
      expect((missing as MissingColumnError).code).to.equal(status.NOT_FOUND);
    });

    it('refuses an entity dataframe without a join key with NOT_FOUND (a KeyError on the client, as from Feast), naming the column', async () => {
      const noKey = table([
        ['rider_id', new Int64(), [2n]],
        ['event_timestamp', tsUtc, [us(T0)]],
      ]);
      const error = await retrieve(noKey, [drivers()], ['drivers:rate']).catch((e: Error) => e);
      expect(error).to.be.instanceOf(MissingColumnError);
      expect((error as MissingColumnError).code).to.equal(status.NOT_FOUND);
      expect((error as Error).message).to.equal('The entity dataframe has no column "driver_id", the join key of feature view drivers');
    });
  });
