/**
 * PostgreSQL killed while larder's calls run on it, then brought back (a real cluster, a real
 * larder, raw Flight): the calls in flight fail promptly with UNAVAILABLE (transient: the Feast
 * client retries it), none hangs, a call during the outage is UNAVAILABLE too, and once the
 * database is back the pool serves again — every call succeeds, none gets a dead connection.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { tableFromArrays } from 'apache-arrow';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { pullCommand } from '../support/feast-commands.ts';
import { rejection } from '../support/guarded-repo.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const PG_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const pullAll = (source: string) => pullCommand(source, {}, 'pull_all_from_table_or_query');
const placeholder = () => tableFromArrays({ key: ['mock_key'] });

describe('postgres store: the database killed during queries and brought back', function () {
  this.timeout(120_000);
  let postgres: PostgresServer;
  let repo: string;
  let server: RunningServer;
  let client: FlightTestClient;

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
      `CREATE TABLE driver_table AS SELECT i::bigint AS driver_id, timestamptz '2024-01-01 00:00:00+00' AS ts, i / 10.0::float8 AS conv_rate FROM generate_series(1, 2) AS i`,
    );
    // The test cluster runs with synchronous_commit=off: a crash within a moment of the commit could
    // lose the table (seen once on a loaded machine: "relation driver_table does not exist" after
    // recovery). A checkpoint makes the data survive the crashes below.
    await admin.query('CHECKPOINT');
    await admin.end();
    const source = (name: string, configuration: Record<string, string>) => ({
      kind: 'custom' as const,
      name,
      classType: PG_SOURCE,
      configuration: { name, table: '', query: '', ...configuration },
      timestampField: 'ts',
    });
    repo = mkdtempSync(path.join(tmpdir(), 'larder-pg-crash-'));
    mkdirSync(path.join(repo, 'data'));
    writeFileSync(
      path.join(repo, 'feature_store.yaml'),
      [
        'project: crash',
        'registry: data/registry.db',
        `offline_store: ${JSON.stringify(postgres.offlineStoreConfig({ conn_type: 'pool', min_conn: 2, max_conn: 4 }))}`,
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'crash',
        dataSources: [
          source('driver_source', { table: 'driver_table' }),
          // Rows only after a minute: the call is still running when the database dies.
          source('slow_source', { query: 'SELECT d.* FROM driver_table AS d, pg_sleep(60) AS s' }),
        ],
      }),
    );
    server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }) });
    client = connect(`127.0.0.1:${server.port}`);
    // Every pooled connection has been used once: the pool holds connections that will die.
    await Promise.all([1, 2, 3, 4].map(() => client.doExchange(pullAll('driver_source'), placeholder())));
  });

  after(async () => {
    client?.close();
    await server?.stop(1000);
    await postgres?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  /** Until PostgreSQL shows `n` of larder's statements running pg_sleep (they are in flight). */
  async function sleepingQueries(n: number): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const admin = new pg.Client({
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
        database: postgres.database,
      });
      await admin.connect();
      const { rows } = await admin.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'larder' AND query LIKE 'COPY%pg_sleep%' AND state = 'active'",
      );
      await admin.end();
      if (rows[0].n >= n) return;
      if (Date.now() > deadline) throw new Error(`only ${rows[0].n} of ${n} queries started`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('calls in flight fail promptly with UNAVAILABLE; during the outage too; afterwards the pool serves every call', async () => {
    const inFlight = [1, 2].map(() => rejection(client.doExchange(pullAll('slow_source'), placeholder())));
    await sleepingQueries(2);
    const killedAt = Date.now();
    await postgres.crash();

    const failures = await Promise.all(inFlight);
    // Far sooner than the 60 s the queries would have slept: the broken connection is noticed.
    expect(Date.now() - killedAt).to.be.below(20_000);
    for (const failure of failures) {
      expect(failure.code, failure.details).to.equal(status.UNAVAILABLE);
      expect(failure.details).to.match(/connection to PostgreSQL|unreachable|terminat/i);
      expect(failure.details).to.not.include(postgres.password);
    }

    const during = await rejection(client.doExchange(pullAll('driver_source'), placeholder()));
    expect(during.code, during.details).to.equal(status.UNAVAILABLE);

    await postgres.resume();
    // More calls than the pool has connections, so any dead one left in it would be handed out.
    const after = await Promise.all([1, 2, 3, 4, 5, 6].map(() => client.doExchange(pullAll('driver_source'), placeholder())));
    expect(after.map((t) => t.numRows)).to.deep.equal([2, 2, 2, 2, 2, 2]);
  });

  it('a clean shutdown during a query (PostgreSQL error 57P01) is UNAVAILABLE too, and the pool recovers', async () => {
    const inFlight = rejection(client.doExchange(pullAll('slow_source'), placeholder()));
    await sleepingQueries(1);
    await postgres.pause();
    const failure = await inFlight;
    expect(failure.code, failure.details).to.equal(status.UNAVAILABLE);
    await postgres.resume();
    const after = await Promise.all([1, 2, 3, 4, 5].map(() => client.doExchange(pullAll('driver_source'), placeholder())));
    expect(after.map((t) => t.numRows)).to.deep.equal([2, 2, 2, 2, 2]);
  });
});
