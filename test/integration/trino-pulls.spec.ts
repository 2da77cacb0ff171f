/**
 * The trino store's pulls and its check of client-written SQL, against a real Trino 476 (started
 * once for the file): pull_all and pull_latest through the store object (inclusive bounds, null
 * timestamps left out, "latest" by timestamp then created with nulls lowest, null keys a group,
 * `__dummy_id` without join keys, naive and with-time-zone columns bounded by the UTC instant,
 * table and query sources, Feast's error classes), then both pulls through a real larder process
 * called by the real Feast client; and a source's query checked by Trino itself: only one
 * read-only query runs, and under an auth provider only one reading tables the caller may read.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { DataType, type RecordBatch, type Timestamp } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import type { DataSource } from '../../core/src/registry/model.ts';
import type { OfflineStore, PullRequest, ResultStream } from '../../core/src/store.ts';
import { TrinoStore } from '../../plugins/trino/src/store.ts';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { TRINO_SOURCE_CLASS, trinoSource } from '../support/feature-views.ts';
import { connect } from '../support/flight-client.ts';
import { placeholderTable } from '../support/guarded-repo.ts';
import { type ServerProcess, startLarder } from '../support/larder-process.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';
import { context, failure } from '../support/trino-store-testing.ts';

const run = promisify(execFile);

/** A TrinoSource over a table or a query whose rows carry a `created` column, as every source here does. */
const pullSource = (name: string, relation: { table?: string; query?: string }, fieldMapping: Record<string, string> = {}): DataSource =>
  trinoSource(name, relation, { createdTimestampColumn: 'created', fieldMapping });

const START = new Date('2021-04-11T00:00:00Z');
const END = new Date('2021-04-12T12:00:00Z');

function pull(source: DataSource, over: Partial<PullRequest> = {}): PullRequest {
  return {
    source,
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['conv_rate'],
    timestampField: 'event_timestamp',
    createdTimestampColumn: 'created',
    startDate: START,
    endDate: END,
    ...over,
  };
}

type Row = Record<string, unknown>;

/** Every row of a result, timestamps as ISO strings to the microsecond, int64 as numbers. */
async function rowsOf(stream: ResultStream): Promise<{ columns: string[]; rows: Row[] }> {
  const rows: Row[] = [];
  const batches: RecordBatch[] = [];
  for await (const batch of stream.batches) batches.push(batch);
  for (const batch of batches) {
    for (let i = 0; i < batch.numRows; i++) {
      const row: Row = {};
      for (const field of stream.schema.fields) {
        const data = batch.getChild(field.name)!.data[0]!;
        if (!data.getValid(i)) row[field.name] = null;
        else if (DataType.isTimestamp(field.type)) {
          const micros = (data.values as BigInt64Array)[i]!;
          const iso = new Date(Number(micros / 1000n)).toISOString();
          row[field.name] = `${iso.slice(0, 23)}${String(micros % 1000n).padStart(3, '0')}${(field.type as Timestamp).timezone ? 'Z' : ''}`;
        } else {
          const v = batch.getChild(field.name)!.get(i);
          row[field.name] = typeof v === 'bigint' ? Number(v) : v;
        }
      }
      rows.push(row);
    }
  }
  return { columns: stream.schema.fields.map((f) => f.name), rows };
}

const byKeyThenTime = (a: Row, b: Row) =>
  String(a.driver_id).localeCompare(String(b.driver_id)) ||
  String(a.event_timestamp).localeCompare(String(b.event_timestamp)) ||
  Number(a.conv_rate) - Number(b.conv_rate);

