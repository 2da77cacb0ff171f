/**
 * get_historical_features in the trino store against a real Trino 476 (started once for the file):
 * one query per call over an entity table staged as a parquet file (an external Hive table), sent
 * as VALUES (inline or a table filled by bounded INSERTs), or written as `entity_df_sql`; and by
 * start/end date. The sources are parquet files that both Trino (external Hive tables) and larder's
 * duckdb store read, so the two stores' answers are compared on the same rows, besides cells
 * checked by hand against the point-in-time rule. The staged table and file are gone after every
 * path: success, an error after the upload, a consumer that stops early, an aborted call.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Bool, DateDay, Float64, Int8, Int64, type Table, TimestampMillisecond, TimestampNanosecond, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { DataSource } from '../../core/src/registry/model.ts';
import type { HistoricalFeaturesRequest, OfflineStore, ResultStream } from '../../core/src/store.ts';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import { TrinoClient } from '../../plugins/trino/src/client.ts';
import { connectionOf, type TrinoStoreConfig } from '../../plugins/trino/src/config.ts';
import type { UploadRoute } from '../../plugins/trino/src/entity-upload.ts';
import { historicalFromEntityTable, retrievalSqlOf } from '../../plugins/trino/src/historical-retrieval.ts';
import trinoPlugin from '../../plugins/trino/src/index.ts';
import { featureView, fileSource, trinoSource } from '../support/feature-views.ts';
import { H_US, T0_US, tsUtc } from '../support/generated-data.ts';
import { arrowTable, collect, rows, writeParquetFile } from '../support/parquet-fixtures.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';
import { context, failure } from '../support/trino-store-testing.ts';

const S_US = 1_000_000n;
const DAY_US = 24n * H_US;

/** A TrinoSource over `table` (or, with `trinoOptions` in `extra`, a query) whose rows carry a `created` column. */
const hiveSource = (name: string, table: string, extra: Partial<DataSource> = {}): DataSource =>
  trinoSource(name, { table }, { createdTimestampColumn: 'created', ...extra });

/** The same views over Trino tables and over the parquet files those tables read (for the duckdb store). */
function viewsOver(source: (name: string, extra?: Partial<DataSource>) => DataSource) {
  const drivers = source('drivers');
  const cities = source('cities', { createdTimestampColumn: '' });
  const mapped = source('drivers', { name: 'drivers_mapped', fieldMapping: { conv_rate: 'rate' } });
  return {
    drivers: featureView('drivers', drivers, ['driver_id'], ['conv_rate', 'trips', 'name'], 86_400),
    short: featureView('drivers_short', drivers, ['driver_id'], ['trips'], 2 * 3600),
    mapped: featureView('mapped', mapped, ['driver_id'], ['rate'], 0),
    cities: featureView('cities', cities, ['city'], ['population'], 0),
  };
}
const trinoViews = viewsOver((name, extra) => hiveSource(extra?.name ?? name, `hive.feast.${name}`, extra));
const fileViews = viewsOver((name, extra) =>
  fileSource(extra?.name ?? name, `${name}/part-0.parquet`, {
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    ...extra,
  }),
);

const ts = (hours: bigint, extraUs = 0n) => T0_US + hours * H_US + extraUs;

/** Source rows: ties at one timestamp told apart by created (a null created loses), rows on TTL edges, a null key. */
function driverRows(): Table {
  const r: Array<[bigint | null, bigint, bigint | null, number, bigint, string | null]> = [
    [1n, ts(1n), ts(1n), 0.1, 1n, 'a'],
    [1n, ts(5n), ts(5n), 0.5, 5n, 'b'],
    [1n, ts(5n), ts(6n), 0.55, 55n, 'c'],
    [1n, ts(5n), null, 0.59, 59n, 'n'],
    [2n, ts(2n), null, 0.2, 2n, 'd'],
    [2n, ts(30n), ts(30n), 0.3, 3n, 'e'],
    [3n, ts(10n), ts(10n), 0.7, 7n, null],
    [null, ts(3n), ts(3n), 9.9, 99n, 'ghost'],
  ];
  return arrowTable([
    ['driver_id', new Int64(), r.map((x) => x[0])],
    ['event_timestamp', tsUtc, r.map((x) => x[1])],
    ['created', tsUtc, r.map((x) => x[2])],
    ['conv_rate', new Float64(), r.map((x) => x[3])],
    ['trips', new Int64(), r.map((x) => x[4])],
    ['name', new Utf8(), r.map((x) => x[5])],
  ]);
}

