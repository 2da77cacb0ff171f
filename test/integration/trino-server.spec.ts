/**
 * The test Trino (test/support/trino-server.ts) is a real, working server: it starts from the cached
 * tarball, its `hive` catalog writes tables to the local file system, its `memory` catalog answers,
 * both through Trino's REST statement protocol, and stop() leaves nothing running.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { Int64, TimestampMicrosecond } from 'apache-arrow';
import { expect } from 'chai';
import { arrowTable, micros, writeParquetFile } from '../support/parquet-fixtures.ts';
import { startTrino, type TrinoServer, trinoProcessGone } from '../support/trino-server.ts';
import { TrinoQueryError, trinoQuery } from '../support/trino-statement.ts';

/** Resolves true when something accepts a TCP connection on the port. */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Every file below a directory, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
}

describe('test Trino server (single node, hive + memory catalogs)', function () {
  this.timeout(180_000);
  let trino: TrinoServer | undefined;
  const server = () => {
    if (!trino) throw new Error('Trino did not start (see the before hook)');
    return trino;
  };

  before(async () => {
    trino = await startTrino();
  });

  after(async () => {
    await trino?.stop();
  });

  it('reports Trino 476 with one active node that is the coordinator', async () => {
    const info = (await (await fetch(`${server().url}/v1/info`)).json()) as {
      nodeVersion: { version: string };
      starting: boolean;
      coordinator: boolean;
    };
    expect(info).to.deep.include({ starting: false, coordinator: true });
    expect(info.nodeVersion.version).to.equal('476');
    const nodes = await trinoQuery(server().url, 'SELECT node_version, coordinator, state FROM system.runtime.nodes');
    expect(nodes.rows).to.deep.equal([['476', true, 'active']]);
  });

  it('creates, fills and reads a parquet table in the hive catalog, stored under its warehouse dir', async () => {
    const { url, warehouse } = server();
    await trinoQuery(url, 'CREATE SCHEMA hive.larder_spec');
    await trinoQuery(
      url,
      `CREATE TABLE hive.larder_spec.driver_stats (driver_id BIGINT, event_timestamp TIMESTAMP(3), conv_rate DOUBLE, city VARCHAR)
       WITH (format = 'PARQUET')`,
    );
    const insert = await trinoQuery(
      url,
      `INSERT INTO hive.larder_spec.driver_stats VALUES
         (1001, TIMESTAMP '2026-01-01 10:00:00.000', 0.5, 'Oslo'),
         (1002, TIMESTAMP '2026-01-02 11:30:00.250', 0.25, NULL),
         (1001, TIMESTAMP '2026-01-03 12:00:00.000', 0.75, 'Bergen')`,
    );
    expect(insert.updateType).to.equal('INSERT');
    expect(insert.updateCount).to.equal(3);

    const read = await trinoQuery(url, 'SELECT driver_id, event_timestamp, conv_rate, city FROM driver_stats ORDER BY event_timestamp', {
      catalog: 'hive',
      schema: 'larder_spec',
    });
    expect(read.columns.map((c) => [c.name, c.type])).to.deep.equal([
      ['driver_id', 'bigint'],
      // The protocol's `type` names the raw type; the values below carry the millisecond precision.
      ['event_timestamp', 'timestamp'],
      ['conv_rate', 'double'],
      ['city', 'varchar'],
    ]);
    expect(read.rows).to.deep.equal([
      [1001, '2026-01-01 10:00:00.000', 0.5, 'Oslo'],
      [1002, '2026-01-02 11:30:00.250', 0.25, null],
      [1001, '2026-01-03 12:00:00.000', 0.75, 'Bergen'],
    ]);

    // The table is real files on the local file system, where a staging writer could put its own.
    const tableDir = path.join(warehouse, 'larder_spec', 'driver_stats');
    expect(existsSync(tableDir), `${tableDir} exists`).to.equal(true);
    expect(filesUnder(tableDir).filter((f) => !f.startsWith('.'))).to.have.length.greaterThan(0);
  });

  it('answers from the memory catalog, and joins it with the hive table in one query', async () => {
    const { url } = server();
    await trinoQuery(
      url,
      "CREATE TABLE memory.default.entities AS SELECT * FROM (VALUES (BIGINT '1001', 'a'), (BIGINT '1003', 'b')) AS t (driver_id, label)",
    );
    const entities = await trinoQuery(url, 'SELECT driver_id, label FROM memory.default.entities ORDER BY driver_id');
    expect(entities.rows).to.deep.equal([
      [1001, 'a'],
      [1003, 'b'],
    ]);
    const joined = await trinoQuery(
      url,
      `SELECT e.label, count(s.driver_id), max(s.conv_rate)
       FROM memory.default.entities e LEFT JOIN hive.larder_spec.driver_stats s ON s.driver_id = e.driver_id
       GROUP BY e.label ORDER BY e.label`,
    );
    expect(joined.rows).to.deep.equal([
      ['a', 2, 0.75],
      ['b', 0, null],
    ]);
  });

  it('reads a parquet file written outside Trino into its warehouse, through an external table', async () => {
    // The route an entity table can take into Trino without INSERTs: larder writes a parquet file
    // where the catalog reads, then names the directory as a table's external_location.
    const { url, warehouse } = server();
    const day = Date.UTC(2026, 0, 2);
    writeParquetFile(
      path.join(warehouse, 'staging', 'entities-1', 'part-0.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [1001n, 1002n]],
        ['event_timestamp', new TimestampMicrosecond('UTC'), [micros(day), micros(day + 1500)]],
      ]),
    );
    await trinoQuery(
      url,
      `CREATE TABLE hive.larder_spec.staged_entities (driver_id BIGINT, event_timestamp TIMESTAMP(3))
       WITH (format = 'PARQUET', external_location = 'local:///staging/entities-1')`,
    );
    const read = await trinoQuery(url, 'SELECT driver_id, event_timestamp FROM hive.larder_spec.staged_entities ORDER BY driver_id');
    expect(read.rows).to.deep.equal([
      [1001, '2026-01-02 00:00:00.000'],
      [1002, '2026-01-02 00:00:01.500'],
    ]);
  });

  it("surfaces Trino's own error name for a failing query", async () => {
    const failure = await trinoQuery(server().url, 'SELECT * FROM hive.larder_spec.no_such_table').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).to.be.instanceOf(TrinoQueryError);
    expect((failure as TrinoQueryError).errorName).to.equal('TABLE_NOT_FOUND');
  });

  it('stop() kills the server, closes its port and removes its directory', async () => {
    const { pid, port, dir } = server();
    expect(await portOpen(port)).to.equal(true);
    // The pid is the JVM itself (the launcher execs it), so "gone" below means Trino is gone.
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).to.contain('io.trino.server.TrinoServer');
    await server().stop();
    trino = undefined;
    expect(trinoProcessGone(pid), `pid ${pid} gone`).to.equal(true);
    expect(await portOpen(port)).to.equal(false);
    expect(existsSync(dir)).to.equal(false);
  });
});

describe('test Trino server that cannot start', function () {
  this.timeout(180_000);

  it("rejects with Trino's own complaint from its log when a catalog is misconfigured", async () => {
    const failure = await startTrino({ catalogs: { broken: { 'connector.name': 'hive', 'hive.metastore': 'file' } } }).then(
      async (unexpected) => {
        await unexpected.stop();
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    expect(failure, 'startTrino rejected').to.be.instanceOf(Error);
    expect(failure?.message).to.match(/^Trino exited \(\d+\) while starting; its output ends:/);
    expect(failure?.message).to.contain('hive.metastore.catalog.dir');
  });
});
