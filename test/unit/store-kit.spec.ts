/**
 * The store conformance kit (@larder/core/testing): its reference answers are the point-in-time
 * rule's; larder's built-in stores (file, duckdb, postgres on a real cluster) pass every check;
 * stores that break one rule each fail exactly the checks about it; `larder-conformance` prints
 * and exits accordingly.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import {
  runConformance,
  storeConformanceChecks,
  type ConformanceReport,
  type StoreConformanceTarget,
} from '../../core/src/testing/index.ts';
import { HOUR, SECOND, T0, driverRows, featureView } from '../../core/src/testing/kit-data.ts';
import { kitTable } from '../../core/src/testing/kit-table.ts';
import { expectedHistorical, expectedPullLatest } from '../../core/src/testing/reference.ts';
import { fileSource } from '../support/feature-views.ts';
import { brokenFileStore, type Break } from '../support/broken-stores.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { parquetTarget, postgresTarget } from '../support/store-targets.ts';

const run = promisify(execFile);

/** "name: message" of every check that did not pass, so a failure shows the kit's own explanation. */
const notPassed = (report: ConformanceReport) =>
  report.results.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.status}: ${r.message}`);
const named = (report: ConformanceReport, status: string) => report.results.filter((r) => r.status === status).map((r) => r.name);

describe('store conformance kit: the reference answers', () => {
  const source = fileSource('drivers', 'unused.parquet');
  const rows = new Map([['drivers', driverRows]]);
  const rates = (ttl: number, at: ReadonlyArray<readonly [number | null, number]>) => {
    const entities = kitTable(
      [
        ['driver_id', 'int64'],
        ['event_timestamp', 'timestamp'],
      ],
      at,
    );
    return expectedHistorical(
      entities,
      [featureView('drivers', source, ['driver_id'], ['rate'], ttl)],
      ['drivers:rate'],
      false,
      rows,
    ).rows.map((r) => r.rate);
  };

  it("follows the point-in-time rule on the kit's rows: ties, ttl bounds, null keys and created", () => {
    // Tie at T0+1h: the later created (3.5) though stored first; driver 4: the null created loses.
    expect(
      rates(3600, [
        [1, T0 + HOUR],
        [4, T0],
      ]),
    ).to.deep.equal([3.5, 40.5]);
    // ttl 1h: T − ttl is included, one second later is not; ttl 0 has no limit.
    expect(
      rates(3600, [
        [2, T0 + HOUR],
        [2, T0 + HOUR + SECOND],
      ]),
    ).to.deep.equal([20.5, null]);
    expect(rates(0, [[2, T0 + 1000 * HOUR]])).to.deep.equal([20.5]);
    // Nothing before T, an unknown key, a null key, a matched row with a null feature.
    expect(
      rates(0, [
        [1, T0 - SECOND],
        [9, T0],
        [null, T0],
        [5, T0],
      ]),
    ).to.deep.equal([null, null, null, null]);
    // A row exactly at T is in, a later one is not.
    expect(
      rates(0, [
        [3, T0 + 3 * HOUR],
        [3, T0 + 3 * HOUR - SECOND],
      ]),
    ).to.deep.equal([30.5, null]);
  });

  it('answers pull_latest per key within inclusive bounds, ties by created', () => {
    const pull = {
      joinKeyColumns: ['driver_id'],
      featureNameColumns: ['rate'],
      timestampField: 'ts',
      createdTimestampColumn: 'created',
      startDate: new Date(T0),
      endDate: new Date(T0 + HOUR),
    };
    const latest = expectedPullLatest(driverRows, pull).rows.map((r) => [r.driver_id, r.rate]);
    expect(latest).to.have.deep.members([
      [1, 3.5],
      [2, 20.5],
      [null, 99.5],
      [4, 40.5],
      [5, null],
    ]);
  });
});

describe("store conformance kit: larder's stores pass every check", function () {
  this.timeout(180_000);
  const checkCount = storeConformanceChecks(parquetTarget(parquetFilesPlugin, { type: 'file' })).checks.length;

  async function passesAll(target: StoreConformanceTarget) {
    const report = await runConformance(target);
    expect(notPassed(report)).to.deep.equal([]);
    expect(report).to.include({ passed: checkCount, failed: 0, notImplemented: 0 });
  }

  it('file (parquet-files)', () => passesAll(parquetTarget(parquetFilesPlugin, { type: 'file' })));
  it('duckdb', () => passesAll(parquetTarget(duckdbPlugin, { type: 'duckdb', threads: 1 })));

  describe('postgres, on a real cluster', () => {
    let server: PostgresServer;
    before(async () => {
      server = await startPostgres();
    });
    after(() => server?.stop());
    it('postgres', () => passesAll(postgresTarget(postgresPlugin, server)));
  });
});

describe('store conformance kit: a store that breaks a rule fails the checks about it', function () {
  this.timeout(120_000);
  const against = (which: Break, filter: (name: string) => boolean) =>
    runConformance(parquetTarget(brokenFileStore(which), { type: 'file' }), { filter, closeTimeoutMs: 2000 });

  it('a store that ignores the ttl fails the checks that ask beyond a ttl, and only those', async () => {
    const report = await against('ignores-ttl', (name) => name.startsWith('point-in-time'));
    expect(named(report, 'failed')).to.deep.equal([
      'point-in-time: ttl bounds are inclusive (T − ttl ≤ ts ≤ T) and nothing older matches',
      'point-in-time: full feature names (view__feature)', // its driver 2 at T0+2h is past the 1 h ttl
      // The file store's date mode is a snapshot as of end_date: keys whose rows are all past the ttl drop out.
      'point-in-time: the start/end date mode (no entity table) answers by the rule the store declares (dateRangeRule)',
    ]);
    const failure = report.results.find((r) => r.status === 'failed')!;
    // The message names the entity row and both values.
    expect(failure.message).to.include('row 1 (driver_id=2, event_timestamp=2024-01-01T01:00:01.000Z): rate is 20.5, expected null');
    expect(report.passed).to.equal(report.results.length - 3);
  });

  it('a store that ignores the created timestamp fails the tie checks of retrievals and of pull_latest', async () => {
    const report = await against('ignores-created', (name) => name.startsWith('point-in-time') || name.startsWith('pull_'));
    expect(named(report, 'failed')).to.include.members([
      'point-in-time: a timestamp tie goes to the later created timestamp, a null created losing',
      'pull_latest_from_table_or_query: the latest row per join key within [start, end], ties by created',
    ]);
    // Checks without ties still pass.
    expect(named(report, 'passed')).to.include.members([
      'point-in-time: ttl bounds are inclusive (T − ttl ≤ ts ≤ T) and nothing older matches',
      'pull_all_from_table_or_query: every row within [start, end], both bounds included',
    ]);
  });

  it("a store that ignores its call's signal fails the cancellation checks", async () => {
    const report = await against('ignores-abort', (name) => name.startsWith('cancellation'));
    expect(named(report, 'failed')).to.deep.equal([
      'cancellation: a call whose signal has already aborted serves no rows',
      'cancellation: aborting the signal while streaming stops the stream',
    ]);
    expect(report.results.find((r) => r.status === 'failed')!.message).to.match(/with an aborted signal served all 200000 rows/);
  });

  it('a store that keeps what a given-up stream holds fails the release check: its close() never settles', async () => {
    const report = await against('leaks-given-up-streams', (name) => name.includes('given up'));
    expect(named(report, 'failed')).to.deep.equal(['cancellation: a stream given up before or after its first batch frees what it holds']);
    expect(report.results[0]!.message).to.equal(
      "store.close() did not settle within 2 s after the check's calls: a call left something held (a connection, a running query, a file handle)",
    );
  });

  it("a store whose failures are not larder's error classes fails the error checks, naming the class expected", async () => {
    const report = await against('driver-errors', (name) => name.startsWith('errors:'));
    expect(report.failed).to.equal(4);
    expect(report.results.map((r) => r.message)).to.satisfy((messages: string[]) =>
      messages.every((m) =>
        /expected a (MissingColumnError|FeastJoinKeysDuringMaterialization|EntityTimestampInferenceException) \(from @larder\/core\), got Error: driver: /.test(
          m,
        ),
      ),
    );
  });

  it('a read-only store reports its writes as not implemented, not failed', async () => {
    const report = await against('read-only', (name) => /^(offline_write_batch|persist|write_logged_features)/.test(name));
    expect(report).to.include({ failed: 0, passed: 0, notImplemented: 4 });
    expect(report.results[0]!.message).to.equal('offlineWriteBatch() throws UnimplementedError: this store is read-only');
  });
});

describe('larder-conformance (the runner command)', function () {
  this.timeout(120_000);
  const cli = (target: string, filter: string) =>
    run(process.execPath, ['--conditions=larder-source', '--import', 'tsx', 'core/src/testing/cli.ts', target, '--filter', filter]).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );

  it('prints each check and "N passed, 0 failed", exit 0, for a store that conforms', async () => {
    const { code, stdout } = await cli('./test/fixtures/conformance-targets/file-store.ts', 'point-in-time');
    expect(code).to.equal(0);
    expect(stdout).to.match(/^ok {3}point-in-time: ttl 0 means no age limit \(\d+\.\d\d s\)$/m);
    expect(stdout.trimEnd().split('\n').at(-1)).to.equal('11 passed, 0 failed');
  });

  it('names the failed check and exits 1 for a store that breaks the rule', async () => {
    const { code, stdout } = await cli('./test/fixtures/conformance-targets/file-store-without-ttl.ts', 'ttl');
    expect(code).to.equal(1);
    expect(stdout).to.match(/^FAIL point-in-time: ttl bounds are inclusive/m);
    expect(stdout).to.include('rate is 20.5, expected null');
    expect(stdout.trimEnd().split('\n').at(-1)).to.equal('1 passed, 1 failed');
  });

  it('runs through a symlink named larder-conformance, as npm installs the bin', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-bin-'));
    try {
      const bin = path.join(dir, 'larder-conformance');
      symlinkSync(path.resolve('core/src/testing/cli.ts'), bin);
      const { stdout } = await run(process.execPath, [
        '--conditions=larder-source',
        '--import',
        'tsx',
        bin,
        './test/fixtures/conformance-targets/file-store.ts',
        '--filter',
        'ttl 0',
      ]);
      expect(stdout.trimEnd().split('\n').at(-1)).to.equal('1 passed, 0 failed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 saying why when the module is not a conformance target', async () => {
    const { code, stderr } = await cli('./test/fixtures/conformance-targets/../../support/feature-views.ts', 'x');
    expect(code).to.equal(2);
    expect(stderr).to.include(
      'its default export must be a conformance target ({ plugin, storeConfig, createSource(name, table, options) })',
    );
  });
});