function cityRows(): Table {
  const r: Array<[string | null, bigint, bigint]> = [
    ['x', ts(1n), 100n],
    ['x', ts(7n), 200n],
    ['y', ts(4n), 300n],
    [null, ts(0n), 5n],
  ];
  return arrowTable([
    ['city', new Utf8(), r.map((x) => x[0])],
    ['event_timestamp', tsUtc, r.map((x) => x[1])],
    ['population', new Int64(), r.map((x) => x[2])],
  ]);
}

/** Entity rows: before any source row, on a tie, on the TTL's edge and one microsecond past it, a null key, duplicates, an unknown key. */
function entityRows(): Table {
  const r: Array<[bigint | null, string | null, bigint, number]> = [
    [1n, 'x', ts(0n, 30n * 60n * S_US), 1],
    [1n, 'x', ts(5n), 2],
    [1n, 'y', ts(6n), 3],
    [1n, 'x', ts(8n), 4],
    [2n, 'x', ts(3n), 5],
    [2n, null, ts(2n) + DAY_US, 6],
    [2n, 'x', ts(2n) + DAY_US + 1n, 7],
    [null, 'x', ts(10n), 8],
    [3n, 'y', ts(10n), 9],
    [3n, 'y', ts(10n), 10],
    [4n, 'z', ts(100n), 11],
  ];
  return arrowTable([
    ['driver_id', new Int64(), r.map((x) => x[0])],
    ['city', new Utf8(), r.map((x) => x[1])],
    ['event_timestamp', tsUtc, r.map((x) => x[2])],
    ['label', new Float64(), r.map((x) => x[3])],
  ]);
}

const ALL_REFS = ['drivers:conv_rate', 'drivers:trips', 'drivers:name', 'drivers_short:trips', 'mapped:rate', 'cities:population'];

function request(views: typeof trinoViews, extra: Partial<HistoricalFeaturesRequest> = {}): HistoricalFeaturesRequest {
  return {
    featureViews: [views.drivers, views.short, views.mapped, views.cities],
    featureRefs: ALL_REFS,
    project: 'p',
    fullFeatureNames: true,
    entityTable: entityRows(),
    ...extra,
  };
}

