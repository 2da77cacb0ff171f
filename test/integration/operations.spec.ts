/**
 * Running larder in production, against a real PostgreSQL store: the gRPC health service (and how
 * it follows the database and a drain), Prometheus metrics, the concurrency cap, the per-call
 * deadline, and a client's disconnect reaching the database as a cancelled statement.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { expect } from 'chai';
import pg from 'pg';
import pino from 'pino';
import YAML from 'yaml';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import { connect, type FlightTestClient } from '../support/flight-client.ts';
import { pullAllCommand, placeholderTable, rejection } from '../support/guarded-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { connectHealth, type HealthClient } from '../support/health-client.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';

const POSTGRES_SOURCE = 'feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource';
const SLEEP = 'pg_sleep(30)';
const BRIEF_SLEEP = 'pg_sleep(1.5)';

/** A pyarrow Flight client process sending `command` by DoExchange, to be killed mid-call. */
const PYARROW_EXCHANGE = `
import sys, pyarrow as pa, pyarrow.flight as fl
client = fl.FlightClient("grpc://127.0.0.1:" + sys.argv[1])
writer, reader = client.do_exchange(fl.FlightDescriptor.for_command(sys.argv[2]))
table = pa.table({"key": ["mock_key"]})
writer.begin(table.schema)
writer.write_table(table)
writer.done_writing()
reader.read_all()
`;
function pyarrowExchange(port: number, command: string): ChildProcess {
  return spawn(feastPython().python, ['-c', PYARROW_EXCHANGE, String(port), command], { stdio: 'ignore' });
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('operations: health, metrics, limits (real PostgreSQL store)', function () {
  this.timeout(120_000);
  let postgres: PostgresServer;
  let admin: pg.Pool;
  let repo: string;
  const silent = pino({ level: 'silent' });

  const sleepingStatements = async (sleep = SLEEP) =>
    Number(
      (await admin.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE '%${sleep}%' AND pid <> pg_backend_pid()`)).rows[0].n,
    );
  const slowPull = () => pullAllCommand({ data_source_name: 'slow_source' });

  /** Writes feature_store.<name>.yaml with these `larder:` settings and serves it. */
  async function serve(name: string, larder: Record<string, unknown>, extra: { metricsPort?: number } = {}): Promise<RunningServer> {
    const file = path.join(repo, `feature_store.${name}.yaml`);
    writeFileSync(
      file,
      YAML.stringify({ project: 'ops', registry: 'data/registry.db', offline_store: postgres.offlineStoreConfig({ max_conn: 4 }), larder }),
    );
    return startServer({ chdir: repo, featureStoreYaml: file, port: 0, logger: silent, healthRecheckMs: 100, ...extra });
  }

  before(async () => {
    postgres = await startPostgres();
    // A pool, so that the admin connection comes back after the database restarts.
    admin = new pg.Pool({
      host: postgres.host,
      port: postgres.port,
      user: postgres.user,
      password: postgres.password,
      database: postgres.database,
      max: 1,
    });
    admin.on('error', () => {});
    await admin.query(`CREATE TABLE stats AS SELECT (i % 10)::bigint AS driver_id, timestamptz '2021-06-01 00:00:00+00' + i * interval '1 hour' AS ts,
      (i / 100.0)::double precision AS conv_rate FROM generate_series(0, 99) AS i`);
    repo = mkdtempSync(path.join(tmpdir(), 'larder-ops-'));
    mkdirSync(path.join(repo, 'data'));
    const source = (name: string, configuration: Record<string, string>) => ({
      kind: 'custom' as const,
      name,
      classType: POSTGRES_SOURCE,
      timestampField: 'ts',
      configuration: { name, table: '', query: '', ...configuration },
    });
    writeFileSync(
      path.join(repo, 'data', 'registry.db'),
      encodeRegistry({
        project: 'ops',
        dataSources: [
          source('driver_source', { table: 'stats' }),
          source('slow_source', { query: `SELECT driver_id, ts, conv_rate FROM stats, ${SLEEP}` }),
          source('brief_source', { query: `SELECT driver_id, ts, conv_rate FROM stats, ${BRIEF_SLEEP}` }),
        ],
      }),
    );
  });

  after(async () => {
    await admin?.end();
    await postgres?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  describe('health service and metrics', () => {
    let server: RunningServer;
    let client: FlightTestClient;
    let health: HealthClient;

    before(async () => {
      server = await serve('metrics', {}, { metricsPort: 0 });
      client = connect(`127.0.0.1:${server.port}`);
      health = connectHealth(`127.0.0.1:${server.port}`);
    });
    after(async () => {
      client?.close();
      health?.close();
      await server?.stop(1000);
    });

    const metrics = async () => {
      const response = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
      expect(response.status).to.equal(200);
      return response.text();
    };
    const sample = (text: string, series: string): number | undefined => {
      const line = text.split('\n').find((l) => l.startsWith(series + ' '));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };

    it('answers SERVING for the server, the Flight service and liveness, and NOT_FOUND for an unknown service', async () => {
      expect(await health.check('')).to.equal('SERVING');
      expect(await health.check('arrow.flight.protocol.FlightService')).to.equal('SERVING');
      expect(await health.check('liveness')).to.equal('SERVING');
      const unknown = await rejection(health.check('billing'));
      expect(unknown.code).to.equal(status.NOT_FOUND);
    });

    it('turns NOT_SERVING while the database is down, and SERVING when it is back; liveness stays SERVING', async () => {
      const watch = health.watch('');
      await until('the watch to report SERVING', async () => watch.statuses.includes('SERVING'));
      await postgres.pause();
      try {
        await until('readiness to fail', async () => (await health.check('')) === 'NOT_SERVING');
        expect(await health.check('liveness')).to.equal('SERVING');
        await until('the watch to report NOT_SERVING', async () => watch.statuses.at(-1) === 'NOT_SERVING');
      } finally {
        await postgres.resume();
      }
      await until('readiness to pass again', async () => (await health.check('')) === 'SERVING');
      await until('the watch to report SERVING again', async () => watch.statuses.at(-1) === 'SERVING');
      expect(watch.statuses).to.deep.equal(['SERVING', 'NOT_SERVING', 'SERVING']);
      watch.cancel();
      // The pool's connections died with the database; calls work again all the same.
      await until(
        'a pull to succeed',
        async () => (await client.doExchange(pullAllCommand(), placeholderTable()).catch(() => null)) !== null,
      );
    });

    it("counts calls, errors by code, rows, bytes and pending uploads; Feast's metrics with Feast's labels", async () => {
      const before = await metrics();
      const ok = (s: string) => sample(before, s) ?? 0;
      const pull = 'call="pull_all_from_table_or_query"';
      // Feast's server counts the retrieval jobs it runs with to_arrow(), labelled method="to_arrow".
      const feast = 'method="to_arrow"';
      const okBefore = ok(`larder_offline_calls_total{${pull},status="success"}`);
      const rowsBefore = ok(`larder_offline_call_rows_sum{${pull}}`);
      const notFoundBefore = ok(`larder_offline_call_errors_total{${pull},code="NOT_FOUND"}`);
      const feastOkBefore = ok(`feast_offline_store_request_total{${feast},status="success"}`);
      const feastErrorBefore = ok(`feast_offline_store_request_total{${feast},status="error"}`);
      const feastRowsBefore = ok(`feast_offline_store_row_count_sum{${feast}}`);
      const exchangesBefore = ok('larder_flight_calls_total{rpc="DoExchange",code="OK"}');

      expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(100);
      expect((await rejection(client.doExchange(pullAllCommand({ data_source_name: 'nope' }), placeholderTable()))).code).to.equal(
        status.NOT_FOUND,
      );
      await client.doPut(pullAllCommand(), placeholderTable());

      const after = await metrics();
      expect(sample(after, `larder_offline_calls_total{${pull},status="success"}`)).to.equal(okBefore + 2); // the pull, the DoPut
      expect(sample(after, `larder_offline_calls_total{${pull},status="error"}`)).to.be.at.least(1);
      expect(sample(after, `larder_offline_call_errors_total{${pull},code="NOT_FOUND"}`)).to.equal(notFoundBefore + 1);
      // 100 rows sent; the DoPut's placeholder table stands for "no rows".
      expect(sample(after, `larder_offline_call_rows_sum{${pull}}`)).to.equal(rowsBefore + 100);
      expect(sample(after, `larder_offline_call_sent_bytes_total{${pull}}`)).to.be.greaterThan(0);
      // The DoPut only uploads (Feast's server runs no job for it): one success, one error.
      expect(sample(after, `feast_offline_store_request_total{${feast},status="success"}`)).to.equal(feastOkBefore + 1);
      expect(sample(after, `feast_offline_store_request_total{${feast},status="error"}`)).to.equal(feastErrorBefore + 1);
      expect(sample(after, `feast_offline_store_row_count_sum{${feast}}`)).to.equal(feastRowsBefore + 100);
      expect(after, "only Feast's label values").to.not.match(/^feast_offline_store_\w+\{[^}]*method="(?!to_arrow")/m);
      expect(sample(after, 'larder_flight_calls_total{rpc="DoExchange",code="OK"}')).to.equal(exchangesBefore + 1);
      expect(sample(after, 'larder_flight_calls_total{rpc="DoExchange",code="NOT_FOUND"}')).to.be.at.least(1);
      expect(sample(after, 'larder_pending_uploads')).to.equal(1);
      expect(sample(after, 'larder_pending_upload_bytes')).to.be.greaterThan(0);
      expect(sample(after, 'larder_flight_calls_in_flight')).to.equal(0);
      // Feast's buckets.
      expect(after).to.match(/^feast_offline_store_request_latency_seconds_bucket\{le="0\.1",method="to_arrow"\} \d+$/m);
      expect(after).to.match(/^feast_offline_store_row_count_bucket\{le="5000000",method="to_arrow"\} \d+$/m);
      expect(after).to.match(/^process_resident_memory_bytes \d+/m);
      expect((await fetch(`http://127.0.0.1:${server.metricsPort}/other`)).status).to.equal(404);
    });

    it('counts a call in flight while it runs', async () => {
      const process = pyarrowExchange(server.port, slowPull());
      try {
        await until('the statement to run', async () => (await sleepingStatements()) === 1);
        expect(sample(await metrics(), 'larder_flight_calls_in_flight')).to.equal(1);
      } finally {
        process.kill('SIGKILL');
      }
      await until('the statement to be cancelled', async () => (await sleepingStatements()) === 0);
      await until('the call to end', async () => sample(await metrics(), 'larder_flight_calls_in_flight') === 0);
      expect(sample(await metrics(), 'larder_flight_calls_total{rpc="DoExchange",code="CANCELLED"}')).to.equal(1);
    });
  });

  describe('limits', () => {
    it('queues calls over max_concurrent_calls, hands them the next free slot, and refuses those beyond the queue with UNAVAILABLE', async () => {
      const server = await serve('queue', { max_concurrent_calls: 1, max_queued_calls: 1, queue_timeout_seconds: 20 });
      const client = connect(`127.0.0.1:${server.port}`);
      try {
        const brief = client.doExchange(pullAllCommand({ data_source_name: 'brief_source' }), placeholderTable());
        await until('the brief statement to run', async () => (await sleepingStatements(BRIEF_SLEEP)) === 1);
        const queued = client.doExchange(pullAllCommand(), placeholderTable());
        await new Promise((resolve) => setTimeout(resolve, 100));
        const refused = await rejection(client.doExchange(pullAllCommand(), placeholderTable()));
        expect(refused.code).to.equal(status.UNAVAILABLE);
        expect(refused.details).to.match(
          /busy: 1 calls are running \(larder\.max_concurrent_calls\) and 1 are waiting \(larder\.max_queued_calls\)/,
        );
        expect((await brief).numRows).to.equal(100);
        expect((await queued).numRows).to.equal(100);
      } finally {
        client.close();
        await server.stop(1000);
      }
    });

    it("refuses a call that waited queue_timeout_seconds for a slot, and cancels a disconnected client's statement", async () => {
      const server = await serve('busy', { max_concurrent_calls: 2, max_queued_calls: 4, queue_timeout_seconds: 0.5 });
      const busy = [pyarrowExchange(server.port, slowPull()), pyarrowExchange(server.port, slowPull())];
      const other = connect(`127.0.0.1:${server.port}`);
      try {
        await until('both statements to run', async () => (await sleepingStatements()) === 2);
        const refused = await rejection(other.doExchange(pullAllCommand(), placeholderTable()));
        expect(refused.code).to.equal(status.UNAVAILABLE);
        expect(refused.details).to.match(
          /busy: no call slot came free within 0\.5 s \(larder\.queue_timeout_seconds; larder\.max_concurrent_calls is 2\)/,
        );
        // The clients die: their calls end, and PostgreSQL stops their statements.
        busy.forEach((p) => p.kill('SIGKILL'));
        await until('the statements to be cancelled', async () => (await sleepingStatements()) === 0);
        expect((await other.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(100);
      } finally {
        busy.forEach((p) => p.kill('SIGKILL'));
        other.close();
        await server.stop(1000);
      }
    });

    it('stops a call that outlives call_timeout_seconds with DEADLINE_EXCEEDED, and its statement with it', async () => {
      const server = await serve('deadline', { call_timeout_seconds: 1.5 });
      const client = connect(`127.0.0.1:${server.port}`);
      try {
        const started = Date.now();
        const error = await rejection(client.doExchange(slowPull(), placeholderTable()));
        expect(error.code).to.equal(status.DEADLINE_EXCEEDED);
        expect(error.details).to.match(/longer than this server allows \(1\.5 s, larder\.call_timeout_seconds/);
        expect(Date.now() - started).to.be.below(10_000);
        await until('the statement to be cancelled', async () => (await sleepingStatements()) === 0);
        expect((await client.doExchange(pullAllCommand(), placeholderTable())).numRows).to.equal(100);
      } finally {
        client.close();
        await server.stop(1000);
      }
    });

    it('drains on stop: readiness turns NOT_SERVING, open watches end, a call that ends within the grace period finishes', async () => {
      const server = await serve('drain', {});
      const client = connect(`127.0.0.1:${server.port}`);
      const health = connectHealth(`127.0.0.1:${server.port}`);
      try {
        const watch = health.watch('');
        await until('the watch to report SERVING', async () => watch.statuses.includes('SERVING'));
        const brief = client.doExchange(pullAllCommand({ data_source_name: 'brief_source' }), placeholderTable());
        const slow = client.doExchange(slowPull(), placeholderTable());
        slow.catch(() => {});
        await until(
          'the statements to run',
          async () => (await sleepingStatements()) === 1 && (await sleepingStatements(BRIEF_SLEEP)) === 1,
        );
        const stopped = server.stop(4000);
        await watch.ended;
        expect(watch.statuses).to.deep.equal(['SERVING', 'NOT_SERVING']);
        // The brief call finishes within the grace period; the slow one is cancelled, and its statement with it.
        expect((await brief).numRows).to.equal(100);
        await stopped;
        expect((await rejection(slow)).code).to.be.oneOf([status.CANCELLED, status.UNAVAILABLE]);
        await until('the statement to be cancelled', async () => (await sleepingStatements()) === 0);
      } finally {
        client.close();
        health.close();
      }
    });

    it('while draining the port stays open: a new probe sees liveness SERVING and readiness NOT_SERVING, a new call gets UNAVAILABLE', async () => {
      const server = await serve('drain_open', {});
      const client = connect(`127.0.0.1:${server.port}`);
      try {
        const slow = client.doExchange(slowPull(), placeholderTable());
        slow.catch(() => {});
        await until('the statement to run', async () => (await sleepingStatements()) === 1);
        const stopped = server.stop(4000);
        // Fresh connections, as the kubelet's probes and a new client make them.
        const probe = connectHealth(`127.0.0.1:${server.port}`);
        const late = connect(`127.0.0.1:${server.port}`);
        try {
          expect(await probe.check('liveness')).to.equal('SERVING');
          expect(await probe.check('')).to.equal('NOT_SERVING');
          const refused = await rejection(late.doExchange(pullAllCommand({ data_source_name: 'brief_source' }), placeholderTable()));
          expect(refused.code).to.equal(status.UNAVAILABLE);
          expect(refused.details).to.include('shutting down');
        } finally {
          probe.close();
          late.close();
        }
        await stopped;
        expect((await rejection(slow)).code).to.be.oneOf([status.CANCELLED, status.UNAVAILABLE]);
      } finally {
        client.close();
      }
    });
  });
});
