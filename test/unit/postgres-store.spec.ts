/**
 * The postgres store against a real PostgreSQL server (a throwaway cluster started here): its
 * config section, every call, entity_df_sql read-only, writes that fail leaving nothing changed,
 * cancellation on the server, and clear connection errors without the password.
 */
import { Float64, Int64, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import type { PostgresStoreConfig } from '../../plugins/postgres/src/config.ts';
import { Connections } from '../../plugins/postgres/src/connections.ts';
import { planViewQuery } from '../../plugins/postgres/src/point-in-time-sql.ts';
import { Session } from '../../plugins/postgres/src/session.ts';
import { chooseStrategies } from '../../plugins/postgres/src/strategy.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { LarderError } from '../../core/src/errors.ts';
import type { FeatureService } from '../../core/src/registry/model.ts';
import type { CallContext, HistoricalFeaturesRequest, OfflineStore, PullRequest } from '../../core/src/store.ts';
import { featureView, postgresSource } from '../support/feature-views.ts';
import { arrowTable, collect, micros, rows } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const env = (repoPath = '/tmp') => ({ repoPath, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) });

function context(signal = new AbortController().signal): CallContext {
  return { signal, logger: pino({ level: 'silent' }), user: null };
}

/** The message and gRPC code of what `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<{ message: string; code: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    return { message: (error as Error).message, code: error instanceof LarderError ? error.code : undefined };
  }
  throw new Error('expected a failure');
}

describe('postgres store (real PostgreSQL)', function () {
  this.timeout(60_000);
  let server: PostgresServer;
  let store: OfflineStore;
  let admin: pg.Client;

  const stats = postgresSource('stats', { table: 'stats' }, { createdTimestampColumn: '' });
  const statsView = featureView('stats', stats, ['driver_id'], ['rate', 'name'], 2 * 3600);
  const count = async (table: string) => Number((await admin.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);

  before(async () => {
    server = await startPostgres();
    admin = new pg.Client({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      database: server.database,
    });
    await admin.connect();
    // 100 drivers × 100 hours; rate = hour + driver / 1000.
    await admin.query(`CREATE TABLE stats AS SELECT (i % 100)::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' + (i / 100) * interval '1 hour' AS ts,
      ((i / 100) + (i % 100) / 1000.0)::double precision AS rate, 'n' || i AS name FROM generate_series(0, 9999) AS i`);
    store = await postgresPlugin.create(server.offlineStoreConfig({ max_conn: 3 }), env());
  });

  after(async () => {
    await store?.close();
    await admin?.end();
    await server?.stop();
  });

  describe('config section', () => {
    const check = (section: Record<string, unknown>) => () =>
      validateSection(postgresPlugin.configSchema, section, 'feature_store.yaml', 'offline_store');
    it("accepts Feast's fields", () => {
      expect(
        check({
          type: 'postgres',
          host: 'h',
          port: 5432,
          database: 'd',
          db_schema: 's',
          user: 'u',
          password: 'p',
          sslmode: 'verify-full',
          sslrootcert_path: 'ca.pem',
          keepalives_idle: 10,
          min_conn: 1,
          max_conn: 4,
          conn_type: 'pool',
          entity_select_mode: 'embed_query',
          point_in_time_strategy: 'join',
        }),
      ).to.not.throw();
    });
    it('names an unknown key, a missing field and a bad sslmode', () => {
      expect(check({ type: 'postgres', host: 'h', database: 'd', user: 'u', password: 'p', hots: 1 })).to.throw(/hots/);
      expect(check({ type: 'postgres', host: 'h', user: 'u', password: 'p' })).to.throw(/database/);
      expect(check({ type: 'postgres', host: 'h', database: 'd', user: 'u', password: 'p', sslmode: 'sometimes' })).to.throw(/sslmode/);
    });
  });

  const pull = (extra: Partial<PullRequest> = {}): PullRequest => ({
    source: stats,
    joinKeyColumns: ['driver_id'],
    featureNameColumns: ['rate'],
    timestampField: 'ts',
    createdTimestampColumn: null,
    startDate: new Date(T0 + 10 * H),
    endDate: new Date(T0 + 20 * H),
    ...extra,
  });

  it('pull_all_from_table_or_query: the rows in range, both bounds inclusive', async () => {
    const table = await collect(await store.pullAllFromTableOrQuery(pull(), context()));
    expect(table.schema.fields.map((f) => `${f.name}: ${f.type}`)).to.deep.equal([
      'driver_id: Int64',
      'rate: Float64',
      'ts: Timestamp<MICROSECOND>',
    ]);
    expect(table.numRows).to.equal(1100);
  });

  it('pull_latest_from_table_or_query: one row per key, the latest in range', async () => {
    const table = await collect(await store.pullLatestFromTableOrQuery(pull(), context()));
    expect(table.numRows).to.equal(100);
    const got = rows(table).find((r) => r.driver_id === 7)!;
    expect(got.rate).to.equal(20.007);
    expect(got.ts).to.equal(T0 + 20 * H);
  });

  it('get_historical_features with an entity table: the rule, the TTL, entity columns untouched', async () => {
    const entityTable = arrowTable([
      ['driver_id', new Int64(), [1n, 2n, 1n, null, 3n]],
      // Nanoseconds, as pandas sends them; returned as naive microseconds, as Feast's postgres store does.
      [
        'event_timestamp',
        new Timestamp(TimeUnit.NANOSECOND, 'UTC'),
        [T0 + 5.5 * H, T0 + 50 * H, T0 - H, T0 + 5 * H, T0 + 200 * H].map((ms) => BigInt(ms) * 1_000_000n + 999n),
      ],
      ['label', new Utf8(), ['a', 'b', 'c', 'd', 'e']],
    ]);
    const req: HistoricalFeaturesRequest = {
      featureViews: [statsView],
      featureRefs: ['stats:rate', 'stats:name'],
      project: 'p',
      fullFeatureNames: true,
      entityTable,
    };
    const table = await collect(await store.getHistoricalFeatures(req, context()));
    expect(table.schema.fields.map((f) => `${f.name}: ${f.type}`)).to.deep.equal([
      'driver_id: Int64',
      'event_timestamp: Timestamp<MICROSECOND>',
      'label: Utf8',
      'stats__rate: Float64',
      'stats__name: Utf8',
    ]);
    expect(table.getChild('event_timestamp')!.data[0]!.values[0]).to.equal(BigInt(T0 + 5.5 * H) * 1000n);
    expect(rows(table).map((r) => [r.label, r.stats__rate, r.stats__name])).to.deep.equal([
      ['a', 5.001, 'n501'],
      ['b', 50.002, 'n5002'],
      ['c', null, null],
      ['d', null, null],
      // T + 200 h is beyond the last row (hour 99) by more than the 2 h TTL.
      ['e', null, null],
    ]);
  });

  it('get_historical_features with more entity rows than one output batch: nanosecond entity timestamps stay right past the first', async () => {
    const n = 70_000; // the output is cut into batches of 65,536 rows, each a slice of the entity columns
    const hours = Array.from({ length: n }, (_, i) => 1 + (i % 90));
    const entityTable = arrowTable([
      ['driver_id', new Int64(), hours.map((_, i) => BigInt(i % 100))],
      ['event_timestamp', new Timestamp(TimeUnit.NANOSECOND, 'UTC'), hours.map((h) => BigInt(T0 + h * H) * 1_000_000n + 999n)],
    ]);
    const req: HistoricalFeaturesRequest = {
      featureViews: [statsView],
      featureRefs: ['stats:rate'],
      project: 'p',
      fullFeatureNames: false,
      entityTable,
    };
    const table = await collect(await store.getHistoricalFeatures(req, context()));
    expect(table.numRows).to.equal(n);
    const last = n - 1;
    expect(table.getChild('event_timestamp')!.get(last)).to.equal(T0 + hours[last]! * H); // milliseconds, as Arrow JS reads them
    expect(table.getChild('rate')!.get(last)).to.be.closeTo(hours[last]! + (last % 100) / 1000, 1e-9);
  });

  it('get_historical_features with entity_df_sql reads tables, in a read-only transaction', async () => {
    const entityDfSql = `SELECT driver_id, ts + interval '30 minutes' AS event_timestamp FROM stats WHERE ts = timestamptz '2024-01-01 03:00:00+00' AND driver_id < 3 ORDER BY driver_id`;
    const req: HistoricalFeaturesRequest = {
      featureViews: [statsView],
      featureRefs: ['stats:rate'],
      project: 'p',
      fullFeatureNames: false,
      entityDfSql,
    };
    const table = await collect(await store.getHistoricalFeatures(req, context()));
    expect(rows(table).map((r) => [r.driver_id, r.rate])).to.deep.equal([
      [0, 3],
      [1, 3.001],
      [2, 3.002],
    ]);
  });

  it('refuses a write through entity_df_sql, and SQL that tries to escape its parentheses; nothing changes', async () => {
    const base = { featureViews: [statsView], featureRefs: ['stats:rate'], project: 'p', fullFeatureNames: false };
    const cte = await failure(
      store
        .getHistoricalFeatures(
          { ...base, entityDfSql: 'WITH gone AS (DELETE FROM stats RETURNING *) SELECT driver_id, ts AS event_timestamp FROM gone' },
          context(),
        )
        .then(collect),
    );
    expect(cte.message).to.match(/^entity_df_sql: PostgreSQL error/);
    // A function that writes: stopped by the read-only transaction.
    await admin.query("CREATE FUNCTION wipe() RETURNS int LANGUAGE sql AS 'DELETE FROM stats; SELECT 1'");
    const write = await failure(
      store
        .getHistoricalFeatures({ ...base, entityDfSql: 'SELECT driver_id, ts AS event_timestamp FROM stats WHERE wipe() = 1' }, context())
        .then(collect),
    );
    expect(write.message).to.match(/cannot execute DELETE in a read-only transaction \(larder runs this SQL read-only\)/);
    expect(write.code).to.equal(3);
    const breakout = await failure(
      store
        .getHistoricalFeatures(
          { ...base, entityDfSql: 'SELECT 1 AS driver_id, now() AS event_timestamp) AS x; COMMIT; DROP TABLE stats; --' },
          context(),
        )
        .then(collect),
    );
    expect(breakout.message).to.match(/entity_df_sql/);
    expect(await count('stats')).to.equal(10_000);
  });

  it("get_historical_features by start/end date, one view: every source row in range, as Feast's postgres store", async () => {
    const req: HistoricalFeaturesRequest = {
      featureViews: [statsView],
      featureRefs: ['stats:rate'],
      project: 'p',
      fullFeatureNames: false,
      startDate: new Date(T0 + 98 * H),
      endDate: new Date(T0 + 200 * H),
    };
    const table = await collect(await store.getHistoricalFeatures(req, context()));
    expect(table.schema.fields.map((f) => f.name)).to.deep.equal(['event_timestamp', 'driver_id', 'rate']);
    expect(table.numRows).to.equal(200);
    // No ORDER BY, as in Feast: the row is looked up, not expected at a position.
    expect(rows(table).filter((r) => r.event_timestamp === T0 + 99 * H && r.driver_id === 1)).to.deep.equal([
      { event_timestamp: T0 + 99 * H, driver_id: 1, rate: 99.001 },
    ]);
  });

  it('lists columns with the type names Feast reports, and validates sources', async () => {
    expect(await store.getTableColumnNamesAndTypes(stats, context())).to.deep.equal([
      { name: 'driver_id', type: 'bigint' },
      { name: 'ts', type: 'timestamp with time zone' },
      { name: 'rate', type: 'double precision' },
      { name: 'name', type: 'text' },
    ]);
    await store.validateDataSource(postgresSource('q', { query: 'SELECT driver_id, ts FROM stats' }), context());
  });

  it('point_in_time_strategy auto: joins when entity rows are few per key (table statistics), else the window', async () => {
    await admin.query('ANALYZE stats');
    const connections = await Connections.open(
      server.offlineStoreConfig() as unknown as PostgresStoreConfig,
      '/tmp',
      pino({ level: 'silent' }),
    );
    const session = await Session.open(connections, context());
    try {
      const byQuery = await planViewQuery(
        session,
        featureView('q', postgresSource('q', { query: 'SELECT * FROM stats' }, { createdTimestampColumn: '' }), ['driver_id'], ['rate'], 0),
        ['rate'],
        false,
      );
      const byTable = await planViewQuery(session, statsView, ['rate'], false);
      // 100 distinct drivers: up to 4 entity rows per key joins.
      expect(await chooseStrategies(session, [byTable, byQuery], 400, 'auto')).to.deep.equal(['join', 'window']);
      expect(await chooseStrategies(session, [byTable], 401, 'auto')).to.deep.equal(['window']);
      expect(await chooseStrategies(session, [byTable], null, 'auto')).to.deep.equal(['window']);
      expect(await chooseStrategies(session, [byTable, byQuery], 10, 'join')).to.deep.equal(['join', 'join']);
    } finally {
      await session.close();
      await connections.close();
    }
  });

  describe('bad input: a clear error, nothing changed, the pool still healthy', () => {
    it('an unknown table', async () => {
      const e = await failure(
        store.pullAllFromTableOrQuery(pull({ source: postgresSource('nope', { table: 'no_such_table' }) }), context()),
      );
      expect(e.message).to.match(/nope.*relation "no_such_table" does not exist/);
      expect(e.code).to.equal(3);
    });

    it('a query with a syntax error', async () => {
      const e = await failure(
        store.getTableColumnNamesAndTypes(postgresSource('broken', { query: 'SELEC driver_id FROM stats' }), context()),
      );
      expect(e.message).to.match(/broken.*syntax error/);
      expect(e.code).to.equal(3);
    });

    it('validate_data_source: only logs a source not readable yet (Feast validates nothing), refuses a FileSource', async () => {
      await store.validateDataSource(postgresSource('later', { table: 'created_later' }), context());
      const e = await failure(
        store.validateDataSource(
          { ...stats, dataSourceClassType: 'feast.infra.offline_stores.file_source.FileSource', type: 'BATCH_FILE' },
          context(),
        ),
      );
      expect(e.message).to.equal('Data source stats is a FileSource; the postgres offline store reads PostgreSQLSources only');
    });

    it('a join key whose type cannot match', async () => {
      const entityTable = arrowTable([
        ['driver_id', new Utf8(), ['1']],
        ['event_timestamp', tsUtc, [micros(T0)]],
      ]);
      const e = await failure(
        store.getHistoricalFeatures(
          { featureViews: [statsView], featureRefs: ['stats:rate'], project: 'p', fullFeatureNames: false, entityTable },
          context(),
        ),
      );
      expect(e.message).to.match(/Join key "driver_id" of feature view stats cannot be matched/);
    });

    it('offline_write_batch with a wrong column type rolls back', async () => {
      const table = arrowTable([
        ['driver_id', new Utf8(), ['x', 'y']],
        ['ts', tsUtc, [micros(T0), micros(T0)]],
        ['rate', new Float64(), [1, 2]],
        ['name', new Utf8(), ['a', 'b']],
      ]);
      const e = await failure(store.offlineWriteBatch({ featureView: statsView, table }, context()));
      expect(e.message).to.match(/offline_write_batch to feature view stats.*driver_id/);
      expect(await count('stats')).to.equal(10_000);
    });

    it('offline_write_batch without a column of the view is refused', async () => {
      const table = arrowTable([
        ['driver_id', new Int64(), [1n]],
        ['ts', tsUtc, [micros(T0)]],
        ['rate', new Float64(), [1]],
      ]);
      const e = await failure(store.offlineWriteBatch({ featureView: statsView, table }, context()));
      expect(e.message).to.equal('offline_write_batch to feature view stats: the rows have no column "name" of the feature view');
      expect(await count('stats')).to.equal(10_000);
    });

    it('the pool still answers, every connection back', async () => {
      for (let i = 0; i < 6; i++) expect((await collect(await store.pullLatestFromTableOrQuery(pull(), context()))).numRows).to.equal(100);
      const active = await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'larder' AND state <> 'idle'");
      expect(Number(active.rows[0].n)).to.equal(0);
    });
  });

  describe('writes', () => {
    it('offline_write_batch appends to the source table, through field_mapping', async () => {
      await admin.query('CREATE TABLE mapped (driver bigint, ts timestamptz, rate double precision)');
      const source = postgresSource('mapped', { table: 'mapped' }, { createdTimestampColumn: '', fieldMapping: { driver: 'driver_id' } });
      const view = featureView('mapped', source, ['driver_id'], ['rate'], 0);
      const table = arrowTable([
        ['driver_id', new Int64(), [5n, 6n]],
        ['ts', tsUtc, [micros(T0), micros(T0 + H)]],
        ['rate', new Float64(), [0.5, null]],
      ]);
      await store.offlineWriteBatch({ featureView: view, table }, context());
      expect((await admin.query('SELECT driver, rate FROM mapped ORDER BY driver')).rows).to.deep.equal([
        { driver: '5', rate: 0.5 },
        { driver: '6', rate: null },
      ]);
    });

    it('persist creates a table, refuses to replace it, replaces it with allow_overwrite', async () => {
      const destination = postgresSource('saved', { table: 'saved_dataset' });
      const result = () => store.pullLatestFromTableOrQuery(pull(), context());
      await store.persist({ result: await result(), destination, allowOverwrite: false }, context());
      expect(await count('saved_dataset')).to.equal(100);
      const again = await result();
      const e = await failure(store.persist({ result: again, destination, allowOverwrite: false }, context()));
      expect(e.message).to.equal('Saved dataset location saved_dataset already exists.');
      await again.batches[Symbol.asyncIterator]().return?.();
      await store.persist({ result: await store.pullAllFromTableOrQuery(pull(), context()), destination, allowOverwrite: true }, context());
      expect(await count('saved_dataset')).to.equal(1100);
    });

    it('write_logged_features creates the logging table on first use, then appends', async () => {
      const service: FeatureService = {
        name: 'svc',
        project: 'p',
        projections: [],
        tags: {},
        loggingConfig: { sampleRate: 1, destinationKind: 'postgres', customConfig: { table_name: 'Feature Logs' } },
      };
      const table = arrowTable([
        ['driver_id', new Int64(), [1n]],
        ['stats__rate', new Float64(), [0.25]],
        ['__log_timestamp', tsUtc, [micros(T0)]],
      ]);
      await store.writeLoggedFeatures({ featureService: service, table }, context());
      await store.writeLoggedFeatures({ featureService: service, table }, context());
      expect(await count('"Feature Logs"')).to.equal(2);
      const noTable = await failure(
        store.writeLoggedFeatures(
          { featureService: { ...service, loggingConfig: { sampleRate: 1, destinationKind: 'file_destination' } }, table },
          context(),
        ),
      );
      expect(noTable.message).to.match(/table_name.*file_destination/);
    });
  });

  describe('cancellation', () => {
    const slow = postgresSource('slow', { query: 'SELECT driver_id, ts, rate FROM stats, pg_sleep(20)' }, { createdTimestampColumn: '' });
    const running = async () =>
      Number(
        (
          await admin.query(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND state = 'active' AND pid <> pg_backend_pid()",
          )
        ).rows[0].n,
      );

    it('an aborted call cancels its statement on the server', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const call = store.pullAllFromTableOrQuery(pull({ source: slow }), context(controller.signal)).then((r) => collect(r));
      setTimeout(() => controller.abort(new Error('deadline')), 500);
      await failure(call);
      expect(Date.now() - started).to.be.below(10_000);
      for (let i = 0; i < 50 && (await running()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await running()).to.equal(0);
    });

    it('a stream given up before its end cancels its statement and frees the connection', async () => {
      const big = postgresSource(
        'big',
        { query: 'SELECT a.driver_id, a.ts, a.rate FROM stats a, generate_series(1, 100) g' },
        { createdTimestampColumn: '' },
      );
      const result = await store.pullAllFromTableOrQuery(pull({ source: big, startDate: null, endDate: null }), context());
      const iterator = result.batches[Symbol.asyncIterator]();
      expect((await iterator.next()).done).to.equal(false);
      await iterator.return!();
      // pg_cancel_backend only signals the backend; it stops a moment later.
      const active = async () =>
        Number(
          (
            await admin.query(
              "SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%generate_series(1, 100)%' AND state = 'active' AND pid <> pg_backend_pid()",
            )
          ).rows[0].n,
        );
      for (let i = 0; i < 50 && (await active()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await active()).to.equal(0);
      expect((await collect(await store.pullLatestFromTableOrQuery(pull(), context()))).numRows).to.equal(100);
    });
  });

  describe('connection errors', () => {
    it('a refused login: FAILED_PRECONDITION naming user and server, never the password', async () => {
      const bad = await postgresPlugin.create(server.offlineStoreConfig({ password: 'hunter2-wrong' }), env());
      try {
        const e = await failure(bad.pullAllFromTableOrQuery(pull(), context()));
        expect(e.message).to.match(/PostgreSQL refused the connection larder@127\.0\.0\.1:\d+\/feast: password authentication failed/);
        expect(e.message).to.not.include('hunter2');
        expect(e.code).to.equal(9);
      } finally {
        await bad.close();
      }
    });

    it('an unreachable database: the store still starts, calls are UNAVAILABLE', async () => {
      const down = await postgresPlugin.create(server.offlineStoreConfig({ port: 1 }), env());
      try {
        const e = await failure(down.pullAllFromTableOrQuery(pull(), context()));
        expect(e.message).to.match(/PostgreSQL at larder@127\.0\.0\.1:1\/feast is unreachable/);
        expect(e.code).to.equal(14);
      } finally {
        await down.close();
      }
    });
  });
});