describe('trino store (real Trino 476): get_historical_features as one query', function () {
  this.timeout(240_000);
  let trino: TrinoServer | undefined;
  let repo: string;
  let stagingDir: string;
  let staged: OfflineStore;
  let unstaged: OfflineStore;
  let duckdb: OfflineStore;
  let config: TrinoStoreConfig;

  const server = () => trino!;
  const env = () => ({ repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) });
  const stagedTables = async () => (await trinoQuery(server().url, 'SHOW TABLES FROM hive.staging')).rows.map((r) => r[0]);
  const valuesTables = async () => (await trinoQuery(server().url, 'SHOW TABLES FROM hive.feast')).rows.map((r) => String(r[0]));
  const leftovers = async () => ({
    tables: await stagedTables(),
    files: readdirSync(stagingDir),
    valueTables: (await valuesTables()).filter((t) => t.startsWith('larder_entities_')),
  });
  const clean = { tables: [], files: [], valueTables: [] };

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-trino-hist-'));
    trino = await startTrino();
    const { url, warehouse } = trino;
    // Source files inside the warehouse, so Trino reads them as external tables; the duckdb store reads the same files.
    writeParquetFile(path.join(warehouse, 'src', 'drivers', 'part-0.parquet'), driverRows());
    writeParquetFile(path.join(warehouse, 'src', 'cities', 'part-0.parquet'), cityRows());
    stagingDir = path.join(warehouse, 'staging-files');
    mkdirSync(stagingDir);
    await trinoQuery(url, 'CREATE SCHEMA hive.feast');
    await trinoQuery(url, 'CREATE SCHEMA hive.staging');
    await trinoQuery(url, 'CREATE SCHEMA memory.saved');
    await trinoQuery(
      url,
      `CREATE TABLE hive.feast.drivers (driver_id BIGINT, event_timestamp TIMESTAMP(3), created TIMESTAMP(3), conv_rate DOUBLE, trips BIGINT, name VARCHAR)
       WITH (format = 'PARQUET', external_location = 'local:///src/drivers')`,
    );
    await trinoQuery(
      url,
      `CREATE TABLE hive.feast.cities (city VARCHAR, event_timestamp TIMESTAMP(3), population BIGINT)
       WITH (format = 'PARQUET', external_location = 'local:///src/cities')`,
    );
    config = {
      type: 'trino',
      host: trino.host,
      port: trino.port,
      catalog: 'hive',
      user: 'larder-test',
      connector: { type: 'hive', file_format: 'parquet' },
    };
    unstaged = await trinoPlugin.create(config as never, env());
    staged = await trinoPlugin.create(
      {
        ...config,
        entity_staging: { catalog: 'hive', schema: 'staging', location: stagingDir, trino_location: 'local:///staging-files' },
      } as never,
      env(),
    );
    duckdb = await duckdbPlugin.create({ type: 'duckdb' }, { ...env(), repoPath: path.join(warehouse, 'src') });
  });

  after(async () => {
    await staged?.close();
    await unstaged?.close();
    await duckdb?.close();
    await trino?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('answers the point-in-time rule: ties by created, TTL edges, rows before any feature row, null keys, duplicates, field_mapping, full names', async () => {
    const result = await collect(await staged.getHistoricalFeatures(request(trinoViews), context()));
    expect(result.schema.fields.map((f) => f.name)).to.deep.equal([
      'driver_id',
      'city',
      'event_timestamp',
      'label',
      'drivers__conv_rate',
      'drivers__trips',
      'drivers__name',
      'drivers_short__trips',
      'mapped__rate',
      'cities__population',
    ]);
    const pick = (r: Record<string, unknown>) => [
      r.label,
      r.drivers__name,
      r.drivers__trips,
      r.drivers_short__trips,
      r.mapped__rate,
      r.cities__population,
    ];
    expect(rows(result).map(pick)).to.deep.equal([
      [1, null, null, null, null, null], // before any row of driver 1 or city x
      [2, 'c', 55, 55, 0.55, 100], // at ts = T: the tie goes to the greatest created (a null created loses)
      [3, 'c', 55, 55, 0.55, 300],
      [4, 'c', 55, null, 0.55, 200], // 3 h after the match: outside the short view's 2 h TTL
      [5, 'd', 2, 2, 0.2, 100], // the only candidate has a null created
      [6, 'd', 2, null, 0.2, null], // exactly T − ttl: inside; a null city never matches
      [7, null, null, null, 0.2, 200], // one microsecond past the TTL; `mapped` has none
      [8, null, null, null, null, 200], // a null driver never matches
      [9, null, 7, 7, 0.7, 300],
      [10, null, 7, 7, 0.7, 300], // a duplicate entity row keeps its own output row
      [11, null, null, null, null, null],
    ]);
  });

  it("gives the duckdb store's answer on the same rows (short and full names)", async () => {
    for (const fullFeatureNames of [true, false]) {
      const refs = fullFeatureNames ? ALL_REFS : ['drivers:conv_rate', 'drivers:name', 'drivers_short:trips', 'cities:population'];
      const views = (v: typeof trinoViews) =>
        fullFeatureNames ? [v.drivers, v.short, v.mapped, v.cities] : [v.drivers, v.short, v.cities];
      const fromTrino = await collect(
        await staged.getHistoricalFeatures(
          request(trinoViews, { featureRefs: refs, featureViews: views(trinoViews), fullFeatureNames }),
          context(),
        ),
      );
      const fromDuckdb = await collect(
        await duckdb.getHistoricalFeatures(
          request(fileViews, { featureRefs: refs, featureViews: views(fileViews), fullFeatureNames }),
          context(),
        ),
      );
      expect(fromTrino.schema.fields.map((f) => f.name)).to.deep.equal(fromDuckdb.schema.fields.map((f) => f.name));
      expect(rows(fromTrino)).to.deep.equal(rows(fromDuckdb));
    }
  });

  it('matches a key with one or two points by the range join and one with more by the sort, to the same answer', async () => {
    const whole = rows(await collect(await unstaged.getHistoricalFeatures(request(trinoViews), context())));
    // In the whole table drivers 1 and 2 and city x have three or more points each (the sort);
    // alone, every key of a row has one point (the join). Each row must get the same features.
    const entities = entityRows();
    for (let i = 0; i < entities.numRows; i++) {
      const alone = rows(
        await collect(await unstaged.getHistoricalFeatures(request(trinoViews, { entityTable: entities.slice(i, i + 1) }), context())),
      );
      expect(alone, `entity row ${i}`).to.deep.equal([whole[i]]);
    }
  });
  it('reads a TrinoSource query like its table, and a timestamp with time zone source column as its UTC instant', async () => {
    const querySource = hiveSource('cities_q', '', {
      createdTimestampColumn: '',
      trinoOptions: {
        table: '',
        query:
          "SELECT city, at_timezone(with_timezone(event_timestamp, 'UTC'), 'America/New_York') AS event_timestamp, population FROM hive.feast.cities",
      },
    });
    const viaQuery = featureView('cities', querySource, ['city'], ['population'], 0);
    const req = { featureViews: [viaQuery], featureRefs: ['cities:population'] };
    const fromQuery = await collect(await staged.getHistoricalFeatures(request(trinoViews, req), context()));
    const fromTable = await collect(
      await staged.getHistoricalFeatures(
        request(trinoViews, { featureViews: [trinoViews.cities], featureRefs: ['cities:population'] }),
        context(),
      ),
    );
    expect(rows(fromQuery)).to.deep.equal(rows(fromTable));
    expect(rows(fromTable).map((r) => r.cities__population)).to.deep.equal([null, 100, 300, 200, 100, null, 200, 200, 300, 300, null]);
  });

  it('staged parquet, inline VALUES and INSERTed VALUES give equal answers, and leave nothing behind', async () => {
    const client = new TrinoClient(connectionOf(config, repo));
    const upload = (route: UploadRoute) => ({
      staging: { catalog: 'hive', schema: 'staging', dir: stagingDir, trinoLocation: 'local:///staging-files' },
      values: { catalog: 'hive', schema: 'feast', withClause: "WITH (format = 'PARQUET')" },
      route,
    });
    const answers: Record<string, unknown[]> = {};
    for (const route of ['staged', 'inline', 'values'] as const) {
      const stream = await historicalFromEntityTable({ client, upload: upload(route) }, entityRows(), request(trinoViews), context());
      if (route !== 'inline') expect((await leftovers()).tables.length + (await leftovers()).valueTables.length, route).to.equal(1);
      answers[route] = rows(await collect(stream));
    }
    expect(answers.inline).to.deep.equal(answers.staged);
    expect(answers.values).to.deep.equal(answers.staged);
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('every route holds entity columns of many types exactly (read back through the persist SQL)', async () => {
    const client = new TrinoClient(connectionOf(config, repo));
    const entities = arrowTable([
      ['driver_id', new Int64(), [1n, 2n, 3n]],
      ['event_timestamp', new TimestampNanosecond(), [ts(5n) * 1000n + 123n, ts(3n) * 1000n, null]],
      ['note', new Utf8(), ["it's", 'ünï\ncode "q"', null]],
      ['score', new Float64(), [Number.NaN, Number.NEGATIVE_INFINITY, 1e-300]],
      ['day', new DateDay(), [Date.UTC(2024, 0, 1), null, Date.UTC(1969, 11, 31)]],
      ['small', new Int8(), [-128, 127, null]],
      ['flag', new Bool(), [true, false, null]],
      ['zoned', new TimestampMillisecond('Europe/Paris'), [ts(1n) / 1000n, null, 0n]],
    ]);
    const read: Record<string, unknown> = {};
    for (const route of ['staged', 'inline', 'values'] as const) {
      const stream = await historicalFromEntityTable(
        {
          client,
          upload: {
            staging: { catalog: 'hive', schema: 'staging', dir: stagingDir, trinoLocation: 'local:///staging-files' },
            values: { catalog: 'hive', schema: 'feast', withClause: "WITH (format = 'PARQUET')" },
            route,
          },
        },
        entities,
        request(trinoViews, { featureViews: [trinoViews.drivers], featureRefs: ['drivers:trips'], entityTable: entities }),
        context(),
      );
      const columns = ['event_timestamp', 'note', 'score', 'day', 'small', 'flag', 'zoned'].map((c) => `CAST(${c} AS varchar)`);
      read[route] = (
        await trinoQuery(
          server().url,
          `SELECT driver_id, ${columns.join(', ')}, drivers__trips FROM (${retrievalSqlOf(stream)}) ORDER BY driver_id`,
        )
      ).rows;
      await stream.batches[Symbol.asyncIterator]().return?.();
    }
    expect(read.staged).to.deep.equal([
      [1, '2024-01-01 05:00:00.000000123', "it's", 'NaN', '2024-01-01', '-128', 'true', '2024-01-01 02:00:00.000 Europe/Paris', 55],
      [2, '2024-01-01 03:00:00.000000000', 'ünï\ncode "q"', '-Infinity', null, '127', 'false', null, 2],
      [3, null, null, '1.0E-300', '1969-12-31', null, null, '1970-01-01 01:00:00.000 Europe/Paris', null],
    ]);
    expect(read.inline).to.deep.equal(read.staged);
    expect(read.values).to.deep.equal(read.staged);
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('an empty entity table gives an empty answer with the full schema, on either store', async () => {
    const empty = arrowTable([
      ['driver_id', new Int64(), []],
      ['city', new Utf8(), []],
      ['event_timestamp', tsUtc, []],
    ]);
    for (const store of [staged, unstaged]) {
      const result = await collect(await store.getHistoricalFeatures(request(trinoViews, { entityTable: empty }), context()));
      expect(result.numRows).to.equal(0);
      expect(result.schema.fields.map((f) => f.name)).to.include.members(['driver_id', 'drivers__trips', 'cities__population']);
    }
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('without entity_staging, a small table goes inline: no table is created', async () => {
    const seen = new Set<string>();
    const stream = await unstaged.getHistoricalFeatures(request(trinoViews), context());
    for (const t of await valuesTables()) seen.add(t);
    const result = rows(await collect(stream));
    expect([...seen].filter((t) => t.startsWith('larder_entities_'))).to.deep.equal([]);
    expect(result).to.deep.equal(rows(await collect(await staged.getHistoricalFeatures(request(trinoViews), context()))));
  });

  it('refuses a join key of the wrong kind before sending any row', async () => {
    const bad = arrowTable([
      ['driver_id', new Int64(), [1n]],
      ['city', new Int64(), [7n]],
      ['event_timestamp', tsUtc, [ts(5n)]],
    ]);
    const before = readdirSync(stagingDir).length;
    const error = await failure(staged.getHistoricalFeatures(request(trinoViews, { entityTable: bad }), context()));
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(error.message).to.contain('Join key "city" of feature view cities cannot be matched: the entity rows have bigint');
    expect(readdirSync(stagingDir).length).to.equal(before);
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('drops the staged table and file when Trino fails the query while it streams', async () => {
    // Planning (LIMIT 0) reads no row; the division by zero happens once the query runs.
    const failing = hiveSource('failing', '', {
      trinoOptions: {
        table: '',
        query: 'SELECT driver_id, event_timestamp, created, trips / (trips - trips) AS conv_rate FROM hive.feast.drivers',
      },
    });
    const view = featureView('failing', failing, ['driver_id'], ['conv_rate'], 0);
    const stream = await staged.getHistoricalFeatures(
      request(trinoViews, { featureViews: [view], featureRefs: ['failing:conv_rate'] }),
      context(),
    );
    expect((await leftovers()).tables).to.have.length(1);
    const error = await failure(collect(stream));
    expect(error.message).to.contain('DIVISION_BY_ZERO');
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('keeps the staged table while the stream is open, and drops it when the consumer stops early or the call is aborted', async () => {
    const stream = await staged.getHistoricalFeatures(request(trinoViews), context());
    expect((await leftovers()).tables).to.have.length(1);
    expect((await leftovers()).files).to.have.length(1);
    const iterator = stream.batches[Symbol.asyncIterator]();
    expect((await iterator.next()).done).to.equal(false);
    await iterator.return?.();
    expect(await leftovers()).to.deep.equal(clean);

    const controller = new AbortController();
    const aborted = await staged.getHistoricalFeatures(request(trinoViews), context(controller.signal));
    controller.abort();
    const error = await failure(collect(aborted));
    expect(error.message).to.contain('aborted');
    expect(await leftovers()).to.deep.equal(clean);

    // Never read at all: releasing it (as core does for an unread result) still drops it.
    const unread = await staged.getHistoricalFeatures(request(trinoViews), context());
    expect((await leftovers()).tables).to.have.length(1);
    await unread.batches[Symbol.asyncIterator]().return?.();
    expect(await leftovers()).to.deep.equal(clean);
  });

  it('retrievalSqlOf gives SQL that CREATE TABLE AS turns into the same rows inside Trino while the stream is open', async () => {
    const stream = await staged.getHistoricalFeatures(request(trinoViews), context());
    const sql = retrievalSqlOf(stream)!;
    expect(sql).to.be.a('string');
    try {
      await trinoQuery(server().url, `CREATE TABLE memory.saved.pit AS ${sql}`);
      const saved = await trinoQuery(server().url, 'SELECT label, drivers__trips, cities__population FROM memory.saved.pit ORDER BY label');
      const streamed = rows(await collect(stream));
      expect(saved.rows).to.deep.equal(streamed.map((r) => [r.label, r.drivers__trips, r.cities__population]));
    } finally {
      await trinoQuery(server().url, 'DROP TABLE IF EXISTS memory.saved.pit');
    }
    expect(await leftovers()).to.deep.equal(clean);
    const notOurs: ResultStream = { schema: stream.schema, batches: stream.batches };
    expect(retrievalSqlOf(notOurs)).to.equal(undefined);
  });

  it('entity_df_sql: the client query is the entity relation of the same statement; its columns lead', async () => {
    const sql = `SELECT driver_id, city, event_timestamp, label FROM (VALUES
      (BIGINT '1', 'x', TIMESTAMP '2024-01-01 05:00:00.000', 2e0),
      (BIGINT '2', 'x', TIMESTAMP '2024-01-01 03:00:00.000', 5e0),
      (BIGINT '3', 'y', TIMESTAMP '2024-01-01 10:00:00.000', 9e0),
      (BIGINT '3', 'y', TIMESTAMP '2024-01-01 10:00:00.000', 10e0)) AS t(driver_id, city, event_timestamp, label)`;
    const result = await collect(
      await unstaged.getHistoricalFeatures(request(trinoViews, { entityTable: undefined, entityDfSql: sql }), context()),
    );
    expect(result.schema.fields.map((f) => f.name).slice(0, 5)).to.deep.equal([
      'driver_id',
      'city',
      'event_timestamp',
      'label',
      'drivers__conv_rate',
    ]);
    const byLabel = (r: Record<string, unknown>) => [r.label, r.drivers__name, r.drivers_short__trips, r.cities__population];
    // Rows come ordered by (event timestamp, join keys); rows tied on all of them, in any order.
    const answered = rows(result).map(byLabel);
    expect(answered.slice(0, 2)).to.deep.equal([
      [5, 'd', 2, 100],
      [2, 'c', 55, 100],
    ]);
    expect(answered.slice(2).sort((a, b) => Number(a[0]) - Number(b[0]))).to.deep.equal([
      [9, null, 7, 300],
      [10, null, 7, 300],
    ]);
  });

  it('entity_df_sql must be one query: Trino refuses a statement that is not one', async () => {
    for (const sql of [
      'DELETE FROM hive.feast.drivers',
      'SELECT 1 AS x; DROP TABLE hive.feast.drivers',
      'CREATE TABLE hive.feast.x AS SELECT 1 AS a',
    ]) {
      const error = await failure(
        unstaged.getHistoricalFeatures(request(trinoViews, { entityTable: undefined, entityDfSql: sql }), context()),
      );
      expect(error.code, sql).to.equal(status.INVALID_ARGUMENT);
    }
    expect((await trinoQuery(server().url, 'SELECT count(*) FROM hive.feast.drivers')).rows).to.deep.equal([[8]]);
  });

  it('entity_df_sql under an auth provider reads only tables of sources the caller may read', async () => {
    const sql = 'SELECT driver_id, event_timestamp FROM hive.feast.drivers';
    const req = request(trinoViews, {
      entityTable: undefined,
      entityDfSql: sql,
      featureViews: [trinoViews.cities],
      featureRefs: ['cities:population'],
    });
    const denied = await failure(
      unstaged.getHistoricalFeatures(
        req,
        context(undefined, { sourceAccess: { readable: [trinoViews.cities.batchSource!], denied: [trinoViews.drivers.batchSource!] } }),
      ),
    );
    expect(denied.code).to.equal(status.PERMISSION_DENIED);
    expect(denied.message).to.contain('hive.feast.drivers');
    const allowed = await unstaged.getHistoricalFeatures(
      { ...req, entityDfSql: 'SELECT city, event_timestamp FROM hive.feast.cities' },
      context(undefined, { sourceAccess: { readable: [trinoViews.cities.batchSource!], denied: [trinoViews.drivers.batchSource!] } }),
    );
    expect((await collect(allowed)).numRows).to.equal(4);
  });

  it("entity_df_sql under an auth provider: by the same rule as a client's source (query-check.ts), one read-only query, no table a denied source reads", async () => {
    const req = request(trinoViews, {
      entityTable: undefined,
      entityDfSql: 'SELECT city, event_timestamp FROM hive.feast.cities',
      featureViews: [trinoViews.cities],
      featureRefs: ['cities:population'],
    });
    // A readable query source shows some cities; a denied one the others, of the same table.
    const querySource = (name: string, query: string) => hiveSource(name, '', { trinoOptions: { table: '', query } });
    const readable = querySource('some_cities', "SELECT * FROM hive.feast.cities WHERE city <> 'x'");
    const denied = querySource('other_cities', "SELECT * FROM hive.feast.cities WHERE city = 'x'");
    const refused = await failure(
      unstaged.getHistoricalFeatures(req, context(undefined, { sourceAccess: { readable: [readable], denied: [denied] } })),
    );
    expect(refused.code).to.equal(status.PERMISSION_DENIED);
    expect(refused.message).to.include(
      'entity_df_sql reads hive.feast.cities, which a data source you may not read (READ_OFFLINE) also reads: a readable source over it may show only part of its rows',
    );
    // A statement that is not a query is refused by query-check's statement-type check, under auth or not.
    const notAQuery = await failure(
      unstaged.getHistoricalFeatures(
        { ...req, entityDfSql: 'DELETE FROM hive.feast.cities' },
        context(undefined, { sourceAccess: { readable: [readable], denied: [] } }),
      ),
    );
    expect(notAQuery.code).to.equal(status.INVALID_ARGUMENT);
    expect(notAQuery.message).to.include('only one read-only query (SELECT, WITH, VALUES, TABLE) is accepted');
  });

  it("by start/end date: one row per distinct (timestamp, keys) in the range, as larder's duckdb store answers", async () => {
    const dates = { entityTable: undefined, startDate: new Date(Number(ts(2n) / 1000n)), endDate: new Date(Number(ts(30n) / 1000n)) };
    const refs = ['drivers:conv_rate', 'drivers:name', 'drivers_short:trips'];
    const fromTrino = await collect(
      await staged.getHistoricalFeatures(
        request(trinoViews, { ...dates, featureRefs: refs, featureViews: [trinoViews.drivers, trinoViews.short] }),
        context(),
      ),
    );
    const fromDuckdb = await collect(
      await duckdb.getHistoricalFeatures(
        request(fileViews, { ...dates, featureRefs: refs, featureViews: [fileViews.drivers, fileViews.short] }),
        context(),
      ),
    );
    expect(fromTrino.schema.fields.map((f) => f.name)).to.deep.equal([
      'event_timestamp',
      'driver_id',
      'drivers__conv_rate',
      'drivers__name',
      'drivers_short__trips',
    ]);
    const sorted = (t: Table) =>
      rows(t).sort((a, b) => Number(a.event_timestamp) - Number(b.event_timestamp) || Number(a.driver_id) - Number(b.driver_id));
    expect(rows(fromTrino)).to.deep.equal(sorted(fromDuckdb));
    expect(fromTrino.numRows).to.equal(5);
  });
});
