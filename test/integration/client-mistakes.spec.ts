/**
 * Client mistakes are answered as the client's, never as larder's own bugs: each case below once
 * came back INTERNAL with a stack trace logged at error level. Over a real server on each store
 * (file, duckdb, postgres against a throwaway PostgreSQL), every case asserts the gRPC status —
 * INVALID_ARGUMENT for what the request got wrong, FAILED_PRECONDITION for a registered source
 * whose data does not fit it — that the message names the column, that nothing was logged at
 * error level, and that the server answers the next call. What a client may rightly send (a
 * DECIMAL column, a date as event timestamp) is served instead.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { status } from '@grpc/grpc-js';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  DateDay,
  Decimal,
  Duration,
  Field,
  Float16,
  Float64,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table as ArrowTable,
  TimeUnit,
  Timestamp,
  Utf8,
  makeData,
  type Table,
} from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import YAML from 'yaml';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import type { DataSourceDraft } from '../../core/src/registry/draft.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { placeholderTable, rejection } from '../support/guarded-repo.ts';
import { arrowTable } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const POSTGRES_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
/** 2024-01-01T03:00:00Z in microseconds: the entity rows' time. */
const T3 = BigInt(Date.UTC(2024, 0, 1, 3)) * 1000n;

/** Five rows: driver_id i, ts = 2024-01-01 + i hours, rate i/2, fts (a float) i*1.5, price i*1.25 as DECIMAL(9,2). */
const ROWS_SQL = (cast: { decimal: string; double: string; text: string; tz: string }) =>
  `SELECT i::BIGINT AS driver_id, ${cast.tz} '2024-01-01 00:00:00+00' + i * INTERVAL '1 hour' AS ts, ${cast.tz} '2024-01-01 00:00:00+00' AS created,
     (i * 0.5)::${cast.double} AS rate, (i * 1.5)::${cast.double} AS fts, (i * 1.25)::${cast.decimal} AS price, i::${cast.text} AS name`;

type StoreType = 'file' | 'duckdb' | 'postgres';

const ghf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    api: 'get_historical_features',
    feature_view_names: ['stats'],
    name_aliases: [null],
    feature_refs: ['stats:rate'],
    project: 'p',
    full_feature_names: false,
    ...extra,
  });
const pull = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    api: 'pull_all_from_table_or_query',
    data_source_name: 'stats',
    join_key_columns: ['driver_id'],
    feature_name_columns: ['rate'],
    timestamp_field: 'ts',
    created_timestamp_column: null,
    start_date: '2024-01-01T00:00:00',
    end_date: '2025-01-01T00:00:00',
    ...extra,
  });
const write = () => JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['stats'], name_aliases: [null] });
const entities = (ts: [Timestamp | Utf8 | Int64 | DateDay, unknown[]] = [tsUtc, [T3]]) =>
  arrowTable([
    ['driver_id', new Int64(), ts[1].map(() => 2n)],
    ['event_timestamp', ts[0], ts[1]],
  ]);

