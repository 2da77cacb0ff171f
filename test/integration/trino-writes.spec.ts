/**
 * The trino store's writes against a real Trino 476 (test/support/trino-server.ts, one per file):
 * offline_write_batch lands every type exactly (read back with the test's own REST client, not
 * the plugin's), in few bounded INSERT statements (a large write staged and appended whole);
 * missing columns, type mismatches and values a column cannot hold are refused before anything is
 * written; a query source cannot be written to; write_logged_features creates its table on first
 * use and appends after; persist creates a table, refuses an existing one
 * (SavedDatasetLocationAlreadyExists) and replaces it with allow_overwrite.
 */
import { status } from '@grpc/grpc-js';
import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  List,
  makeData,
  makeVector,
  Table,
  TimeUnit,
  Timestamp,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import pino from 'pino';
import type { DataSource, FeatureService, FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore, ResultStream } from '../../core/src/store.ts';
import { TrinoStore } from '../../plugins/trino/src/store.ts';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { featureView, trinoSource } from '../support/feature-views.ts';
import { type ServerProcess, startLarder } from '../support/larder-process.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';
import { context, failure } from '../support/trino-store-testing.ts';

const run = promisify(execFile);

/** The feature repo of the Feast-client test: a TrinoSource over hive.w.feast_stats and a view over it. */
const FEAST_DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field
from feast.infra.offline_stores.contrib.trino_offline_store.trino_source import TrinoSource
from feast.types import Float32, Float64, Int64

driver = Entity(name="driver", join_keys=["driver_id"])
stats = TrinoSource(name="feast_stats", table="hive.w.feast_stats", timestamp_field="event_timestamp")
driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float64), Field(name="trips", dtype=Int64)],
    source=stats,
)
`;

/** The Feast client: one good write, then one with a string in a float feature; prints what the refusal was. */
const FEAST_WRITER = `
import json, sys
import numpy as np, pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
store.write_to_offline_store("driver_stats", pd.DataFrame({
    "driver_id": np.array([1001, 1002], dtype="int64"),
    "event_timestamp": [pd.Timestamp("2024-03-05 10:00", tz="UTC"), pd.Timestamp("2024-03-05 11:30:00.25", tz="UTC")],
    "conv_rate": np.array([0.5, -1.25], dtype="float32"),
    "acc_rate": np.array([np.nan, 0.125]),
    "trips": pd.array([7, None], dtype="Int64"),
}))
try:
    store.write_to_offline_store("driver_stats", pd.DataFrame({
        "driver_id": np.array([1003], dtype="int64"),
        "event_timestamp": [pd.Timestamp("2024-03-05 12:00", tz="UTC")],
        "conv_rate": ["high"],
        "acc_rate": [0.5],
        "trips": np.array([1], dtype="int64"),
    }))
    print(json.dumps({"refused": None}))
except Exception as e:
    print(json.dumps({"refused": type(e).__name__, "value_error": isinstance(e, ValueError), "names_column": "conv_rate" in str(e)}))
`;

/**
 * The Feast client saves a retrieval as a dataset in Trino (twice: the second, without
 * allow_overwrite, must be refused); prints the refusal's class. The destination is registered as
 * a user would: Feast names a SavedDatasetTrinoStorage's source after its table.
 */
const FEAST_PERSIST = `
import json, sys
import pandas as pd
from feast import FeatureStore
from feast.infra.offline_stores.contrib.trino_offline_store.trino_source import SavedDatasetTrinoStorage, TrinoSource
store = FeatureStore(repo_path=sys.argv[1])
table = "hive.w.feast_saved"
store.apply([TrinoSource(name=table, table=table, timestamp_field="event_timestamp")])
entities = pd.DataFrame({
    "driver_id": [1001, 1002],
    "event_timestamp": [pd.Timestamp("2024-03-05 12:00", tz="UTC"), pd.Timestamp("2024-03-05 11:00", tz="UTC")],
})
features = ["driver_stats:conv_rate", "driver_stats:trips"]
store.create_saved_dataset(from_=store.get_historical_features(entity_df=entities, features=features), name="saved", storage=SavedDatasetTrinoStorage(table=table))
try:
    store.create_saved_dataset(from_=store.get_historical_features(entity_df=entities, features=features), name="saved_again", storage=SavedDatasetTrinoStorage(table=table))
    print(json.dumps({"refused": None}))
except Exception as e:
    print(json.dumps({"refused": type(e).__name__}))
