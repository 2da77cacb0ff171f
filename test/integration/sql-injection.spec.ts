/**
 * SQL injection through every client-sent or registry-held string the SQL stores put into SQL:
 * source table names and queries (registered, and sent in `data_source_proto`), column names of
 * pulls (join keys, features, timestamp_field, created_timestamp_column), field mappings, feature
 * refs, file paths. Over a real larder (raw Flight) on a real PostgreSQL and on DuckDB: each
 * attempt is a client error (INVALID_ARGUMENT / NOT_FOUND / PERMISSION_DENIED), no secret row
 * leaks into the answer, nothing is dropped or written, and the server keeps answering.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { Float64, Int64, TimeUnit, Timestamp, Utf8, tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import type { DataSourceDraft, RegistryDraft } from '../../core/src/registry/draft.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { historicalCommand, pullCommand } from '../support/feast-commands.ts';
import { rejection } from '../support/guarded-repo.ts';
import { arrowTable, micros, writeParquetFile } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const PG_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const CLIENT_ERRORS = [status.INVALID_ARGUMENT, status.NOT_FOUND, status.PERMISSION_DENIED];
const placeholder = () => tableFromArrays({ key: ['mock_key'] });

/** Every hostile column name, in every column field of a pull, is refused as a client error. */
async function hostileColumnsRefused(client: FlightTestClient): Promise<void> {
  for (const column of HOSTILE_COLUMNS) {
    await refused(client, pullCommand('driver_source', { timestamp_field: column }), `timestamp_field ${column}`);
    await refused(client, pullCommand('driver_source', { created_timestamp_column: column }), `created_timestamp_column ${column}`);
    await refused(client, pullCommand('driver_source', { join_key_columns: [column] }), `join key ${column}`);
    await refused(client, pullCommand('driver_source', { feature_name_columns: [column] }), `feature ${column}`);
  }
}

/** A hostile field mapping names no column of the source, so it is not applied: the plain rows, nothing more. */
async function mappingIgnored(client: FlightTestClient, command: string): Promise<void> {
  const table = await client.doExchange(command, placeholder());
  expect(table.schema.fields.map((f) => f.name)).to.deep.equal(['event_timestamp', 'driver_id', 'conv_rate']);
  expect([...table.getChild('conv_rate')!.toArray()]).to.deep.equal([0.1, 0.2]);
}

/** Column names that try to close the quoting and read the secret table. */
const HOSTILE_COLUMNS = [
  'ts" FROM secret_table --',
  'conv_rate", (SELECT secret FROM secret_table LIMIT 1) AS "x',
  "ts') UNION SELECT secret FROM secret_table --",
  'driver_id"; DROP TABLE victim; --',
];