describe('client mistakes are INVALID_ARGUMENT or FAILED_PRECONDITION, naming the column, on every store', function () {
  this.timeout(120_000);
  let postgres: PostgresServer;

  before(async () => {
    postgres = await startPostgres();
    const admin = new pg.Client({
      host: postgres.host,
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
    });
    await admin.connect();
    await admin.query(
      `CREATE TABLE stats AS ${ROWS_SQL({ decimal: 'numeric(9,2)', double: 'double precision', text: 'text', tz: 'timestamptz' })} FROM generate_series(0, 4) AS i`,
    );
    await admin.end();
  });
  after(() => postgres?.stop());

  for (const storeType of ['file', 'duckdb', 'postgres'] as StoreType[]) {
    describe(`the ${storeType} store`, () => {
      let repo: string;
      let server: RunningServer;
      let client: FlightTestClient;
      const errorLogs: string[] = [];
      const sink = new Writable({
        write(chunk, _encoding, done) {
          for (const line of String(chunk).split('\n').filter(Boolean)) {
            const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
            if (entry.level >= 50) errorLogs.push(`${entry.msg}: ${entry.err?.message ?? ''}`);
          }
          done();
        },
      });

      before(async () => {
        repo = mkdtempSync(path.join(tmpdir(), `larder-mistakes-${storeType}-`));
        mkdirSync(path.join(repo, 'data'));
        let offlineStore: Record<string, unknown> = { type: storeType };
        const source = (name: string, timestampField: string): DataSourceDraft =>
          storeType === 'postgres'
            ? {
                kind: 'custom',
                name,
                classType: POSTGRES_SOURCE,
                timestampField,
                createdTimestampColumn: 'created',
                configuration: { name, table: 'stats', query: '' },
              }
            : { kind: 'file', name, path: 'data/stats.parquet', timestampField, createdTimestampColumn: 'created' };
        if (storeType === 'postgres') {
          offlineStore = postgres.offlineStoreConfig();
        } else {
          const db = await DuckDBInstance.create(':memory:');
          const connection = await db.connect();
          const rows = ROWS_SQL({ decimal: 'DECIMAL(9,2)', double: 'DOUBLE', text: 'VARCHAR', tz: 'TIMESTAMPTZ' });
          await connection.run(
            `SET TimeZone = 'UTC'; COPY (${rows} FROM range(5) t(i)) TO '${path.join(repo, 'data', 'stats.parquet')}' (FORMAT parquet)`,
          );
          // One row in the year 3000: beyond the int64 nanoseconds the duckdb store compares in.
          await connection.run(
            `COPY (SELECT 2::BIGINT AS driver_id, TIMESTAMPTZ '3000-01-01 00:00:00+00' AS ts, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created, 1.0::DOUBLE AS rate) TO '${path.join(repo, 'data', 'future.parquet')}' (FORMAT parquet)`,
          );
          connection.disconnectSync();
          db.closeSync();
        }
        writeFileSync(
          path.join(repo, 'feature_store.yaml'),
          YAML.stringify({ project: 'p', registry: 'data/registry.db', offline_store: offlineStore }),
        );
        writeFileSync(
          path.join(repo, 'data', 'registry.db'),
          encodeRegistry({
            project: 'p',
            entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
            dataSources: [
              source('stats', 'ts'),
              source('float_ts', 'fts'),
              { kind: 'file', name: 'future', path: 'data/future.parquet', timestampField: 'ts', createdTimestampColumn: 'created' },
            ],
            featureViews: [
              {
                name: 'stats',
                entities: ['driver'],
                source: 'stats',
                features: [
                  { name: 'rate', valueType: 'DOUBLE' },
                  { name: 'price', valueType: 'DOUBLE' },
                ],
              },
              { name: 'float_ts', entities: ['driver'], source: 'float_ts', features: [{ name: 'rate', valueType: 'DOUBLE' }] },
              { name: 'future', entities: ['driver'], source: 'future', features: [{ name: 'rate', valueType: 'DOUBLE' }] },
            ],
          }),
        );
        server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'info' }, sink) });
        client = connect(`127.0.0.1:${server.port}`);
      });

      after(async () => {
        client?.close();
        await server?.stop(1000);
        if (repo) rmSync(repo, { recursive: true, force: true });
      });

      beforeEach(() => (errorLogs.length = 0));
      afterEach(async function () {
        if (this.currentTest?.state !== 'passed') return;
        expect(errorLogs, 'nothing is logged at error level for a client mistake').to.deep.equal([]);
        // ...and the server still serves.
        expect((await client.doExchange(pull(), placeholderTable())).numRows).to.equal(5);
      });

      /** The call fails with `code`, and its message names `column` in quotes. */
      async function refused(call: Promise<unknown>, code: number, column: string): Promise<string> {
        const error = await rejection(call);
        expect(error.code, `${error.code} ${error.details}`).to.equal(code);
        expect(error.details).to.include(`"${column}"`);
        return error.details;
      }

      it('an entity event_timestamp sent as strings, or as integers', async () => {
        const strings = await refused(
          client.doExchange(ghf(), entities([new Utf8(), ['2024-01-01T03:00:00']])),
          status.INVALID_ARGUMENT,
          'event_timestamp',
        );
        expect(strings).to.match(/timestamp/i);
        await refused(client.doExchange(ghf(), entities([new Int64(), [1n]])), status.INVALID_ARGUMENT, 'event_timestamp');
      });

      it('serves an entity event_timestamp sent as a date (midnight UTC)', async () => {
        const table = await client.doExchange(ghf(), entities([new DateDay(), [new Date(Date.UTC(2024, 0, 1, 0))]]));
        expect(table.numRows).to.equal(1);
        // Driver 2's row is at 02:00, after midnight: no match.
        expect(table.getChild('rate')!.get(0)).to.equal(null);
      });

      it('a pull whose timestamp_field or created_timestamp_column names a float column', async () => {
        await refused(client.doExchange(pull({ timestamp_field: 'fts' }), placeholderTable()), status.INVALID_ARGUMENT, 'fts');
        await refused(
          client.doExchange(pull({ api: 'pull_latest_from_table_or_query', timestamp_field: 'fts' }), placeholderTable()),
          status.INVALID_ARGUMENT,
          'fts',
        );
        await refused(
          client.doExchange(pull({ api: 'pull_latest_from_table_or_query', created_timestamp_column: 'fts' }), placeholderTable()),
          status.INVALID_ARGUMENT,
          'fts',
        );
      });

      it('a feature view whose registered source names a float column as its timestamp field', async () => {
        const view = { feature_view_names: ['float_ts'], feature_refs: ['float_ts:rate'] };
        const withEntities = await refused(client.doExchange(ghf(view), entities()), status.FAILED_PRECONDITION, 'fts');
        expect(withEntities).to.include('float_ts');
        await refused(
          client.doExchange(ghf({ ...view, start_date: '2024-01-01T00:00:00', end_date: '2024-02-01T00:00:00' }), placeholderTable()),
          status.FAILED_PRECONDITION,
          'fts',
        );
      });

      it('a record batch whose layout differs from the stream schema, in a read and in a write', async () => {
        const schema = entities().schema;
        const stranger = arrowTable([
          ['driver_id', new Utf8(), ['1', '2']],
          ['event_timestamp', tsUtc, [T3, T3]],
        ]);
        // The IPC verifier refuses it before it is decoded: a utf8 column where the schema has an
        // int64 one brings one buffer too many (when the counts happen to agree, a column is named).
        const read = await rejection(client.doExchange(ghf(), [...entities().batches, ...stranger.batches], { schema }));
        expect(read.code, read.details).to.equal(status.INVALID_ARGUMENT);
        expect(read.details).to.match(
          /^Invalid Arrow IPC data in FlightData message #3: (the RecordBatch has 5 buffers but the schema's 2 columns need 4|.*column "(driver_id|event_timestamp)")/,
        );
        const rows = arrowTable([
          ['driver_id', new Int64(), [1n]],
          ['rate', new Float64(), [1]],
        ]);
        const wrong = arrowTable([
          ['driver_id', new Utf8(), ['a long string']],
          ['rate', new Float64(), [1]],
        ]);
        const written = await rejection(client.doPut(write(), [...rows.batches, ...wrong.batches], { schema: rows.schema }));
        expect(written.code, written.details).to.equal(status.INVALID_ARGUMENT);
        expect(written.details).to.match(
          /^Invalid Arrow IPC data in FlightData message #3: (the RecordBatch has 5 buffers but the schema's 2 columns need 4|.*column "(driver_id|rate)")/,
        );
      });

      it('an uploaded column with an empty name', async () => {
        const unnamed = arrowTable([
          ['driver_id', new Int64(), [2n]],
          ['event_timestamp', tsUtc, [T3]],
          ['', new Int64(), [3n]],
        ]);
        const error = await rejection(client.doExchange(ghf(), unnamed));
        expect(error.code, error.details).to.equal(status.INVALID_ARGUMENT);
        expect(error.details).to.equal('Invalid Arrow IPC data in FlightData message #1: schema field 2 has no name');
      });

      it('a start_date that is no calendar day (2024-02-30)', async () => {
        await refused(
          client.doExchange(pull({ start_date: '2024-02-30T00:00:00' }), placeholderTable()),
          status.INVALID_ARGUMENT,
          'start_date',
        );
      });

      it('an entity table with a duplicated column name', async () => {
        const twice = arrowTable([
          ['driver_id', new Int64(), [2n]],
          ['event_timestamp', tsUtc, [T3]],
          ['driver_id', new Int64(), [3n]],
        ]);
        await refused(client.doExchange(ghf(), twice), status.INVALID_ARGUMENT, 'driver_id');
      });

      it('serves a DECIMAL source column as Feast does (decimal128 for parquet, float64 for PostgreSQL numeric)', async () => {
        const table: Table = await client.doExchange(pull({ feature_name_columns: ['price'] }), placeholderTable());
        const price = table.getChild('price')!;
        if (storeType === 'postgres') {
          expect(String(price.type)).to.equal('Float64');
          expect(price.toArray()).to.deep.equal(new Float64Array([0, 1.25, 2.5, 3.75, 5]));
        } else {
          expect(price.type).to.be.instanceOf(Decimal);
          expect([(price.type as Decimal).precision, (price.type as Decimal).scale]).to.deep.equal([9, 2]);
          expect([...price].map(String)).to.deep.equal(['0', '125', '250', '375', '500']);
        }
      });

      if (storeType !== 'file') {
        it('entity_df_sql whose event_timestamp is a string', async () => {
          const sql = "SELECT 2::BIGINT AS driver_id, 'not a time' AS event_timestamp";
          await refused(client.doExchange(ghf({ entity_df_sql: sql }), placeholderTable()), status.INVALID_ARGUMENT, 'event_timestamp');
        });

        it('entity_df_sql with a DECIMAL(9,2) column and a DATE event timestamp is served', async () => {
          const sql = "SELECT 2::BIGINT AS driver_id, DATE '2024-01-02' AS event_timestamp, 12.25::DECIMAL(9,2) AS amount";
          const table = await client.doExchange(ghf({ entity_df_sql: sql }), placeholderTable());
          expect(table.numRows).to.equal(1);
          expect(table.getChild('rate')!.get(0)).to.equal(1);
          const amount = table.getChild('amount')!;
          if (storeType === 'duckdb') {
            expect([(amount.type as Decimal).precision, (amount.type as Decimal).scale]).to.deep.equal([9, 2]);
            expect(String(amount.get(0))).to.equal('1225');
          } else {
            expect(amount.get(0)).to.equal(12.25);
          }
        });
      }

      it('serves a float16 join key', async () => {
        const time = entities().getChild('event_timestamp')!.data[0]!;
        const key = makeData({ type: new Float16(), length: 1, nullCount: 0, data: new Uint16Array([0x4000]) }); // 2.0
        const fields = [new Field('driver_id', new Float16(), true), new Field('event_timestamp', tsUtc, true)];
        const batch = new RecordBatch(
          new Schema(fields),
          makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: [key, time] }),
        );
        const table = await client.doExchange(ghf(), new ArrowTable([batch]));
        expect(table.getChild('rate')!.get(0)).to.equal(1);
      });

      if (storeType !== 'file') {
        it('entity_df_sql with a column larder cannot send as Arrow names it and says how to cast it', async () => {
          const interval = storeType === 'duckdb' ? 'INTERVAL 1 DAY' : "INTERVAL '1 day'";
          const sql = `SELECT 2::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-02 00:00:00+00' AS event_timestamp, ${interval} AS span`;
          const message = await refused(
            client.doExchange(ghf({ entity_df_sql: sql }), placeholderTable()),
            status.INVALID_ARGUMENT,
            'span',
          );
          expect(message).to.match(/CAST/);
        });
      }

      if (storeType === 'postgres') {
        it('an offline_write_batch column of a type PostgreSQL cannot hold', async () => {
          const base = arrowTable([
            ['driver_id', new Int64(), [2n]],
            ['ts', tsUtc, [T3]],
            ['created', tsUtc, [T3]],
            ['price', new Float64(), [1]],
          ]);
          const rate = makeData({ type: new Duration(TimeUnit.MICROSECOND), length: 1, nullCount: 0, data: new BigInt64Array([1n]) });
          const fields = [...base.schema.fields, new Field('rate', new Duration(TimeUnit.MICROSECOND), true)];
          const children = [...base.data[0]!.children, rate];
          const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 1, nullCount: 0, children }));
          await refused(client.doPut(write(), new ArrowTable([batch])), status.INVALID_ARGUMENT, 'rate');
        });
      }

      if (storeType === 'duckdb') {
        it('an entity time beyond the nanoseconds the store compares in (year 287,000), rather than a wrong answer', async () => {
          const far = entities([new Timestamp(TimeUnit.MICROSECOND, 'UTC'), [9_000_000_000_000_000_000n]]);
          await refused(client.doExchange(ghf(), far), status.INVALID_ARGUMENT, 'event_timestamp');
        });

        it('a source whose data holds a time beyond 2262 is FAILED_PRECONDITION naming the column, for a pull and for a view', async () => {
          const pullFuture = await refused(
            client.doExchange(pull({ data_source_name: 'future' }), placeholderTable()),
            status.FAILED_PRECONDITION,
            'ts',
          );
          expect(pullFuture).to.match(/holds a time outside 1677-09-21 to 2262-04-11/);
          await refused(
            client.doExchange(ghf({ feature_view_names: ['future'], feature_refs: ['future:rate'] }), entities()),
            status.FAILED_PRECONDITION,
            'ts',
          );
        });

        it('entity_df_sql that fails on a value three million rows in is refused, not cut short', async () => {
          const sql =
            "SELECT (CASE WHEN i > 3000000 THEN 'x' ELSE '2' END)::BIGINT AS driver_id, TIMESTAMPTZ '2024-01-02 00:00:00+00' AS event_timestamp FROM range(3100000) t(i)";
          const error = await rejection(client.doExchange(ghf({ entity_df_sql: sql }), placeholderTable()));
          expect(error.code, error.details).to.equal(status.INVALID_ARGUMENT);
          expect(error.details).to.match(/^entity_df_sql failed: Conversion Error: Could not convert string 'x' to INT64/);
        });
      }
    });
  }
});