`;

// --- Arrow columns with exact values (nulls where a value is null) ---------------------------

function validity(values: readonly unknown[]): { nullCount: number; nullBitmap: Uint8Array } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullCount: values.filter((v) => v === null).length, nullBitmap: bitmap };
}

/** A timestamp column from raw int64 values in `unit` (nanoseconds survive). */
function timestamps(unit: TimeUnit, timezone: string | null, values: readonly (bigint | null)[]): Vector {
  const data = new BigInt64Array(values.map((v) => v ?? 0n));
  return makeVector(makeData({ type: new Timestamp(unit, timezone), length: values.length, ...validity(values), data }));
}

/** A decimal(precision, scale) column from unscaled integers. */
function decimals(precision: number, scale: number, values: readonly (bigint | null)[]): Vector {
  const words = new Uint32Array(values.length * 4);
  values.forEach((v, i) => {
    let x = BigInt.asUintN(128, v ?? 0n);
    for (let w = 0; w < 4; w++, x >>= 32n) words[i * 4 + w] = Number(x & 0xffffffffn);
  });
  return makeVector(makeData({ type: new Decimal(scale, precision, 128), length: values.length, ...validity(values), data: words }));
}

const list = (type: DataType) => new List(new Field('item', type, true));
const column = (type: DataType, values: readonly unknown[]) => vectorFromArray(values as unknown[], type);

/** Nanoseconds since the epoch of an ISO instant plus extra nanoseconds. */
const ns = (iso: string, extra = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + extra;
const T1 = ns('2024-03-01T10:00:00.123Z', 456_789n);
const T2 = ns('1999-12-31T23:59:59.999Z', 600_000n);

describe('trino store writes (real Trino 476)', function () {
  this.timeout(300_000);
  let trino: TrinoServer | undefined;
  let store: OfflineStore;
  const sql = async (text: string) => (await trinoQuery(trino!.url, text)).rows;

  before(async () => {
    trino = await startTrino();
    await sql('CREATE SCHEMA hive.w');
    await sql('CREATE SCHEMA memory.w');
    store = TrinoStore.create(
      { type: 'trino', host: trino.host, port: trino.port, catalog: 'hive', user: 'larder-test', connector: { type: 'hive' } },
      { repoPath: '/nonexistent', dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store?.close();
    await trino?.stop();
  });

  /** A view over a TrinoSource table, with `features` (the source's timestamp is event_timestamp). */
  const viewOf = (table: string, features: string[], extra: Partial<DataSource> = {}): FeatureView =>
    featureView('v', trinoSource('src', { table }, extra), ['driver_id'], features, 0);

  describe('offline_write_batch', () => {
    const HIVE_COLUMNS = [
      'driver_id bigint',
      'event_timestamp timestamp(3)',
      'i32 integer',
      'i16 smallint',
      'i8 tinyint',
      'f64 double',
      'f32 real',
      'flag boolean',
      'name varchar',
      'blob varbinary',
      'day date',
      'amount decimal(10, 2)',
      'ints array(integer)',
      'names array(varchar)',
      'stamps array(timestamp(3))',
    ];
    const FEATURES = HIVE_COLUMNS.slice(2).map((c) => c.split(' ')[0]!);

    it('lands every type exactly in a hive table, nulls included, in one INSERT statement', async () => {
      await sql(`CREATE TABLE hive.w.all_types (${HIVE_COLUMNS.join(', ')})`);
      const rows = new Table({
        driver_id: column(new Int64(), [1n, 2n, 9_007_199_254_740_993n, 4n]),
        event_timestamp: timestamps(TimeUnit.NANOSECOND, 'UTC', [T1, T2, null, ns('2024-03-01T00:00:00Z')]),
        i32: column(new Int32(), [-2_147_483_648, 2_147_483_647, null, 0]),
        i16: column(new Int16(), [-32_768, 32_767, null, 0]),
        i8: column(new Int8(), [-128, 127, null, 0]),
        f64: column(new Float64(), [Number.NaN, Number.POSITIVE_INFINITY, null, 0.1]),
        f32: column(new Float32(), [Number.NEGATIVE_INFINITY, 1.5, null, Math.fround(0.1)]),
        flag: column(new Bool(), [true, false, null, true]),
        name: column(new Utf8(), ["O'Brien", 'naïve \u2603 "quoted" \\ back', null, '']),
        blob: column(new Binary(), [new Uint8Array([0, 255, 39]), new Uint8Array([]), null, new Uint8Array([1])]),
        day: column(new DateDay(), [
          new Date('2024-02-29T00:00:00Z'),
          new Date('1970-01-01T00:00:00Z'),
          null,
          new Date('0001-01-01T00:00:00Z'),
        ]),
        amount: decimals(10, 2, [12_345n, -1n, null, 99_999_999_99n]),
        ints: column(list(new Int32()), [[1, null, 3], [], null, [0]]),
        names: column(list(new Utf8()), [["a'b", null], [], null, ['']]),
        stamps: column(list(new Timestamp(TimeUnit.MILLISECOND)), [[Date.parse('2024-01-02T03:04:05.678Z')], [], null, [null]]),
      });
      await store.offlineWriteBatch({ featureView: viewOf('hive.w.all_types', FEATURES), table: rows }, context());
      const back = await sql(
        `SELECT driver_id, CAST(event_timestamp AS varchar), i32, i16, i8, f64, f32, flag, name, to_hex(blob), CAST(day AS varchar),
           CAST(amount AS varchar), ints, names, CAST(stamps AS array(varchar)) FROM hive.w.all_types ORDER BY driver_id`,
      );
      expect(back).to.deep.equal([
        [
          1,
          '2024-03-01 10:00:00.123',
          -2_147_483_648,
          -32_768,
          -128,
          'NaN',
          '-Infinity',
          true,
          "O'Brien",
          '00FF27',
          '2024-02-29',
          '123.45',
          [1, null, 3],
          ["a'b", null],
          ['2024-01-02 03:04:05.678'],
        ],
        [
          2,
          '2000-01-01 00:00:00.000',
          2_147_483_647,
          32_767,
          127,
          'Infinity',
          1.5,
          false,
          'naïve \u2603 "quoted" \\ back',
          '',
          '1970-01-01',
          '-0.01',
          [],
          [],
          [],
        ],
        [4, '2024-03-01 00:00:00.000', 0, 0, 0, 0.1, 0.1, true, '', '01', '0001-01-01', '99999999.99', [0], [''], [null]],
        // 2^53 + 1 as JSON loses its last digit here; it is checked exactly below.
        [9_007_199_254_740_992, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
      ]);
      expect(await sql('SELECT CAST(driver_id AS varchar) FROM hive.w.all_types WHERE driver_id > 4')).to.deep.equal([
        ['9007199254740993'],
      ]);
      // The float32 0.1 went in as exactly that float (no detour through a decimal literal).
      expect(await sql("SELECT f32 = REAL '0.1' FROM hive.w.all_types WHERE driver_id = 4")).to.deep.equal([[true]]);
      expect(await sql("SELECT count(*) FROM system.runtime.queries WHERE query LIKE 'INSERT INTO hive.w.all_types%'")).to.deep.equal([
        [1],
      ]);
    });

    it('writes naive and zoned timestamps to a catalog that keeps time zones and nanoseconds (memory)', async () => {
      await sql(
        'CREATE TABLE memory.w.stamps (driver_id bigint, event_timestamp timestamp(9), tz9 timestamp(9) with time zone, tz3 timestamp(3) with time zone)',
      );
      const rows = new Table({
        driver_id: column(new Int64(), [1n, 2n]),
        event_timestamp: timestamps(TimeUnit.NANOSECOND, null, [T1, null]),
        tz9: timestamps(TimeUnit.NANOSECOND, 'UTC', [T1, T2]),
        tz3: timestamps(TimeUnit.MICROSECOND, 'America/New_York', [T1 / 1000n, null]),
      });
      await store.offlineWriteBatch({ featureView: viewOf('memory.w.stamps', ['tz9', 'tz3']), table: rows }, context());
      expect(
        await sql(
          'SELECT driver_id, CAST(event_timestamp AS varchar), CAST(tz9 AS varchar), CAST(tz3 AS varchar) FROM memory.w.stamps ORDER BY 1',
        ),
      ).to.deep.equal([
        [1, '2024-03-01 10:00:00.123456789', '2024-03-01 10:00:00.123456789 UTC', '2024-03-01 10:00:00.123 UTC'],
        [2, null, '1999-12-31 23:59:59.999600000 UTC', null],
      ]);
    });

    it('writes field-mapped columns back to their source names', async () => {
      await sql('CREATE TABLE hive.w.mapped (driver_id bigint, ts timestamp(3), raw_rate double)');
      const view = viewOf('hive.w.mapped', ['rate'], { timestampField: 'ts', fieldMapping: { ts: 'event_timestamp', raw_rate: 'rate' } });
      const rows = new Table({
        driver_id: column(new Int64(), [7n]),
        event_timestamp: timestamps(TimeUnit.MICROSECOND, 'UTC', [T1 / 1000n]),
        rate: column(new Float64(), [0.75]),
      });
      await store.offlineWriteBatch({ featureView: view, table: rows }, context());
      expect(await sql('SELECT driver_id, CAST(ts AS varchar), raw_rate FROM hive.w.mapped')).to.deep.equal([
        [7, '2024-03-01 10:00:00.123', 0.75],
      ]);
    });

    it('sends a large write as few bounded statements through a staging table, and leaves no staging table', async () => {
      await sql('CREATE TABLE hive.w.big (driver_id bigint, event_timestamp timestamp(3), note varchar)');
      const n = 30_000;
      const note = 'x'.repeat(60);
      const rows = new Table({
        driver_id: column(
          new Int64(),
          Array.from({ length: n }, (_, i) => BigInt(i)),
        ),
        event_timestamp: timestamps(
          TimeUnit.MICROSECOND,
          'UTC',
          Array.from({ length: n }, (_, i) => T1 / 1000n + BigInt(i) * 1_000_000n),
        ),
        note: column(
          new Utf8(),
          Array.from({ length: n }, (_, i) => `${note}${i}`),
        ),
      });
      await store.offlineWriteBatch({ featureView: viewOf('hive.w.big', ['note']), table: rows }, context());
      expect(
        await sql(
          'SELECT count(*), count(DISTINCT driver_id), sum(driver_id), min(CAST(event_timestamp AS varchar)), max(length(note)) FROM hive.w.big',
        ),
      ).to.deep.equal([[n, n, (n * (n - 1)) / 2, '2024-03-01 10:00:00.123', 65]]);
      expect(await sql(`SELECT note FROM hive.w.big WHERE driver_id = 12345`)).to.deep.equal([[`${note}12345`]]);
      const statements = await sql(
        'SELECT length(query), state FROM system.runtime.queries WHERE query LIKE \'INSERT INTO "hive"."w"."big__larder_staging_%\' ORDER BY created',
      );
      // ~3 MB of SQL: more than one statement, each under Trino's default query.max-length.
      expect(statements.length).to.be.within(2, 6);
      for (const [length, state] of statements) {
        expect(length).to.be.at.most(1_000_000);
        expect(state).to.equal('FINISHED');
      }
      expect(
        await sql("SELECT count(*) FROM system.runtime.queries WHERE query LIKE 'INSERT INTO hive.w.big (%SELECT%__larder_staging_%'"),
      ).to.deep.equal([[1]]);
      expect(
        await sql("SELECT table_name FROM hive.information_schema.tables WHERE table_schema = 'w' AND table_name LIKE '%larder%'"),
      ).to.deep.equal([]);
    });

    it('a staged write aborted half-way leaves the table as it was and no staging table', async () => {
      await sql('CREATE TABLE hive.w.aborted (driver_id bigint, event_timestamp timestamp(3), note varchar)');
      await sql("INSERT INTO hive.w.aborted VALUES (1, TIMESTAMP '2024-01-01 00:00:00', 'before')");
      const n = 30_000;
      const rows = new Table({
        driver_id: column(
          new Int64(),
          Array.from({ length: n }, (_, i) => BigInt(i + 10)),
        ),
        event_timestamp: timestamps(
          TimeUnit.MICROSECOND,
          'UTC',
          Array.from({ length: n }, () => T1 / 1000n),
        ),
        note: column(
          new Utf8(),
          Array.from({ length: n }, (_, i) => `${'y'.repeat(60)}${i}`),
        ),
      });
      const abort = new AbortController();
      const writing = store.offlineWriteBatch(
        { featureView: viewOf('hive.w.aborted', ['note']), table: rows },
        { ...context(), signal: abort.signal },
      );
      // Abort once the staging table exists: its batches (seconds of work) are then under way.
      for (let i = 0; i < 600; i++) {
        const staged = await sql(
          'SELECT count(*) FROM system.runtime.queries WHERE query LIKE \'CREATE TABLE "hive"."w"."aborted__larder_staging_%\' AND state = \'FINISHED\'',
        );
        if (staged[0]![0] === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      abort.abort();
      const refused = await failure(writing);
      expect(refused.message).to.match(
        /^offline_write_batch to feature view v: staging rows \(statement \d+ of \d+\): cancelled, the call was aborted$/,
      );
      expect(await sql('SELECT driver_id, note FROM hive.w.aborted')).to.deep.equal([[1, 'before']]);
      expect(
        await sql("SELECT table_name FROM hive.information_schema.tables WHERE table_schema = 'w' AND table_name LIKE '%larder%'"),
      ).to.deep.equal([]);
    });

    describe('refuses, before anything is written', () => {
      before(async () => {
        await sql(
          'CREATE TABLE hive.w.strict (driver_id bigint, event_timestamp timestamp(3), rate double, rides integer, code varchar(4))',
        );
        await sql("INSERT INTO hive.w.strict VALUES (1, TIMESTAMP '2024-01-01 00:00:00', 0.5, 1, 'ab')");
      });
      const view = () => viewOf('hive.w.strict', ['rate', 'rides', 'code']);
      const good = (overrides: Record<string, Vector> = {}) =>
        new Table({
          driver_id: column(new Int64(), [2n, 3n]),
          event_timestamp: timestamps(TimeUnit.MICROSECOND, 'UTC', [T1 / 1000n, T2 / 1000n]),
          rate: column(new Float64(), [1.5, 2.5]),
          rides: column(new Int64(), [3n, 4n]),
          code: column(new Utf8(), ['abcd', null]),
          ...overrides,
        });
      const unchanged = async () => expect(await sql('SELECT count(*) FROM hive.w.strict')).to.deep.equal([[1]]);

      it('a column the table lacks (named, with the columns it has)', async () => {
        const refused = await failure(
          store.offlineWriteBatch({ featureView: view(), table: good({ bogus_col: column(new Float64(), [1, 2]) }) }, context()),
        );
        expect(refused.code).to.equal(status.INVALID_ARGUMENT);
        expect(refused.message).to.equal(
          'offline_write_batch to feature view v: table hive.w.strict has no column "bogus_col" (columns: driver_id, event_timestamp, rate, rides, code)',
        );
        await unchanged();
      });

      it('a column of the view the rows lack', async () => {
        const rows = good();
        const without = new Table({
          driver_id: rows.getChild('driver_id')!,
          event_timestamp: rows.getChild('event_timestamp')!,
          rate: rows.getChild('rate')!,
        });
        const refused = await failure(store.offlineWriteBatch({ featureView: view(), table: without }, context()));
        expect(refused.code).to.equal(status.INVALID_ARGUMENT);
        expect(refused.message).to.equal(
          'offline_write_batch to feature view v: the rows have no column "rides", "code" of the feature view',
        );
        await unchanged();
      });

      it('a string into a double column, naming the column and both types', async () => {
        const refused = await failure(
          store.offlineWriteBatch({ featureView: view(), table: good({ rate: column(new Utf8(), ['1.5', 'high']) }) }, context()),
        );
        expect(refused.code).to.equal(status.INVALID_ARGUMENT);
        expect(refused.message).to.equal(
          'offline_write_batch to feature view v: column "rate" holds Arrow Utf8 values, which cannot be written to table hive.w.strict\'s column "rate" of Trino type double',
        );
        await unchanged();
      });

      it("an int64 out of an integer column's range in the second row (the first row is not written either)", async () => {
        const refused = await failure(
          store.offlineWriteBatch({ featureView: view(), table: good({ rides: column(new Int64(), [5n, 2n ** 40n]) }) }, context()),
        );
        expect(refused.code).to.equal(status.INVALID_ARGUMENT);
        expect(refused.message).to.equal(
          'offline_write_batch to feature view v: column "rides" row 2: 1099511627776 is out of range for table hive.w.strict\'s column of Trino type integer; nothing was written',
        );
        await unchanged();
      });

      it('a string longer than a varchar(4) column', async () => {
        const refused = await failure(
          store.offlineWriteBatch({ featureView: view(), table: good({ code: column(new Utf8(), ['abcde', null]) }) }, context()),
        );
        expect(refused.message).to.include('column "code" row 1: a string of 5 characters is too long');
        await unchanged();
      });

      it('a query source', async () => {
        const queryView = featureView(
          'qv',
          trinoSource('qsrc', { query: 'SELECT * FROM hive.w.strict' }),
          ['driver_id'],
          ['rate', 'rides', 'code'],
          0,
        );
        const refused = await failure(store.offlineWriteBatch({ featureView: queryView, table: good() }, context()));
        expect(refused.code).to.equal(status.INVALID_ARGUMENT);
        expect(refused.message).to.equal(
          'offline_write_batch to feature view qv: data source qsrc is a query; only a TrinoSource with a table can be written to',
        );
        await unchanged();
      });

      it('a missing table (DataSourceNotFoundException)', async () => {
        const refused = await failure(
          store.offlineWriteBatch({ featureView: viewOf('hive.w.no_such', ['rate', 'rides', 'code']), table: good() }, context()),
        );
        expect(refused).to.deep.include({ code: status.NOT_FOUND, feastClass: 'DataSourceNotFoundException' });
      });

      it('and then a good write still lands', async () => {
        await store.offlineWriteBatch({ featureView: view(), table: good() }, context());
        expect(await sql('SELECT driver_id, rate, rides, code FROM hive.w.strict ORDER BY 1')).to.deep.equal([
          [1, 0.5, 1, 'ab'],
          [2, 1.5, 3, 'abcd'],
          [3, 2.5, 4, null],
        ]);
      });
    });
  });

  describe('write_logged_features', () => {
    const service = (config: Record<string, string> | undefined): FeatureService => ({
      name: 'svc',
      project: 'p',
      projections: [],
      tags: {},
      loggingConfig: { sampleRate: 1, destinationKind: config ? 'custom' : 'file', ...(config ? { customConfig: config } : {}) },
    });
    const logged = (ids: bigint[]) =>
      new Table({
        driver_id: column(new Int64(), ids),
        drivers__rate: column(
          new Float64(),
          ids.map((i) => Number(i) / 4),
        ),
        drivers__rate__timestamp: timestamps(
          TimeUnit.MICROSECOND,
          'UTC',
          ids.map(() => T1 / 1000n),
        ),
        drivers__rate__status: column(
          new Int32(),
          ids.map(() => 1),
        ),
        __log_timestamp: timestamps(
          TimeUnit.MICROSECOND,
          'UTC',
          ids.map(() => T2 / 1000n),
        ),
        __log_date: column(
          new DateDay(),
          ids.map(() => new Date('2024-03-01T00:00:00Z')),
        ),
        __request_id: column(
          new Utf8(),
          ids.map((i) => `req-${i}`),
        ),
      });

    it('creates the table from the logged schema on first use (hive types), then appends', async () => {
      await store.writeLoggedFeatures(
        { featureService: service({ table_name: 'hive.w.feature_logs' }), table: logged([1n, 2n]) },
        context(),
      );
      const columns = await trinoQuery(trino!.url, 'SELECT * FROM hive.w.feature_logs LIMIT 0');
      expect(columns.columns.map((c) => `${c.name} ${c.type}`)).to.deep.equal([
        'driver_id bigint',
        'drivers__rate double',
        'drivers__rate__timestamp timestamp',
        'drivers__rate__status integer',
        '__log_timestamp timestamp',
        '__log_date date',
        '__request_id varchar',
      ]);
      expect(
        await sql(
          "SELECT data_type FROM hive.information_schema.columns WHERE table_name = 'feature_logs' AND column_name = '__log_timestamp'",
        ),
      ).to.deep.equal([['timestamp(3)']]);
      await store.writeLoggedFeatures({ featureService: service({ table_name: 'hive.w.feature_logs' }), table: logged([3n]) }, context());
      expect(
        await sql(
          'SELECT driver_id, drivers__rate, CAST(drivers__rate__timestamp AS varchar), CAST(__log_timestamp AS varchar), CAST(__log_date AS varchar), __request_id FROM hive.w.feature_logs ORDER BY 1',
        ),
      ).to.deep.equal([
        [1, 0.25, '2024-03-01 10:00:00.123', '2000-01-01 00:00:00.000', '2024-03-01', 'req-1'],
        [2, 0.5, '2024-03-01 10:00:00.123', '2000-01-01 00:00:00.000', '2024-03-01', 'req-2'],
        [3, 0.75, '2024-03-01 10:00:00.123', '2000-01-01 00:00:00.000', '2024-03-01', 'req-3'],
      ]);
    });

    it('keeps zoned timestamps where the catalog has them (memory)', async () => {
      await store.writeLoggedFeatures({ featureService: service({ table_name: 'memory.w.feature_logs' }), table: logged([1n]) }, context());
      expect(
        await sql(
          "SELECT data_type FROM memory.information_schema.columns WHERE table_name = 'feature_logs' AND column_name = '__log_timestamp'",
        ),
      ).to.deep.equal([['timestamp(6) with time zone']]);
    });

    it('refuses a service that does not log to a table', async () => {
      const refused = await failure(store.writeLoggedFeatures({ featureService: service(undefined), table: logged([1n]) }, context()));
      expect(refused.code).to.equal(status.INVALID_ARGUMENT);
      expect(refused.message).to.equal(
        'write_logged_features for feature service svc: the trino offline store logs to a custom destination with a "table_name" in its config; this service logs to file',
      );
      const injected = await failure(
        store.writeLoggedFeatures(
          { featureService: service({ table_name: 'hive.w.x; DROP TABLE hive.w.strict' }), table: logged([1n]) },
          context(),
        ),
      );
      expect(injected.message).to.include('is not a table name');
    });
  });

  describe('persist', () => {
    const result = (ids: bigint[]): ResultStream => {
      const table = new Table({
        driver_id: column(new Int64(), ids),
        event_timestamp: timestamps(
          TimeUnit.MICROSECOND,
          'UTC',
          ids.map(() => T1 / 1000n),
        ),
        drivers__rate: column(
          new Float64(),
          ids.map((i) => (i % 2n === 0n ? null : Number(i) / 2)),
        ),
      });
      return {
        schema: table.schema,
        numRows: table.numRows,
        batches: (async function* () {
          yield* table.batches;
        })(),
      };
    };
    const destination = (table: string) => trinoSource('saved', { table });
    const saved = () => sql('SELECT driver_id, CAST(event_timestamp AS varchar), drivers__rate FROM hive.w.saved ORDER BY 1');

    it('creates the table; an existing one is SavedDatasetLocationAlreadyExists unless allow_overwrite, which replaces it', async () => {
      await store.persist({ result: result([1n, 2n]), destination: destination('hive.w.saved'), allowOverwrite: false }, context());
      const first = [
        [1, '2024-03-01 10:00:00.123', 0.5],
        [2, '2024-03-01 10:00:00.123', null],
      ];
      expect(await saved()).to.deep.equal(first);
      const refused = await failure(
        store.persist({ result: result([5n]), destination: destination('hive.w.saved'), allowOverwrite: false }, context()),
      );
      expect(refused).to.deep.equal({
        message: 'Saved dataset location hive.w.saved already exists.',
        code: status.ALREADY_EXISTS,
        feastClass: 'SavedDatasetLocationAlreadyExists',
      });
      expect(await saved()).to.deep.equal(first);
      await store.persist({ result: result([5n, 7n, 8n]), destination: destination('hive.w.saved'), allowOverwrite: true }, context());
      expect(await saved()).to.deep.equal([
        [5, '2024-03-01 10:00:00.123', 2.5],
        [7, '2024-03-01 10:00:00.123', 3.5],
        [8, '2024-03-01 10:00:00.123', null],
      ]);
      expect(
        await sql("SELECT table_name FROM hive.information_schema.tables WHERE table_schema = 'w' AND table_name LIKE '%larder%'"),
      ).to.deep.equal([]);
    });

    it('runs a retrieval of this store inside Trino: CREATE TABLE AS its SQL (zoned timestamps stored as hive keeps them), no row through larder', async () => {
      await sql('CREATE TABLE hive.w.pit_stats (driver_id bigint, event_timestamp timestamp(3), conv_rate double, trips bigint)');
      await sql(`INSERT INTO hive.w.pit_stats VALUES
        (1, TIMESTAMP '2024-03-01 10:00:00', 0.1, 1), (1, TIMESTAMP '2024-03-01 12:00:00', 0.2, 2), (2, TIMESTAMP '2024-03-01 09:00:00', 0.3, 3)`);
      const view = featureView('pit', trinoSource('pit_src', { table: 'hive.w.pit_stats' }), ['driver_id'], ['conv_rate', 'trips'], 0);
      const at = (hour: number) => BigInt(Date.parse(`2024-03-01T${String(hour).padStart(2, '0')}:00:00Z`)) * 1000n;
      const retrieve = (entities: Array<[bigint, number, string]>) =>
        store.getHistoricalFeatures(
          {
            featureViews: [view],
            featureRefs: ['pit:conv_rate', 'pit:trips'],
            project: 'p',
            fullFeatureNames: false,
            entityTable: new Table({
              driver_id: column(
                new Int64(),
                entities.map((e) => e[0]),
              ),
              event_timestamp: timestamps(
                TimeUnit.MICROSECOND,
                'UTC',
                entities.map((e) => at(e[1])),
              ),
              label: column(
                new Utf8(),
                entities.map((e) => e[2]),
              ),
            }),
          },
          context(),
        );
      const persistOf = async (entities: Array<[bigint, number, string]>, allowOverwrite: boolean) => {
        const result = await retrieve(entities);
        try {
          await store.persist({ result, destination: destination('hive.w.saved_pit'), allowOverwrite }, context());
        } finally {
          await result.batches[Symbol.asyncIterator]().return?.();
        }
      };
      const savedPit = () =>
        sql('SELECT driver_id, CAST(event_timestamp AS varchar), label, conv_rate, trips FROM hive.w.saved_pit ORDER BY label');
      await persistOf(
        [
          [1n, 11, 'a'],
          [1n, 13, 'b'],
          [2n, 8, 'c'],
          [3n, 12, 'd'],
        ],
        false,
      );
      expect(await savedPit()).to.deep.equal([
        [1, '2024-03-01 11:00:00.000', 'a', 0.1, 1],
        [1, '2024-03-01 13:00:00.000', 'b', 0.2, 2],
        [2, '2024-03-01 08:00:00.000', 'c', null, null],
        [3, '2024-03-01 12:00:00.000', 'd', null, null],
      ]);
      expect(
        await sql(
          "SELECT data_type FROM hive.information_schema.columns WHERE table_name = 'saved_pit' AND column_name = 'event_timestamp'",
        ),
      ).to.deep.equal([['timestamp(3)']]);
      const refused = await failure(persistOf([[2n, 10, 'e']], false));
      expect(refused.feastClass).to.equal('SavedDatasetLocationAlreadyExists');
      await persistOf([[2n, 10, 'e']], true);
      expect(await savedPit()).to.deep.equal([[2, '2024-03-01 10:00:00.000', 'e', 0.3, 3]]);
      // Built by CREATE TABLE … AS inside Trino each time; never an INSERT of rows larder read.
      const built = await sql(
        'SELECT query FROM system.runtime.queries WHERE query LIKE \'CREATE TABLE "hive"."w"."saved_pit__larder_persist_%\' ORDER BY created',
      );
      expect(built).to.have.length(2);
      for (const [text] of built) expect(text).to.match(/^CREATE TABLE "hive"\."w"\."saved_pit__larder_persist_[0-9a-f]{12}" AS\n/);
      expect(
        await sql('SELECT count(*) FROM system.runtime.queries WHERE query LIKE \'INSERT INTO "hive"."w"."saved_pit%\''),
      ).to.deep.equal([[0]]);
    });

    it('refuses a query destination', async () => {
      const refused = await failure(
        store.persist({ result: result([1n]), destination: trinoSource('q', { query: 'SELECT 1' }), allowOverwrite: true }, context()),
      );
      expect(refused.message).to.equal(
        'persist to data source q: data source q is a query; only a TrinoSource with a table can be written to',
      );
    });
  });

  describe('through a larder process and the unchanged Feast client', () => {
    let root: string;
    let larder: ServerProcess | undefined;
    let client: string;
    let env: NodeJS.ProcessEnv;

    before(async () => {
      const { python, feast } = feastPython();
      try {
        await run(python, ['-c', 'import trino'], { env: feastEnv() });
      } catch {
        throw new Error(
          `The Feast venv (${python}) has no \`trino\` package, which the Feast client needs to read a TrinoSource from the registry: ` +
            'install feast[trino]==0.67.0 there, or point LARDER_FEAST_VENV at a venv that has it',
        );
      }
      await sql(
        'CREATE TABLE hive.w.feast_stats (driver_id bigint, event_timestamp timestamp(3), conv_rate real, acc_rate double, trips bigint)',
      );
      root = mkdtempSync(path.join(tmpdir(), 'larder-trino-writes-'));
      env = feastEnv(root);
      const server = path.join(root, 'server');
      mkdirSync(path.join(server, 'data'), { recursive: true });
      writeFileSync(path.join(server, 'definitions.py'), FEAST_DEFINITIONS);
      writeFileSync(
        path.join(server, 'feature_store.yaml'),
        `project: trino_writes
registry: data/registry.db
provider: local
offline_store:
  type: trino
  host: ${trino!.host}
  port: ${trino!.port}
  catalog: hive
  user: larder-test
  connector:
    type: hive
online_store:
  type: sqlite
  path: data/online_store.db
entity_key_serialization_version: 3
`,
      );
      await run(feast, ['-c', server, 'apply'], { cwd: server, env, timeout: 300_000 });
      larder = await startLarder({ repoPath: server });
      client = path.join(root, 'client');
      mkdirSync(client);
      writeFileSync(
        path.join(client, 'feature_store.yaml'),
        `project: trino_writes
registry: ${path.join(server, 'data', 'registry.db')}
provider: local
offline_store:
  type: remote
  host: 127.0.0.1
  port: ${larder.port}
online_store:
  type: sqlite
  path: ${path.join(client, 'online_store.db')}
entity_key_serialization_version: 3
`,
      );
    });

    after(async () => {
      await larder?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    it('write_to_offline_store lands the rows; a string into a float feature is refused with nothing written', async () => {
      const { stdout } = await run(feastPython().python, ['-c', FEAST_WRITER, client], { cwd: client, env, timeout: 300_000 });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.deep.equal({
        refused: 'ArrowInvalid',
        value_error: true,
        names_column: true,
      });
      expect(
        await sql(
          'SELECT driver_id, CAST(event_timestamp AS varchar), conv_rate, acc_rate, trips FROM hive.w.feast_stats ORDER BY driver_id',
        ),
      ).to.deep.equal([
        // pandas' NaN reaches the server as null (pyarrow's from_pandas), as with every store.
        [1001, '2024-03-05 10:00:00.000', 0.5, null, 7],
        [1002, '2024-03-05 11:30:00.250', -1.25, 0.125, null],
      ]);
    });

    it('create_saved_dataset saves a retrieval as a Trino table (inside Trino); again without allow_overwrite is SavedDatasetLocationAlreadyExists', async () => {
      const { stdout } = await run(feastPython().python, ['-c', FEAST_PERSIST, client], { cwd: client, env, timeout: 300_000 });
      expect(JSON.parse(stdout.trim().split('\n').pop()!)).to.deep.equal({ refused: 'SavedDatasetLocationAlreadyExists' });
      expect(
        await sql('SELECT driver_id, CAST(event_timestamp AS varchar), conv_rate, trips FROM hive.w.feast_saved ORDER BY driver_id'),
      ).to.deep.equal([
        [1001, '2024-03-05 12:00:00.000', 0.5, 7],
        [1002, '2024-03-05 11:00:00.000', null, null],
      ]);
    });
  });
});
