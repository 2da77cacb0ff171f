/**
 * `entity_df_sql` under permissions (DESIGN: no byte of a data source reaches a caller who lacks
 * READ_OFFLINE on it, client SQL included), over real servers: a user whose permissions allow only
 * objects named `driver_.*` sends SQL that tries to read `secret_source`'s data in every way we
 * know — by path, relative or absolute, through read_text, glob, `..`; in PostgreSQL by table name,
 * CTE, subquery, join, system catalog, query_to_xml and other functions — and is refused with
 * PERMISSION_DENIED naming what it may not read; the same user's SQL over the driver source works,
 * through raw Flight and through the unchanged Feast client.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { status } from '@grpc/grpc-js';
import { Float64, Int64, TimeUnit, Timestamp, Utf8, tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import type { PermissionDraft, RegistryDraft } from '../../core/src/registry/draft.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { feastPython } from '../support/feast-python.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { fixturePackage, installPackages, rejection, writeRemoteClientRepo } from '../support/guarded-repo.ts';
import { historicalCommand } from '../support/feast-commands.ts';
import { arrowTable, micros, writeParquetFile } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const execFileAsync = promisify(execFile);
const T0 = Date.UTC(2024, 0, 1);
const PG_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';

const USERS = [
  'auth:',
  '  type: larder-auth-static',
  '  users:',
  '    token-driver: {username: dora, roles: [driver-reader]}',
  '    token-all: {username: alma, roles: [driver-reader, secret-reader]}',
];
/** No `types`: the pattern applies to views and sources alike. */
const PERMISSIONS: PermissionDraft[] = [
  { name: 'driver_only', namePatterns: ['driver_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['driver-reader'] } },
  { name: 'secrets', namePatterns: ['secret_.*'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['secret-reader'] } },
];

function registry(sources: RegistryDraft['dataSources']): RegistryDraft {
  return {
    project: 'sqlperm',
    entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
    dataSources: sources,
    featureViews: [
      { name: 'driver_stats', entities: ['driver'], source: 'driver_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] },
      { name: 'secret_stats', entities: ['driver'], source: 'secret_source', features: [{ name: 'secret', valueType: 'STRING' }] },
    ],
    permissions: PERMISSIONS,
  };
}

function writeRepo(repo: string, offlineStore: Record<string, unknown>, draft: RegistryDraft): void {
  mkdirSync(path.join(repo, 'data'), { recursive: true });
  writeFileSync(
    path.join(repo, 'feature_store.yaml'),
    ['project: sqlperm', 'registry: data/registry.db', `offline_store: ${JSON.stringify(offlineStore)}`, ...USERS, ''].join('\n'),
  );
  writeFileSync(path.join(repo, 'data', 'registry.db'), encodeRegistry(draft));
}

/** A retrieval whose entity rows are `entityDfSql` (no date span: Feast's client sends none with SQL). */
function historical(entityDfSql: string, refs = ['driver_stats:conv_rate']): string {
  return historicalCommand('sqlperm', refs, { entity_df_sql: entityDfSql, start_date: undefined, end_date: undefined });
}

/** The Feast client's get_historical_features with entity_df as a SQL string; prints rows or the error. */
const CLIENT_HISTORICAL = `
import sys
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
try:
    table = store.get_historical_features(entity_df=sys.argv[2], features=["driver_stats:conv_rate"]).to_arrow()
    print("rows", sorted(table.column("conv_rate").to_pylist()))
except Exception as e:
    print(type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

async function feastClientHistorical(repo: string, port: number, token: string, sql: string): Promise<string | undefined> {
  const client = writeRemoteClientRepo(repo, 'sqlperm', port, ['auth:', '  type: kubernetes', `  user_token: ${token}`]);
  const { stdout } = await execFileAsync(feastPython().python, ['-c', CLIENT_HISTORICAL, client, sql], {
    env: feastEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return stdout.trim().split('\n').pop();
}

/** Feast's column listing of a data source the client sends (as `feast apply` does). */
function columnsCommand(source: Record<string, unknown>): string {
  return JSON.stringify({ api: 'get_table_column_names_and_types_from_data_source', data_source_proto: JSON.stringify(source) });
}

function validateCommand(source: Record<string, unknown>): string {
  return JSON.stringify({ api: 'validate_data_source', data_source_proto: JSON.stringify(source) });
}

const fileProto = (uri: string) => ({ type: 'BATCH_FILE', name: 'driver_probe', timestampField: 'ts', fileOptions: { uri } });
const pgProto = (options: { table?: string; query?: string }) => ({
  type: 'CUSTOM_SOURCE',
  name: 'driver_probe',
  timestampField: 'ts',
  dataSourceClassType: PG_SOURCE,
  customOptions: {
    configuration: Buffer.from(JSON.stringify({ name: 'driver_probe', table: options.table ?? '', query: options.query ?? '' })).toString(
      'base64',
    ),
  },
});

/** The Feast error message inside a gRPC error's details. */
function feastMessage(error: { details: string }): string {
  const start = error.details.indexOf('{');
  return start < 0 ? error.details : (JSON.parse(error.details.slice(start)) as { message: string }).message;
}

describe('entity_df_sql reads only sources the caller may read', function () {
  this.timeout(180_000);
  let base: string;
  const clients: FlightTestClient[] = [];

  before(() => {
    // One npm install for both repos: plugins resolve from a parent directory's node_modules.
    base = mkdtempSync(path.join(tmpdir(), 'larder-sqlperm-'));
    installPackages(base, [fixturePackage('larder-auth-static')]);
  });

  after(() => {
    clients.forEach((c) => c.close());
    rmSync(base, { recursive: true, force: true });
  });

  const client = (server: RunningServer, token: string) => {
    const c = connect(`127.0.0.1:${server.port}`, { headers: { authorization: `Bearer ${token}` } });
    clients.push(c);
    return c;
  };

  describe('duckdb store', () => {
    let repo: string;
    let server: RunningServer;
    const entities = (from: string) => `SELECT driver_id, ts + INTERVAL 1 MINUTE AS event_timestamp FROM ${from}`;

    before(async () => {
      repo = path.join(base, 'duck');
      mkdirSync(repo);
      const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
      writeParquetFile(
        path.join(repo, 'data', 'driver.parquet'),
        arrowTable([
          ['driver_id', new Int64(), [1n, 2n]],
          ['ts', tsUtc, [micros(T0), micros(T0)]],
          ['conv_rate', new Float64(), [0.1, 0.2]],
        ]),
      );
      writeParquetFile(
        path.join(repo, 'data', 'secret.parquet'),
        arrowTable([
          ['driver_id', new Int64(), [1n]],
          ['ts', tsUtc, [micros(T0)]],
          ['secret', new Utf8(), ['topsecret']],
        ]),
      );
      for (const part of ['a', 'b', '_skipped']) {
        writeParquetFile(
          path.join(repo, 'data', 'driver_dir', `${part}.parquet`),
          arrowTable([
            ['driver_id', new Int64(), [part === '_skipped' ? 9n : 1n]],
            ['ts', tsUtc, [micros(T0)]],
          ]),
        );
      }
      writeRepo(
        repo,
        { type: 'duckdb' },
        registry([
          { kind: 'file', name: 'driver_source', path: 'data/driver.parquet', timestampField: 'ts' },
          { kind: 'file', name: 'driver_dir_source', path: 'data/driver_dir', timestampField: 'ts' },
          { kind: 'file', name: 'secret_source', path: 'data/secret.parquet', timestampField: 'ts' },
        ]),
      );
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    });

    after(async () => {
      await server?.stop(1000);
    });

    // DuckDB reads a relative path from the server's working directory (not the repo's).
    const fromCwd = (file: string) => path.relative(process.cwd(), path.join(repo, 'data', file));

    it("answers SQL over an allowed source's file, by absolute or relative path", async () => {
      const driver = path.join(repo, 'data', 'driver.parquet');
      for (const file of [
        `'${driver}'`,
        `read_parquet('${fromCwd('driver.parquet')}')`,
        `read_parquet('${path.join(repo, 'data', 'x', '..', 'driver.parquet')}')`,
      ]) {
        const table = await client(server, 'token-driver').doExchange(historical(entities(file)), tableFromArrays({ key: ['mock_key'] }));
        expect(table.getChild('conv_rate')!.toArray(), file).to.deep.equal(new Float64Array([0.1, 0.2]));
      }
    });

    it('a directory source: its data files are readable one by one, not the directory, nor a file the store skips', async () => {
      const dir = path.join(repo, 'data', 'driver_dir');
      const table = await client(server, 'token-driver').doExchange(
        historical(entities(`read_parquet(['${dir}/a.parquet', '${dir}/b.parquet'])`)),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(table.numRows).to.equal(2);
      for (const sql of [entities(`'${dir}/_skipped.parquet'`), entities(`'${dir}/*.parquet'`), `SELECT * FROM glob('${dir}/*')`]) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect(error.code, sql).to.equal(status.PERMISSION_DENIED);
      }
    });

    it("refuses SQL that reads a denied source's file, or any other file, however it is named", async () => {
      const secret = path.join(repo, 'data', 'secret.parquet');
      const attempts = [
        `SELECT * FROM read_parquet('${fromCwd('secret.parquet')}')`,
        `SELECT * FROM read_parquet('${secret}')`,
        `SELECT * FROM '${path.join(repo, 'data', '..', 'data', 'secret.parquet')}'`,
        `SELECT * FROM '${path.join(repo, 'data', 'driver.parquet', '..', 'secret.parquet')}'`,
        `SELECT * FROM read_parquet(['${path.join(repo, 'data', 'driver.parquet')}', '${secret}'])`,
        `SELECT * FROM read_parquet('${path.join(repo, 'data', '*.parquet')}')`,
        `SELECT * FROM read_text('${secret}')`,
        `SELECT * FROM read_blob('${path.join(repo, 'feature_store.yaml')}')`,
        `SELECT * FROM read_text('${path.join(repo, 'data', 'registry.db')}')`,
        `SELECT * FROM glob('${path.join(repo, 'data', '*')}')`,
        "SELECT * FROM read_csv('/etc/passwd')",
        `SELECT * FROM query('SELECT * FROM read_parquet(''${secret}'')')`,
      ];
      for (const sql of attempts) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect(error.code, sql).to.equal(status.PERMISSION_DENIED);
        expect(feastMessage(error), sql).to.match(/entity_df_sql may read only the files of data sources you may read/);
        expect(error.details, sql).to.not.include('topsecret');
      }
    });

    it('refuses SQL that tries to lift the confinement or reach outside it', async () => {
      for (const sql of [
        "SET allowed_paths = ['/']",
        `ATTACH '${path.join(repo, 'data', 'other.db')}'`,
        'INSTALL httpfs',
        'LOAD httpfs',
        "COPY (SELECT 1) TO 'data/out.csv'",
        'PRAGMA enable_external_access',
      ]) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect([status.INVALID_ARGUMENT, status.PERMISSION_DENIED], sql).to.include(error.code);
      }
    });

    it("a data source the client sends under an allowed name may not name a denied source's file", async () => {
      for (const uri of ['data/secret.parquet', path.join(repo, 'data', 'secret.parquet'), 'data/driver_dir/../secret.parquet']) {
        const listing = await rejection(
          client(server, 'token-driver').doExchange(columnsCommand(fileProto(uri)), tableFromArrays({ key: ['mock_key'] })),
        );
        expect(listing.code, uri).to.equal(status.PERMISSION_DENIED);
        expect(feastMessage(listing), uri).to.match(/secret_source/);
        // validate_data_source returns nothing of the source: it is checked by the name sent, as in Feast.
        expect(
          (await client(server, 'token-driver').doPut(validateCommand(fileProto(uri)), tableFromArrays({ key: ['mock_key'] }))).putResults,
          uri,
        ).to.be.a('number');
      }
      // Its own source's file, and a file no source has yet (feast apply of a new source), are listed.
      const own = await client(server, 'token-driver').doExchange(
        columnsCommand(fileProto('data/driver.parquet')),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(own.getChild('name')!.toArray()).to.deep.equal(['driver_id', 'ts', 'conv_rate']);
      writeParquetFile(path.join(repo, 'data', 'new.parquet'), arrowTable([['driver_id', new Int64(), [1n]]]));
      const fresh = await client(server, 'token-driver').doExchange(
        columnsCommand(fileProto('data/new.parquet')),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(fresh.getChild('name')!.toArray()).to.deep.equal(['driver_id']);
      // Someone who may read the secret source lists it.
      const allowed = await client(server, 'token-all').doExchange(
        columnsCommand(fileProto('data/secret.parquet')),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(allowed.numRows).to.equal(3);
    });

    it('a user who may read the secret source reads it', async () => {
      const table = await client(server, 'token-all').doExchange(
        historical(entities(`'${path.join(repo, 'data', 'secret.parquet')}'`)),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(table.numRows).to.equal(1);
    });

    it('the Feast client: SQL over the allowed source works, over the denied one raises FeastPermissionError', async () => {
      expect(
        await feastClientHistorical(repo, server.port, 'token-driver', entities(`'${path.join(repo, 'data', 'driver.parquet')}'`)),
      ).to.equal('rows [0.1, 0.2]');
      const denied = await feastClientHistorical(
        repo,
        server.port,
        'token-driver',
        entities(`'${path.join(repo, 'data', 'secret.parquet')}'`),
      );
      expect(denied).to.match(/^feast\.errors\.FeastPermissionError .*entity_df_sql may read only the files of data sources you may read/);
    });
  });

  describe('file store', () => {
    let repo: string;
    let server: RunningServer;

    before(async () => {
      repo = path.join(base, 'file');
      const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
      writeParquetFile(
        path.join(repo, 'data', 'driver.parquet'),
        arrowTable([
          ['driver_id', new Int64(), [1n]],
          ['ts', tsUtc, [micros(T0)]],
        ]),
      );
      writeParquetFile(
        path.join(repo, 'data', 'secret.parquet'),
        arrowTable([
          ['driver_id', new Int64(), [1n]],
          ['secret', new Utf8(), ['topsecret']],
        ]),
      );
      writeRepo(
        repo,
        { type: 'file' },
        registry([
          { kind: 'file', name: 'driver_source', path: 'data/driver.parquet', timestampField: 'ts' },
          { kind: 'file', name: 'secret_source', path: 'data/secret.parquet', timestampField: 'ts' },
        ]),
      );
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    });

    after(async () => {
      await server?.stop(1000);
    });

    it("a data source the client sends under an allowed name may not name a denied source's file", async () => {
      const listing = await rejection(
        client(server, 'token-driver').doExchange(columnsCommand(fileProto('data/secret.parquet')), tableFromArrays({ key: ['mock_key'] })),
      );
      expect(listing.code).to.equal(status.PERMISSION_DENIED);
      expect(feastMessage(listing)).to.match(/secret_source/);
      const own = await client(server, 'token-driver').doExchange(
        columnsCommand(fileProto('data/driver.parquet')),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(own.getChild('name')!.toArray()).to.deep.equal(['driver_id', 'ts']);
    });
  });

  describe('postgres store', () => {
    let repo: string;
    let server: RunningServer;
    let postgres: PostgresServer;
    let admin: pg.Client;
    const entities = (from: string) => `SELECT driver_id, ts + interval '1 minute' AS event_timestamp FROM ${from}`;

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
      await admin.query(`CREATE TABLE driver_extra AS SELECT 3::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts`);
      await admin.query(
        `CREATE TABLE secret_table AS SELECT 1::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts, 'topsecret'::text AS secret`,
      );
      await admin.query(
        `CREATE TABLE tenants AS SELECT 1::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts, t AS tenant FROM unnest(ARRAY['a', 'b']) AS t`,
      );
      await admin.query('CREATE SCHEMA hidden');
      await admin.query(
        `CREATE TABLE hidden.driver_table AS SELECT 1::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts, 'topsecret'::text AS secret`,
      );
      // A function that reads the secret table with its owner's rights.
      await admin.query(`CREATE FUNCTION leak() RETURNS SETOF secret_table LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM secret_table'`);
      // Built-in names overloaded outside pg_catalog: overload resolution would pick these.
      await admin.query(
        `CREATE FUNCTION public.lower(integer) RETURNS text LANGUAGE sql SECURITY DEFINER AS 'SELECT secret FROM secret_table LIMIT 1'`,
      );
      await admin.query(
        `CREATE FUNCTION public.leak_op(integer, integer) RETURNS text LANGUAGE sql AS 'SELECT secret FROM secret_table LIMIT 1'`,
      );
      await admin.query('CREATE OPERATOR public.### (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.leak_op)');
      await admin
        .query(`CREATE DOMAIN public.checked AS text CHECK (VALUE <> (SELECT secret FROM secret_table LIMIT 1))`)
        .catch(() => undefined);
      repo = path.join(base, 'pg');
      mkdirSync(repo);
      writeRepo(
        repo,
        postgres.offlineStoreConfig(),
        registry([
          {
            kind: 'custom',
            name: 'driver_source',
            classType: PG_SOURCE,
            configuration: { name: 'driver_source', table: 'driver_table', query: '' },
            timestampField: 'ts',
          },
          {
            kind: 'custom',
            name: 'driver_extra_source',
            classType: PG_SOURCE,
            configuration: { name: 'driver_extra_source', table: '', query: 'SELECT * FROM driver_extra' },
            timestampField: 'ts',
          },
          {
            kind: 'custom',
            name: 'secret_source',
            classType: PG_SOURCE,
            configuration: { name: 'secret_source', table: 'secret_table', query: '' },
            timestampField: 'ts',
          },
          // One table, two sources: the caller may read tenant a's rows, not tenant b's.
          {
            kind: 'custom',
            name: 'driver_tenant_a',
            classType: PG_SOURCE,
            configuration: { name: 'driver_tenant_a', table: '', query: "SELECT * FROM tenants WHERE tenant = 'a'" },
            timestampField: 'ts',
          },
          {
            kind: 'custom',
            name: 'secret_tenant_b',
            classType: PG_SOURCE,
            configuration: { name: 'secret_tenant_b', table: '', query: "SELECT * FROM tenants WHERE tenant = 'b'" },
            timestampField: 'ts',
          },
          // Sources naming relations of another database (PostgreSQL cannot resolve them: to_regclass
          // raises) must not break every other caller's SQL.
          {
            kind: 'custom',
            name: 'driver_elsewhere',
            classType: PG_SOURCE,
            configuration: { name: 'driver_elsewhere', table: 'otherdb.public.driver_table', query: '' },
            timestampField: 'ts',
          },
          {
            kind: 'custom',
            name: 'secret_elsewhere',
            classType: PG_SOURCE,
            configuration: { name: 'secret_elsewhere', table: '', query: 'SELECT * FROM otherdb.public.secret_table' },
            timestampField: 'ts',
          },
        ]),
      );
      server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    });

    after(async () => {
      await server?.stop(1000);
      await admin?.end();
      await postgres?.stop();
    });

    it("answers SQL over an allowed source's table, or the tables its query reads, with CTEs and subqueries", async () => {
      const allowed = [
        entities('driver_table'),
        entities('public.driver_table'),
        entities('"driver_table" AS d WHERE d.driver_id IN (SELECT driver_id FROM driver_table)'),
        `WITH secret_table AS (SELECT driver_id, ts FROM driver_table) ${entities('secret_table')}`,
        `${entities('driver_table')} UNION ALL SELECT driver_id, ts FROM driver_extra WHERE false`,
        'SELECT 1::bigint AS driver_id, now() AS event_timestamp',
        'SELECT g::bigint AS driver_id, to_timestamp(1704067260) AS event_timestamp FROM generate_series(1, 2) AS g',
      ];
      for (const sql of allowed) {
        const table = await client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] }));
        expect(table.numRows, sql).to.be.greaterThan(0);
      }
    });

    it('refuses SQL that reads a relation that is not a source the caller may read, naming it', async () => {
      const attempts: Array<[string, RegExp]> = [
        [entities('secret_table'), /secret_table/],
        [entities('public.secret_table'), /secret_table/],
        [`WITH x AS (SELECT * FROM secret_table) ${entities('x')}`, /secret_table/],
        [`WITH secret_table AS (SELECT * FROM secret_table) ${entities('secret_table')}`, /secret_table/],
        [`SELECT * FROM (WITH d AS (SELECT 1) SELECT * FROM d) AS a, ${'secret_table'}`, /secret_table/],
        [entities("driver_table d WHERE EXISTS (SELECT 1 FROM secret_table s WHERE s.secret LIKE 't%')"), /secret_table/],
        [entities('driver_table d JOIN secret_table s USING (driver_id)'), /secret_table/],
        [entities('(SELECT * FROM secret_table) AS s'), /secret_table/],
        [entities('hidden.driver_table'), /hidden\.driver_table/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, rolpassword FROM pg_catalog.pg_authid', /pg_authid/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, usename FROM pg_shadow', /pg_shadow/],
        ['TABLE secret_table', /secret_table/],
        // Readable through driver_tenant_a's query, but secret_tenant_b reads it too: not granted whole.
        [entities('tenants'), /tenants/],
      ];
      for (const [sql, names] of attempts) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect(error.code, sql).to.equal(status.PERMISSION_DENIED);
        expect(feastMessage(error), sql).to.match(names);
        expect(error.details, sql).to.not.include('topsecret');
      }
    });

    it('refuses functions that run SQL, read files or reach other databases', async () => {
      const attempts: Array<[string, RegExp]> = [
        [
          "SELECT 1::bigint AS driver_id, now() AS event_timestamp, query_to_xml('select * from secret_table', true, false, '')",
          /query_to_xml/,
        ],
        ["SELECT 1::bigint AS driver_id, now() AS event_timestamp, table_to_xml('secret_table', true, false, '')", /table_to_xml/],
        ["SELECT 1::bigint AS driver_id, now() AS event_timestamp, pg_read_file('postgresql.conf')", /pg_read_file/],
        ['SELECT driver_id, ts AS event_timestamp FROM leak()', /leak/],
        ['SELECT driver_id, ts AS event_timestamp FROM public.leak()', /leak/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, lo_get(1)', /lo_get/],
        ["SELECT 1::bigint AS driver_id, now() AS event_timestamp, set_config('search_path', 'hidden', true)", /set_config/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, lower(1)', /lower is also defined in schema public/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, 1 ### 2', /### is also defined in schema public/],
        ['SELECT 1::bigint AS driver_id, now() AS event_timestamp, 1 OPERATOR(public.###) 2', /public\.###/],
        ["SELECT 1::bigint AS driver_id, now() AS event_timestamp, 'x'::public.checked", /public\.checked/],
      ];
      for (const [sql, names] of attempts) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect(error.code, sql).to.equal(status.PERMISSION_DENIED);
        expect(feastMessage(error), sql).to.match(names);
        expect(error.details, sql).to.not.include('topsecret');
      }
    });

    it('refuses anything but one SELECT', async () => {
      const attempts = [
        'SELECT 1 AS driver_id; SELECT 2',
        'DELETE FROM secret_table',
        'SELECT * INTO copy_table FROM driver_table',
        `${entities('driver_table')} FOR UPDATE`,
        'not sql at all',
      ];
      for (const sql of attempts) {
        const error = await rejection(client(server, 'token-driver').doExchange(historical(sql), tableFromArrays({ key: ['mock_key'] })));
        expect([status.INVALID_ARGUMENT, status.PERMISSION_DENIED], sql).to.include(error.code);
      }
      expect((await admin.query('SELECT count(*)::int AS n FROM secret_table')).rows[0].n).to.equal(1);
    });

    it("a data source the client sends under an allowed name may not name a denied source's table", async () => {
      const denied: Array<{ table?: string; query?: string }> = [
        { table: 'secret_table' },
        { table: 'public.secret_table' },
        { table: '"secret_table"' },
        { query: 'SELECT * FROM secret_table' },
        { query: 'SELECT d.* FROM driver_table d JOIN secret_table s USING (driver_id)' },
        { query: 'SELECT * FROM tenants' },
      ];
      for (const options of denied) {
        const listing = await rejection(
          client(server, 'token-driver').doExchange(columnsCommand(pgProto(options)), tableFromArrays({ key: ['mock_key'] })),
        );
        expect(listing.code, JSON.stringify(options)).to.equal(status.PERMISSION_DENIED);
        expect(feastMessage(listing), JSON.stringify(options)).to.match(/secret_table|tenants/);
        expect(
          (await client(server, 'token-driver').doPut(validateCommand(pgProto(options)), tableFromArrays({ key: ['mock_key'] })))
            .putResults,
        ).to.be.a('number');
      }
      // Its own source's table, and a table no source reads yet (feast apply of a new source), are listed.
      const own = await client(server, 'token-driver').doExchange(
        columnsCommand(pgProto({ table: 'driver_table' })),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(own.getChild('name')!.toArray()).to.deep.equal(['driver_id', 'ts', 'conv_rate']);
      await admin.query('CREATE TABLE IF NOT EXISTS new_table AS SELECT 1::bigint AS driver_id');
      const fresh = await client(server, 'token-driver').doExchange(
        columnsCommand(pgProto({ query: 'SELECT * FROM new_table' })),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(fresh.getChild('name')!.toArray()).to.deep.equal(['driver_id']);
      const allowed = await client(server, 'token-all').doExchange(
        columnsCommand(pgProto({ table: 'secret_table' })),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(allowed.numRows).to.equal(3);
    });

    it('a user who may read the secret source reads it', async () => {
      const table = await client(server, 'token-all').doExchange(
        historical(entities('secret_table')),
        tableFromArrays({ key: ['mock_key'] }),
      );
      expect(table.numRows).to.equal(1);
    });

    it('the Feast client: SQL over the allowed table works, over the denied one raises FeastPermissionError', async () => {
      expect(await feastClientHistorical(repo, server.port, 'token-driver', entities('driver_table'))).to.equal('rows [0.1, 0.2]');
      const denied = await feastClientHistorical(repo, server.port, 'token-driver', entities('secret_table'));
      expect(denied).to.match(/^feast\.errors\.FeastPermissionError .*secret_table/);
    });
  });
});
