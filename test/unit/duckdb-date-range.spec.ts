/**
 * get_historical_features without an entity table (start_date/end_date) on the duckdb store.
 * Feast 0.67's own duckdb store cannot answer it: its get_historical_features takes no
 * start_date/end_date, so Python refuses the call with a TypeError (checked here against Feast's
 * installed source). larder answers by its documented rule (docs/date-range-retrieval.md): each
 * distinct (event_timestamp, join keys) of the views' sources in the range, point-in-time joined
 * (ties to the later created, else to the row stored last; matches before start_date count);
 * the same rows as Feast's newer non-entity tests expect, and for several views the same answer
 * as larder's postgres store. The data are those of test/integration/date-range-postgres.spec.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Float64, Int64, TimestampMicrosecond } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import type { HistoricalFeaturesRequest, OfflineStore } from '../../core/src/store.ts';
import { feastEnv } from '../support/feast-repo.ts';
import { feastPython } from '../support/feast-python.ts';
import { featureView, fileSource } from '../support/feature-views.ts';
import { REPO_ROOT } from '../support/larder-process.ts';
import { arrowTable, callContext, collect, micros, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const run = promisify(execFile);
const at = (hour: number, minute = 0) => Date.UTC(2025, 0, 1, hour, minute);
const HOUR_S = 3600;

describe('duckdb store: start/end-date retrieval', function () {
  this.timeout(120_000);
  let repo: string;
  let store: OfflineStore;
  const stats = featureView('stats', fileSource('stats_source', 'stats.parquet'), ['driver_id'], ['rate'], 24 * HOUR_S);
  const trips = featureView(
    'trips',
    fileSource('trips_source', 'trips.parquet', { createdTimestampColumn: '' }),
    ['driver_id'],
    ['n'],
    2 * HOUR_S,
  );

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-duck-dates-'));
    const ts = new TimestampMicrosecond('UTC');
    // [driver_id, ts, created, rate]: a (driver 1, 13:00) tie whose later-created row comes first; a null key.
    const s: Array<[number | null, number, number, number]> = [
      [1, at(10), at(10), 1.0],
      [1, at(11), at(11), 1.1],
      [1, at(13), at(13, 30), 1.3],
      [1, at(13), at(13, 10), 1.25],
      [2, at(12), at(12), 2.2],
      [3, at(9), at(9), 3.0],
      [3, at(15), at(15), 3.5],
      [5, at(13), at(13), 5.0],
      [null, at(12), at(12), 9.9],
    ];
    writeParquetFile(
      path.join(repo, 'stats.parquet'),
      arrowTable([
        ['driver_id', new Int64(), s.map((r) => (r[0] === null ? null : BigInt(r[0])))],
        ['ts', ts, s.map((r) => micros(r[1]))],
        ['created', ts, s.map((r) => micros(r[2]))],
        ['rate', new Float64(), s.map((r) => r[3])],
      ]),
    );
    // [driver_id, ts, n]: a full tie on (driver 4, 12:45); driver 5's 12:30 row.
    const t: Array<[number, number, number]> = [
      [1, at(10, 30), 100],
      [2, at(11, 30), 210],
      [4, at(11, 30), 400],
      [4, at(12, 45), 401],
      [4, at(12, 45), 402],
      [5, at(12, 30), 500],
    ];
    writeParquetFile(
      path.join(repo, 'trips.parquet'),
      arrowTable([
        ['driver_id', new Int64(), t.map((r) => BigInt(r[0]))],
        ['ts', ts, t.map((r) => micros(r[1]))],
        ['n', new Int64(), t.map((r) => BigInt(r[2]))],
      ]),
    );
    store = await duckdbPlugin.create(
      { type: 'duckdb' },
      { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  const historical = async (refs: string[], start: number, end: number) => {
    const req: HistoricalFeaturesRequest = {
      featureViews: [stats, trips],
      featureRefs: refs,
      project: 'p',
      fullFeatureNames: false,
      startDate: new Date(start),
      endDate: new Date(end),
    };
    const table = await collect(await store.getHistoricalFeatures(req, callContext()));
    const byKey = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      (a.event_timestamp as number) - (b.event_timestamp as number) || String(a.driver_id).localeCompare(String(b.driver_id));
    return { columns: table.schema.fields.map((f) => f.name), rows: rows(table).sort(byKey) };
  };

  it("Feast 0.67's own duckdb store refuses the call: its get_historical_features takes no start_date", async () => {
    const script = path.join(REPO_ROOT, 'test', 'fixtures', 'date-range', 'feast_duckdb_signature.py');
    const { stdout } = await run(feastPython().python, [script], { env: feastEnv(), timeout: 60_000 });
    expect(stdout.trim()).to.equal(
      "ERROR builtins.TypeError: DuckDBOfflineStore.get_historical_features() got an unexpected keyword argument 'start_date'",
    );
  });

  it('one view: one row per distinct (event_timestamp, key) in range, null keys too, the tie to the later created, no created_timestamp column', async () => {
    const got = await historical(['stats:rate'], at(10), at(13));
    expect(got.columns).to.deep.equal(['event_timestamp', 'driver_id', 'rate']);
    expect(got.rows).to.deep.equal([
      { event_timestamp: at(10), driver_id: 1, rate: 1.0 },
      { event_timestamp: at(11), driver_id: 1, rate: 1.1 },
      { event_timestamp: at(12), driver_id: 2, rate: 2.2 },
      // A null key is a row of the range too (as in Feast's postgres answers); it matches nothing.
      { event_timestamp: at(12), driver_id: null, rate: null },
      { event_timestamp: at(13), driver_id: 1, rate: 1.3 },
      { event_timestamp: at(13), driver_id: 5, rate: 5.0 },
    ]);
  });

  it("two views: the answer of larder's postgres store (full tie to the row stored last, a match before start_date counts)", async () => {
    const got = await historical(['stats:rate', 'trips:n'], at(12, 40), at(13));
    expect(got.columns).to.deep.equal(['event_timestamp', 'driver_id', 'rate', 'n']);
    expect(got.rows).to.deep.equal([
      { event_timestamp: at(12, 45), driver_id: 4, rate: null, n: 402 },
      { event_timestamp: at(13), driver_id: 1, rate: 1.3, n: null },
      { event_timestamp: at(13), driver_id: 5, rate: 5.0, n: 500 },
    ]);
  });
});
