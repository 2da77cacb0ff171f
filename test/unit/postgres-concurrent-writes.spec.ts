/**
 * Concurrent writes on the postgres store (issue 16, defect 6's question for PostgreSQL): appends
 * are INSERTs in their own transactions, so concurrent offline_write_batch calls never lose a
 * row; the writes that create a table (persist, write_logged_features on first use) are
 * serialised per table, so racing calls neither fail with PostgreSQL's duplicate-table error nor
 * leave a mix: one persist wins and the others are told the dataset exists.
 */
import { Float64, Int64, type Table, TimeUnit, Timestamp } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import { LarderError, SavedDatasetLocationAlreadyExists } from '../../core/src/errors.ts';
import type { FeatureService } from '../../core/src/registry/model.ts';
import type { CallContext, OfflineStore } from '../../core/src/store.ts';
import { featureView, postgresSource } from '../support/feature-views.ts';
import { arrowTable, micros } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const T0 = Date.UTC(2024, 0, 1);
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const context = (): CallContext => ({ signal: new AbortController().signal, logger: pino({ level: 'silent' }), user: null });
const rowsFrom = (first: number, n = 1): Table =>
  arrowTable([
    ['driver_id', new Int64(), Array.from({ length: n }, (_, i) => BigInt(first + i))],
    ['ts', tsUtc, Array.from({ length: n }, () => micros(T0))],
    ['rate', new Float64(), Array.from({ length: n }, () => 0.5)],
  ]);
const stream = (table: Table) => ({
  schema: table.schema,
  batches: (async function* () {
    yield* table.batches;
  })(),
});

describe('postgres store: concurrent writes (real PostgreSQL)', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  let store: OfflineStore;
  let admin: pg.Client;
  const ids = async (table: string) =>
    (await admin.query(`SELECT driver_id FROM ${table} ORDER BY driver_id`)).rows.map((r) => Number(r.driver_id));

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
    await admin.query('CREATE TABLE stats (driver_id bigint, ts timestamptz, rate double precision)');
    store = await postgresPlugin.create(server.offlineStoreConfig({ max_conn: 6 }), {
      repoPath: '/tmp',
      dataRoots: [],
      repoConfig: {},
      logger: pino({ level: 'silent' }),
    });
  });

  after(async () => {
    await store?.close();
    await admin?.end();
    await server?.stop();
  });

  it('offline_write_batch: three writers, ten rounds each, every acknowledged row is in the table', async () => {
    const view = featureView(
      'stats',
      postgresSource('stats', { table: 'stats' }, { createdTimestampColumn: '' }),
      ['driver_id'],
      ['rate'],
      0,
    );
    const acknowledged: number[] = [];
    await Promise.all(
      [1000, 2000, 3000].map(async (first) => {
        for (let r = 0; r < 10; r++) {
          await store.offlineWriteBatch({ featureView: view, table: rowsFrom(first + r) }, context());
          acknowledged.push(first + r);
        }
      }),
    );
    expect(await ids('stats')).to.deep.equal(acknowledged.sort((a, b) => a - b));
  });

  it('write_logged_features: four first uses at once all succeed, every row kept', async () => {
    const service: FeatureService = {
      name: 'svc',
      project: 'p',
      projections: [],
      tags: {},
      loggingConfig: { sampleRate: 1, destinationKind: 'postgres', customConfig: { table_name: 'race_logs' } },
    };
    const outcomes = await Promise.allSettled(
      [1, 2, 3, 4].map((i) => store.writeLoggedFeatures({ featureService: service, table: rowsFrom(i) }, context())),
    );
    expect(outcomes.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason))).to.deep.equal([]);
    expect(await ids('race_logs')).to.deep.equal([1, 2, 3, 4]);
  });

  it('persist without allow_overwrite: one of four racing calls creates the table, the others are told it exists', async () => {
    const destination = postgresSource('saved', { table: 'race_saved' });
    const outcomes = await Promise.allSettled(
      [10, 20, 30, 40].map((first) => store.persist({ result: stream(rowsFrom(first, 3)), destination, allowOverwrite: false }, context())),
    );
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error);
    expect(failures, failures.map(String).join('\n')).to.have.length(3);
    for (const f of failures) expect(f).to.be.instanceOf(SavedDatasetLocationAlreadyExists);
    const saved = await ids('race_saved');
    expect(saved).to.have.length(3);
    expect(saved[2]! - saved[0]!).to.equal(2);
  });

  it('persist with allow_overwrite: racing calls all succeed and the table holds exactly one of them', async () => {
    const destination = postgresSource('saved', { table: 'race_overwrite' });
    await store.persist({ result: stream(rowsFrom(0, 3)), destination, allowOverwrite: false }, context());
    const outcomes = await Promise.allSettled(
      [10, 20, 30, 40].map((first) => store.persist({ result: stream(rowsFrom(first, 3)), destination, allowOverwrite: true }, context())),
    );
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error);
    expect(failures.map((f) => `${f instanceof LarderError ? f.code : '?'} ${f.message}`)).to.deep.equal([]);
    const saved = await ids('race_overwrite');
    expect(saved).to.have.length(3);
    expect([10, 20, 30, 40]).to.include(saved[0]);
    expect(saved[2]! - saved[0]!).to.equal(2);
  });
});