describe('trino store pulls and client-written SQL (real Trino 476)', function () {
  this.timeout(240_000);
  let trino: TrinoServer | undefined;
  let store: OfflineStore;
  let workdir: string;

  before(async () => {
    workdir = mkdtempSync(path.join(tmpdir(), 'larder-trino-pulls-'));
    trino = await startTrino();
    await trinoQuery(trino.url, 'CREATE SCHEMA hive.feast');
    await trinoQuery(
      trino.url,
      `CREATE TABLE hive.feast.driver_stats (driver_id BIGINT, event_timestamp TIMESTAMP(3), created TIMESTAMP(3), conv_rate DOUBLE, city VARCHAR)
       WITH (format = 'PARQUET')`,
    );
    const ts = (s: string | null) => (s === null ? 'NULL' : `TIMESTAMP '${s}'`);
    const rows: Array<[number | null, string | null, string | null, number, string]> = [
      [1, '2021-04-12 10:00:00.000', '2021-04-12 10:00:00.000', 0.1, 'a'],
      [1, '2021-04-12 11:00:00.000', '2021-04-12 11:00:00.000', 0.2, 'b'],
      [1, '2021-04-12 12:00:00.001', '2021-04-12 12:00:00.001', 0.9, 'late'],
      [2, '2021-04-12 09:00:00.000', '2021-04-12 09:30:00.000', 0.3, 'c'],
      [2, '2021-04-12 09:00:00.000', null, 0.35, 'd'],
      [3, '2021-04-10 23:59:59.999', '2021-04-10 23:59:59.999', 0.5, 'early'],
      [3, '2021-04-11 00:00:00.000', '2021-04-11 00:00:00.000', 0.6, 'e'],
      [null, '2021-04-12 08:00:00.000', '2021-04-12 08:00:00.000', 0.7, 'f'],
      [4, null, '2021-04-12 08:00:00.000', 0.8, 'no time'],
      [4, '2021-04-12 12:00:00.000', '2021-04-12 12:00:00.000', 0.45, 'g'],
    ];
    const values = rows.map(([k, t, c, v, city]) => `(${k ?? 'NULL'}, ${ts(t)}, ${ts(c)}, ${v}, '${city}')`).join(', ');
    await trinoQuery(trino.url, `INSERT INTO hive.feast.driver_stats VALUES ${values}`);
    await trinoQuery(trino.url, "CREATE TABLE hive.feast.secret (driver_id BIGINT, salary DOUBLE) WITH (format = 'PARQUET')");
    await trinoQuery(trino.url, 'INSERT INTO hive.feast.secret VALUES (1, 100.0)');
    await trinoQuery(trino.url, 'CREATE VIEW hive.feast.secret_view AS SELECT * FROM hive.feast.secret');
    await trinoQuery(
      trino.url,
      'CREATE TABLE memory.default.tz_events (driver_id BIGINT, event_timestamp TIMESTAMP(6) WITH TIME ZONE, conv_rate DOUBLE)',
    );
    await trinoQuery(
      trino.url,
      `INSERT INTO memory.default.tz_events VALUES
         (1, TIMESTAMP '2021-04-12 16:59:59.999999 +05:00', 1.0),
         (1, TIMESTAMP '2021-04-12 17:00:00.000001 +05:00', 2.0),
         (2, TIMESTAMP '2021-04-11 05:30:00.000000 Asia/Kolkata', 3.0),
         (2, TIMESTAMP '2021-04-10 19:59:59.999999 America/New_York', 4.0)`,
    );
    store = TrinoStore.create(
      { type: 'trino', host: '127.0.0.1', port: trino.port, catalog: 'hive', user: 'larder-test', connector: { type: 'hive' } },
      { repoPath: workdir, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store?.close();
    await trino?.stop();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  const table = pullSource('driver_table', { table: 'hive.feast.driver_stats' }, { conv_rate: 'rate' });

  describe('through the store object', () => {
    it('pull_all: the rows in [start, end], bounds inclusive, no null timestamp, raw column names once each', async () => {
      const { columns, rows } = await rowsOf(
        await store.pullAllFromTableOrQuery(pull(table, { featureNameColumns: ['conv_rate', 'driver_id'] }), context()),
      );
      expect(columns).to.deep.equal(['driver_id', 'conv_rate', 'event_timestamp', 'created']);
      expect(rows.sort(byKeyThenTime)).to.deep.equal(
        [
          { driver_id: 1, conv_rate: 0.1, event_timestamp: '2021-04-12T10:00:00.000000', created: '2021-04-12T10:00:00.000000' },
          { driver_id: 1, conv_rate: 0.2, event_timestamp: '2021-04-12T11:00:00.000000', created: '2021-04-12T11:00:00.000000' },
          { driver_id: 2, conv_rate: 0.3, event_timestamp: '2021-04-12T09:00:00.000000', created: '2021-04-12T09:30:00.000000' },
          { driver_id: 2, conv_rate: 0.35, event_timestamp: '2021-04-12T09:00:00.000000', created: null },
          { driver_id: 3, conv_rate: 0.6, event_timestamp: '2021-04-11T00:00:00.000000', created: '2021-04-11T00:00:00.000000' },
          { driver_id: 4, conv_rate: 0.45, event_timestamp: '2021-04-12T12:00:00.000000', created: '2021-04-12T12:00:00.000000' },
          { driver_id: null, conv_rate: 0.7, event_timestamp: '2021-04-12T08:00:00.000000', created: '2021-04-12T08:00:00.000000' },
        ].sort(byKeyThenTime),
      );
    });

    it('pull_all without bounds, and with no feature named returns every column', async () => {
      const { columns, rows } = await rowsOf(
        await store.pullAllFromTableOrQuery(pull(table, { featureNameColumns: [], startDate: null, endDate: null }), context()),
      );
      expect(columns).to.deep.equal(['driver_id', 'event_timestamp', 'created', 'conv_rate', 'city']);
      expect(rows.map((r) => r.city).sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e', 'early', 'f', 'g', 'late']);
    });

    it('pull_latest: per key the greatest timestamp, then created with nulls lowest; null keys form a group', async () => {
      const { columns, rows } = await rowsOf(await store.pullLatestFromTableOrQuery(pull(table), context()));
      expect(columns).to.deep.equal(['driver_id', 'conv_rate', 'event_timestamp', 'created']);
      expect(rows.map((r) => [r.driver_id, r.conv_rate]).sort()).to.deep.equal(
        [
          [1, 0.2],
          [2, 0.3],
          [3, 0.6],
          [4, 0.45],
          [null, 0.7],
        ].sort(),
      );
    });

    it('pull_latest without join keys: one row, the latest, with Feast\'s "__dummy_id"', async () => {
      const { columns, rows } = await rowsOf(await store.pullLatestFromTableOrQuery(pull(table, { joinKeyColumns: [] }), context()));
      expect(columns).to.deep.equal(['conv_rate', 'event_timestamp', 'created', '__dummy_id']);
      expect(rows).to.deep.equal([
        { conv_rate: 0.45, event_timestamp: '2021-04-12T12:00:00.000000', created: '2021-04-12T12:00:00.000000', __dummy_id: '' },
      ]);
    });

    it('a query source, and a timestamp with time zone column bounded by the UTC instant', async () => {
      const query = pullSource('driver_query', {
        query: "SELECT driver_id, event_timestamp, created, conv_rate * 10 AS conv_rate FROM hive.feast.driver_stats WHERE city <> 'a';",
      });
      const latest = await rowsOf(await store.pullLatestFromTableOrQuery(pull(query), context()));
      expect(latest.rows.map((r) => [r.driver_id, r.conv_rate]).sort()).to.deep.equal(
        [
          [1, 2],
          [2, 3],
          [3, 6],
          [4, 4.5],
          [null, 7],
        ].sort(),
      );
      const tz = pullSource('tz', { table: 'memory.default.tz_events' });
      const all = await rowsOf(await store.pullAllFromTableOrQuery(pull(tz, { createdTimestampColumn: null }), context()));
      expect(all.rows.sort(byKeyThenTime)).to.deep.equal([
        { driver_id: 1, conv_rate: 1, event_timestamp: '2021-04-12T11:59:59.999999Z' },
        { driver_id: 2, conv_rate: 3, event_timestamp: '2021-04-11T00:00:00.000000Z' },
      ]);
    });

    it("missing columns, a non-time timestamp field and a missing table are Feast's errors", async () => {
      const noKey = await failure(store.pullAllFromTableOrQuery(pull(table, { joinKeyColumns: ['no_such_key'] }), context()));
      expect(noKey).to.deep.include({ code: status.INVALID_ARGUMENT, feastClass: 'FeastJoinKeysDuringMaterialization' });
      expect(noKey.message).to.include("'no_such_key'");
      const noFeature = await failure(
        store.pullLatestFromTableOrQuery(pull(table, { featureNameColumns: ['no_such_feature'] }), context()),
      );
      expect(noFeature.code).to.equal(status.NOT_FOUND);
      expect(noFeature.message).to.equal('Data source driver_table (table hive.feast.driver_stats) has no column "no_such_feature"');
      const notTime = await failure(store.pullAllFromTableOrQuery(pull(table, { timestampField: 'city' }), context()));
      expect(notTime.code).to.equal(status.INVALID_ARGUMENT);
      expect(notTime.message).to.equal(
        'Data source driver_table (table hive.feast.driver_stats): the timestamp_field "city" is a varchar column, not a timestamp or date',
      );
      const missing = await failure(store.pullAllFromTableOrQuery(pull(pullSource('m', { table: 'hive.feast.nope' })), context()));
      expect(missing).to.deep.equal({
        message: "Unable to find table at 'hive.feast.nope'. Please check that table exists.",
        code: status.NOT_FOUND,
        feastClass: 'DataSourceNotFoundException',
      });
    });
  });

  describe("a client's query, checked by Trino", () => {
    it('refuses anything but one read-only query, and nothing it names runs', async () => {
      const statements = [
        "INSERT INTO hive.feast.driver_stats VALUES (9, NULL, NULL, 9.0, 'x')",
        'DELETE FROM hive.feast.driver_stats',
        'DROP TABLE hive.feast.driver_stats',
        'CREATE TABLE hive.feast.made AS SELECT 1 AS a',
        "CALL system.sync_partition_metadata('feast', 'driver_stats', 'FULL')",
        "SET SESSION query_max_run_time = '1m'",
        'SELECT 1; DELETE FROM hive.feast.driver_stats',
        'SELECT 1) AS x, (SELECT 2',
      ];
      for (const query of statements) {
        for (const call of [
          () => store.validateDataSource(pullSource('sent', { query }), context()),
          () => store.getTableColumnNamesAndTypes(pullSource('sent', { query }), context()),
        ]) {
          const refused = await failure(call());
          expect(refused.code, query).to.equal(status.INVALID_ARGUMENT);
          expect(refused.message, query).to.match(/^Data source sent \(the query of data source sent\): /);
        }
      }
      const notAQuery = await failure(
        store.validateDataSource(pullSource('sent', { query: 'DELETE FROM hive.feast.driver_stats' }), context()),
      );
      expect(notAQuery.message).to.include('only one read-only query (SELECT, WITH, VALUES, TABLE) is accepted');
      expect((await trinoQuery(trino!.url, 'SELECT count(*) FROM hive.feast.driver_stats')).rows).to.deep.equal([[10]]);
      const made = await trinoQuery(trino!.url, "SELECT count(*) FROM hive.information_schema.tables WHERE table_name = 'made'");
      expect(made.rows).to.deep.equal([[0]]);
      // A query that reads is accepted.
      await store.validateDataSource(
        pullSource('sent', { query: 'WITH x AS (SELECT * FROM hive.feast.driver_stats) SELECT city FROM x' }),
        context(),
      );
    });

    it('under an auth provider, lists a query or table only when the tables it reads (views resolved) are read by a readable source', async () => {
      const readable = [pullSource('readable', { query: 'SELECT driver_id, city FROM feast.driver_stats' })];
      const denied = [pullSource('denied', { table: 'hive.feast.secret' })];
      const ctx = { ...context(), user: 'alice', sourceAccess: { readable, denied } };
      const listed = await store.getTableColumnNamesAndTypes(pullSource('sent', { query: 'SELECT * FROM hive.feast.driver_stats' }), ctx);
      expect(listed.map((c) => c.name)).to.include('conv_rate');
      for (const sent of [
        pullSource('sent', { table: 'hive.feast.secret_view' }),
        pullSource('sent', { query: 'SELECT * FROM hive.feast.secret_view' }),
        pullSource('sent', {
          query: 'SELECT d.city FROM hive.feast.driver_stats d WHERE d.driver_id IN (SELECT driver_id FROM hive.feast.secret)',
        }),
        pullSource('sent', { query: 'SELECT query FROM system.runtime.queries' }),
      ]) {
        const refused = await failure(store.getTableColumnNamesAndTypes(sent, ctx));
        expect(refused, sent.trinoOptions!.query || sent.trinoOptions!.table).to.deep.include({
          code: status.PERMISSION_DENIED,
          feastClass: 'FeastPermissionError',
        });
        expect(refused.message).to.match(
          / reads (hive\.feast\.secret|system\.runtime\.queries), which no data source you may read \(READ_OFFLINE\) reads$/,
        );
      }
    });

    it('under an auth provider, refuses a table that a denied source reads too, though a readable query source reads it', async () => {
      // The readable source shows drivers outside city 'b'; the denied one is city 'b' of the same table.
      const readable = [pullSource('readable', { query: "SELECT * FROM hive.feast.driver_stats WHERE city <> 'b'" })];
      const denied = [pullSource('denied', { query: "SELECT * FROM hive.feast.driver_stats WHERE city = 'b'" })];
      const ctx = { ...context(), user: 'alice', sourceAccess: { readable, denied } };
      for (const sent of [
        pullSource('sent', { table: 'hive.feast.driver_stats' }),
        pullSource('sent', { query: "SELECT * FROM hive.feast.driver_stats WHERE city = 'b'" }),
      ]) {
        const refused = await failure(store.getTableColumnNamesAndTypes(sent, ctx));
        expect(refused, sent.trinoOptions!.query || sent.trinoOptions!.table).to.deep.include({
          code: status.PERMISSION_DENIED,
          feastClass: 'FeastPermissionError',
        });
        expect(refused.message).to.include('reads hive.feast.driver_stats, which a data source you may not read (READ_OFFLINE) also reads');
      }
      // Without the denied source over it, the same table is listed.
      const listed = await store.getTableColumnNamesAndTypes(pullSource('sent', { table: 'hive.feast.driver_stats' }), {
        ...ctx,
        sourceAccess: { readable, denied: [] },
      });
      expect(listed.map((c) => c.name)).to.include('city');
    });
  });

  describe('through a larder process and the Feast client', () => {
    let server: ServerProcess | undefined;
    after(async () => {
      await server?.stop();
    });

    /** Writes registry.db with the TrinoSources by Feast's own protobuf classes (the venv lacks the `trino` package `feast apply` would need). */
    const WRITE_REGISTRY = `
import sys
from feast.protos.feast.core.DataSource_pb2 import DataSource
from feast.protos.feast.core.Registry_pb2 import Registry

def trino_source(name, table="", query=""):
    s = DataSource(name=name, type=DataSource.BATCH_TRINO, field_mapping={"conv_rate": "rate"},
                   trino_options=DataSource.TrinoOptions(table=table, query=query))
    s.timestamp_field = "event_timestamp"
    s.created_timestamp_column = "created"
    s.data_source_class_type = "${TRINO_SOURCE_CLASS}"
    s.project = "p"
    return s

registry = Registry(registry_schema_version="1", data_sources=[
    trino_source("driver_table", table="hive.feast.driver_stats"),
    trino_source("driver_query", query="SELECT * FROM hive.feast.driver_stats WHERE city <> 'b'"),
    trino_source("endless", query=sys.argv[2]),
])
with open(sys.argv[1], "wb") as f:
    f.write(registry.SerializeToString())
`;

    /** About 10^11 joined rows and none kept: it runs far longer than the test unless it is cancelled. */
    const ENDLESS_QUERY = `SELECT x AS driver_id, TIMESTAMP '2021-04-11 01:00:00.000' AS event_timestamp, TIMESTAMP '2021-04-11 01:00:00.000' AS created, 0.5E0 AS conv_rate
      FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) CROSS JOIN UNNEST(sequence(1, 1000)) c(z)
      WHERE x + y + z = -1 /* larder-flight-cancel */`;

    const CLIENT = `
import sys, json
from datetime import datetime, timezone
from types import SimpleNamespace
from feast import FeatureStore
from feast.infra.offline_stores.remote import RemoteOfflineStore
store = FeatureStore(repo_path=sys.argv[1])
out = {}
for name in ("driver_table", "driver_query"):
    for api in ("latest", "all"):
        pull = RemoteOfflineStore.pull_latest_from_table_or_query if api == "latest" else RemoteOfflineStore.pull_all_from_table_or_query
        table = pull(store.config, SimpleNamespace(name=name), ["driver_id"], ["conv_rate"], "event_timestamp", "created",
                     datetime(2021, 4, 11, tzinfo=timezone.utc), datetime(2021, 4, 12, 12, tzinfo=timezone.utc)).to_arrow()
        rows = sorted(([r["driver_id"], r["conv_rate"], r["event_timestamp"].isoformat()] for r in table.to_pylist()), key=str)
        out[name + ":" + api] = {"schema": [f"{f.name}:{f.type}" for f in table.schema], "rows": rows}
print("RESULT" + json.dumps(out))
`;

    it('answers pull_latest and pull_all of a table and a query source to the Feast client', async () => {
      const repo = path.join(workdir, 'server');
      mkdirSync(path.join(repo, 'data'), { recursive: true });
      await run(feastPython().python, ['-c', WRITE_REGISTRY, path.join(repo, 'data', 'registry.db'), ENDLESS_QUERY], { env: feastEnv() });
      writeFileSync(
        path.join(repo, 'feature_store.yaml'),
        `project: p
registry: data/registry.db
provider: local
offline_store:
  type: trino
  host: 127.0.0.1
  port: ${trino!.port}
  catalog: hive
  user: larder-test
  connector:
    type: hive
entity_key_serialization_version: 3
`,
      );
      server = await startLarder({ repoPath: repo });
      const client = path.join(workdir, 'client');
      mkdirSync(client);
      writeFileSync(
        path.join(client, 'feature_store.yaml'),
        `project: p\nregistry: ${path.join(repo, 'data', 'registry.db')}\nprovider: local\noffline_store:\n  type: remote\n  host: 127.0.0.1\n  port: ${server.port}\nentity_key_serialization_version: 3\n`,
      );
      const { stdout } = await run(feastPython().python, ['-c', CLIENT, client], { env: feastEnv(), timeout: 120_000 });
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT'));
      expect(line, `${stdout}\n${server.logs()}`).to.be.a('string');
      const result = JSON.parse(line!.slice('RESULT'.length)) as Record<string, { schema: string[]; rows: unknown[][] }>;
      const schema = ['driver_id:int64', 'conv_rate:double', 'event_timestamp:timestamp[us]', 'created:timestamp[us]'];
      expect(result['driver_table:latest']).to.deep.equal({
        schema,
        rows: [
          [1, 0.2, '2021-04-12T11:00:00'],
          [2, 0.3, '2021-04-12T09:00:00'],
          [3, 0.6, '2021-04-11T00:00:00'],
          [4, 0.45, '2021-04-12T12:00:00'],
          [null, 0.7, '2021-04-12T08:00:00'],
        ],
      });
      expect(result['driver_table:all']!.rows).to.have.length(7);
      expect(result['driver_query:latest']!.rows.find((r) => r[0] === 1)).to.deep.equal([1, 0.1, '2021-04-12T10:00:00']);
      expect(result['driver_query:all']!.rows).to.have.length(6);
    });

    it("a client that goes away cancels the pull's query on the cluster (DoPut, GetFlightInfo, DoGet cancelled)", async () => {
      const stateOfPull = async () =>
        (
          await trinoQuery(
            trino!.url,
            "SELECT state, error_code FROM system.runtime.queries WHERE query LIKE '%larder-flight-cancel%' AND query LIKE '%IS NOT NULL%' AND query NOT LIKE '%system.runtime%'",
          )
        ).rows as unknown[][];
      const until = async (wanted: string) => {
        let rows: unknown[][] = [];
        for (let i = 0; i < 150 && rows[0]?.[0] !== wanted; i++) {
          await new Promise((r) => setTimeout(r, 200));
          rows = await stateOfPull();
        }
        return rows;
      };
      const flight = connect(`127.0.0.1:${server!.port}`);
      try {
        const cmd = JSON.stringify({
          command_id: 'cancel-spec',
          api: 'pull_all_from_table_or_query',
          data_source_name: 'endless',
          join_key_columns: ['driver_id'],
          feature_name_columns: ['conv_rate'],
          timestamp_field: 'event_timestamp',
          created_timestamp_column: 'created',
          start_date: '2021-04-11T00:00:00+00:00',
          end_date: '2021-04-12T12:00:00+00:00',
        });
        await flight.doPut(cmd, placeholderTable());
        const info = await flight.getFlightInfo(cmd);
        const stream = flight.doGetStream(info.endpoints[0]!.ticket);
        const reading = (async () => {
          for await (const _ of stream.batches);
        })().catch(() => undefined);
        expect((await until('RUNNING'))[0]?.[0]).to.equal('RUNNING');
        stream.cancel();
        await reading;
        expect(await until('FAILED')).to.deep.equal([['FAILED', 'USER_CANCELED']]);
      } finally {
        flight.close();
      }
    });
  });
});