function registry(sources: DataSourceDraft[], extraViews: RegistryDraft['featureViews'] = []): RegistryDraft {
  return {
    project: 'inject',
    entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
    dataSources: sources,
    featureViews: [
      { name: 'driver_stats', entities: ['driver'], source: 'driver_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] },
      ...(extraViews ?? []),
    ],
  };
}

function writeRepo(repo: string, offlineStore: Record<string, unknown>, draft: RegistryDraft): void {
  mkdirSync(path.join(repo, 'data'), { recursive: true });
  writeFileSync(
    path.join(repo, 'feature_store.yaml'),
    ['project: inject', 'registry: data/registry.db', `offline_store: ${JSON.stringify(offlineStore)}`, ''].join('\n'),
  );
  writeFileSync(path.join(repo, 'data', 'registry.db'), encodeRegistry(draft));
}

async function refused(client: FlightTestClient, command: string, what: string): Promise<void> {
  const error = await rejection(client.doExchange(command, placeholder()));
  expect(CLIENT_ERRORS, `${what}: ${error.code} ${error.details}`).to.include(error.code);
  expect(error.details, what).to.not.include('topsecret');
}

describe('SQL injection through names, tables, queries and paths', function () {
  this.timeout(120_000);

  describe('postgres store', () => {
    let postgres: PostgresServer;
    let admin: pg.Client;
    let repo: string;
    let server: RunningServer;
    let client: FlightTestClient;
    const count = async (table: string) => Number((await admin.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
    const hostileTables = [
      'driver_table; DROP TABLE victim',
      'driver_table AS s WHERE false UNION ALL SELECT 1, now(), 0.5 FROM secret_table --',
      'driver_table) AS s; DROP TABLE victim; --',
      '(SELECT driver_id, ts, secret AS conv_rate FROM secret_table)',
      'driver_table /* */',
    ];
    const pgSource = (name: string, options: { table?: string; query?: string }, extra: Partial<DataSourceDraft> = {}): DataSourceDraft =>
      ({
        kind: 'custom',
        name,
        classType: PG_SOURCE,
        configuration: { name, table: options.table ?? '', query: options.query ?? '' },
        timestampField: 'ts',
        ...extra,
      }) as DataSourceDraft;
    const protoOf = (options: { table?: string; query?: string }) =>
      JSON.stringify({
        type: 'CUSTOM_SOURCE',
        name: 'driver_probe',
        timestampField: 'ts',
        dataSourceClassType: PG_SOURCE,
        customOptions: {
          configuration: Buffer.from(
            JSON.stringify({ name: 'driver_probe', table: options.table ?? '', query: options.query ?? '' }),
          ).toString('base64'),
        },
      });

    before(async () => {
      postgres = await startPostgres();
      admin = new pg.Client({
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
        database: postgres.database,
      });
      await admin.connect();
      await admin.query(
        `CREATE TABLE driver_table AS SELECT i::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts, i / 10.0::float8 AS conv_rate FROM generate_series(1, 2) AS i`,
      );
      await admin.query(`CREATE TABLE secret_table AS SELECT 1::bigint AS driver_id, 'topsecret'::text AS secret`);
      await admin.query('CREATE TABLE victim AS SELECT 1 AS x');
      repo = mkdtempSync(path.join(tmpdir(), 'larder-inject-pg-'));
      writeRepo(
        repo,
        postgres.offlineStoreConfig(),
        registry(
          [
            pgSource('driver_source', { table: 'driver_table' }),
            ...hostileTables.map((table, i) => pgSource(`hostile_table_${i}`, { table })),
            pgSource('hostile_query', { query: 'SELECT * FROM driver_table) AS s; DROP TABLE victim; --' }),
            pgSource('hostile_query_2', { query: 'SELECT * FROM driver_table; DROP TABLE victim' }),
            pgSource(
              'mapped_source',
              { table: 'driver_table' },
              { fieldMapping: { 'conv_rate", (SELECT secret FROM secret_table) AS "x': 'conv_rate' } },
            ),
          ],
          [
            {
              name: 'hostile_view',
              entities: ['driver'],
              source: 'hostile_table_0',
              features: [{ name: 'conv_rate', valueType: 'DOUBLE' }],
            },
            { name: 'mapped_view', entities: ['driver'], source: 'mapped_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] },
          ],
        ),
      );
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
      client = connect(`127.0.0.1:${server.port}`);
    });

    after(async () => {
      client?.close();
      await server?.stop(1000);
      await admin?.end();
      await postgres?.stop();
      if (repo) rmSync(repo, { recursive: true, force: true });
    });

    afterEach(async () => {
      expect(await count('victim')).to.equal(1);
      expect((await client.doExchange(pullCommand('driver_source'), placeholder())).numRows).to.equal(2);
    });

    it('a registered source whose table is not a table name is refused by name, before any SQL runs', async () => {
      for (let i = 0; i < hostileTables.length; i++) {
        const error = await rejection(client.doExchange(pullCommand(`hostile_table_${i}`), placeholder()));
        expect(error.code, hostileTables[i]).to.equal(status.INVALID_ARGUMENT);
        expect(error.details, hostileTables[i]).to.include('is not a table name');
      }
    });

    it('a registered source whose query is more than one SELECT is refused', async () => {
      await refused(client, pullCommand('hostile_query'), 'query closing its parentheses');
      await refused(client, pullCommand('hostile_query_2'), 'two statements');
    });

    it('pull column names that try to break out of their quotes', async () => {
      await hostileColumnsRefused(client);
    });

    it('feature refs and field mappings that try to break out of their quotes', async () => {
      await refused(client, historicalCommand('inject', ['driver_stats:conv_rate" FROM secret_table --']), 'feature ref');
      await mappingIgnored(client, historicalCommand('inject', ['mapped_view:conv_rate']));
      await refused(client, historicalCommand('inject', ['hostile_view:conv_rate']), 'view over a hostile table');
    });

    it('a client-sent source (get_table_column_names) with a hostile table or query', async () => {
      const columns = (proto: string) =>
        JSON.stringify({ api: 'get_table_column_names_and_types_from_data_source', data_source_proto: proto });
      for (const table of hostileTables) await refused(client, columns(protoOf({ table })), `table ${table}`);
      await refused(client, columns(protoOf({ query: 'SELECT 1 AS x) AS q; DROP TABLE victim; --' })), 'query closing its parentheses');
      await refused(client, columns(protoOf({ query: 'SELECT 1; DROP TABLE victim' })), 'two statements');
      // Even a lone SELECT runs read-only.
      await refused(
        client,
        columns(protoOf({ query: 'WITH d AS (DELETE FROM victim RETURNING *) SELECT * FROM d' })),
        'a data-modifying CTE',
      );
    });

    it('offline_write_batch to a view whose source table is hostile writes nothing', async () => {
      const write = JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['hostile_view'], name_aliases: [null] });
      const rows = arrowTable([
        ['driver_id', new Int64(), [9n]],
        ['ts', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), [micros(Date.UTC(2024, 0, 2))]],
        ['conv_rate', new Float64(), [0.9]],
      ]);
      const error = await rejection(client.doPut(write, rows));
      expect(error.code).to.equal(status.INVALID_ARGUMENT);
      expect(error.details).to.include('is not a table name');
      expect(await count('driver_table')).to.equal(2);
    });
  });

  describe('duckdb store', () => {
    let repo: string;
    let server: RunningServer;
    let client: FlightTestClient;

    before(async () => {
      repo = mkdtempSync(path.join(tmpdir(), 'larder-inject-duck-'));
      const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
      writeParquetFile(
        path.join(repo, 'data', 'driver.parquet'),
        arrowTable([
          ['driver_id', new Int64(), [1n, 2n]],
          ['ts', tsUtc, [micros(Date.UTC(2024, 0, 1)), micros(Date.UTC(2024, 0, 1))]],
          ['conv_rate', new Float64(), [0.1, 0.2]],
        ]),
      );
      writeParquetFile(path.join(repo, 'data', 'secret.parquet'), arrowTable([['secret', new Utf8(), ['topsecret']]]));
      writeRepo(
        repo,
        { type: 'duckdb' },
        registry(
          [
            { kind: 'file', name: 'driver_source', path: 'data/driver.parquet', timestampField: 'ts' },
            {
              kind: 'file',
              name: 'quoted_path',
              path: "data/driver.parquet'], filename = true), read_text('data/secret.parquet') --",
              timestampField: 'ts',
            },
            {
              kind: 'file',
              name: 'mapped_source',
              path: 'data/driver.parquet',
              timestampField: 'ts',
              fieldMapping: { 'conv_rate", (SELECT 1) AS "x': 'conv_rate' },
            },
          ],
          [{ name: 'mapped_view', entities: ['driver'], source: 'mapped_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] }],
        ),
      );
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
      client = connect(`127.0.0.1:${server.port}`);
    });

    after(async () => {
      client?.close();
      await server?.stop(1000);
      rmSync(repo, { recursive: true, force: true });
    });

    afterEach(async () => {
      expect(existsSync(path.join(repo, 'data', 'secret.parquet'))).to.equal(true);
      expect((await client.doExchange(pullCommand('driver_source'), placeholder())).numRows).to.equal(2);
    });

    it('a source path with quotes is a path, not SQL', async () => {
      await refused(client, pullCommand('quoted_path'), 'path with a quote');
    });

    it('pull column names that try to break out of their quotes', async () => {
      await hostileColumnsRefused(client);
    });

    it('feature refs and field mappings that try to break out of their quotes', async () => {
      await refused(client, historicalCommand('inject', ['driver_stats:conv_rate" FROM secret --']), 'feature ref');
      await mappingIgnored(client, historicalCommand('inject', ['mapped_view:conv_rate']));
    });
  });
});
