/**
 * The store conformance kit (@larder/core/testing) on the trino store against a real Trino 476
 * (test/support/trino-server.ts): every check passes, as for larder's other stores
 * (test/unit/store-kit.spec.ts). Its own file because Trino takes ~20 s to start.
 */
import { expect } from 'chai';
import { runConformance, storeConformanceChecks, type ConformanceReport } from '../../core/src/testing/index.ts';
import trinoPlugin from '../../plugins/trino/src/index.ts';
import { trinoTarget } from '../support/store-targets.ts';
import { startTrino, type TrinoServer } from '../support/trino-server.ts';
import { trinoQuery } from '../support/trino-statement.ts';

/** "name: message" of every check that did not pass, so a failure shows the kit's own explanation. */
const notPassed = (report: ConformanceReport) =>
  report.results.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.status}: ${r.message}`);

describe('store conformance kit: the trino store on a real Trino passes every check', function () {
  this.timeout(600_000);
  let trino: TrinoServer;

  before(async () => {
    trino = await startTrino();
  });
  after(() => trino?.stop());

  it('trino (hive catalog), and its cleanup drops every table it made', async () => {
    const target = trinoTarget(trinoPlugin, trino);
    const report = await runConformance(target);
    expect(notPassed(report)).to.deep.equal([]);
    const checkCount = storeConformanceChecks(target).checks.length;
    expect(report).to.include({ passed: checkCount, failed: 0, notImplemented: 0 });
    const schemas = await trinoQuery(trino.url, 'SHOW SCHEMAS FROM hive');
    expect(schemas.rows.map((r) => r[0])).to.not.include('kit');
  });
});
