/**
 * The bench's Trino cluster (test/support/trino-server.ts's startTrinoCluster) is distributed for
 * real: a coordinator and a worker as separate processes, the coordinator scheduling no tasks, so
 * a query's scans run in the worker; the worker writes to the shared hive warehouse; stop()
 * kills both processes and removes the directory.
 */
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { startTrinoCluster, type TrinoCluster, trinoProcessGone } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';

describe('test Trino cluster (coordinator + 1 worker, separate processes)', function () {
  this.timeout(240_000);
  let cluster: TrinoCluster | undefined;
  const running = () => {
    if (!cluster) throw new Error('the cluster did not start (see the before hook)');
    return cluster;
  };

  before(async () => {
    cluster = await startTrinoCluster({ workers: 1, maxHeap: '768M', workerHeap: '768M' });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('lists an active coordinator and an active worker, each its own process', async () => {
    const { url, pid, workerPids } = running();
    const nodes = await trinoQuery(url, 'SELECT coordinator, state FROM system.runtime.nodes ORDER BY coordinator');
    expect(nodes.rows).to.deep.equal([
      [false, 'active'],
      [true, 'active'],
    ]);
    expect(workerPids).to.have.length(1);
    expect(workerPids[0]).to.not.equal(pid);
    expect(trinoProcessGone(workerPids[0]!)).to.equal(false);
  });

  it('scans a table only in the worker (the coordinator schedules no split), reading and writing the shared hive warehouse', async () => {
    const { url } = running();
    await trinoQuery(url, 'CREATE SCHEMA hive.cluster_spec');
    const created = await trinoQuery(
      url,
      "CREATE TABLE hive.cluster_spec.numbers WITH (format = 'PARQUET') AS SELECT x AS n FROM UNNEST(sequence(1, 1000)) AS t (x)",
    );
    expect(created.updateCount).to.equal(1000);
    const sum = await trinoQuery(url, 'SELECT sum(n), count(*) FROM hive.cluster_spec.numbers');
    expect(sum.rows).to.deep.equal([[500500, 1000]]);

    // The table scan (the tasks that read the parquet file) ran on the worker alone; only the
    // single root stage that gathers the result may sit on the coordinator.
    const scans = await trinoQuery(
      url,
      `SELECT n.coordinator, sum(t.physical_input_bytes) > 0 FROM system.runtime.tasks t JOIN system.runtime.nodes n ON t.node_id = n.node_id
       WHERE t.query_id = '${sum.id}' GROUP BY n.coordinator ORDER BY n.coordinator`,
    );
    expect(scans.rows[0]).to.deep.equal([false, true]);
    expect(scans.rows.slice(1)).to.deep.equal(scans.rows.length > 1 ? [[true, false]] : []);
  });

  it('stop() kills both processes and removes the directory', async () => {
    const { pid, workerPids, dir } = running();
    await running().stop();
    cluster = undefined;
    expect(trinoProcessGone(pid)).to.equal(true);
    expect(trinoProcessGone(workerPids[0]!)).to.equal(true);
    expect(existsSync(dir)).to.equal(false);
  });
});
