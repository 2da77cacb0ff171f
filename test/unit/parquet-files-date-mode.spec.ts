/**
 * The file store's start/end-date mode at the store API, on what the differential against Feast
 * (test/integration/file-store-date-mode.spec.ts) does not reach: a directory source whose keys
 * and latest rows are spread over several files, an end_date a nanosecond timestamp cannot hold,
 * views with disjoint keys whose combinations are too many, and views that share a join key name
 * with different types.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float64, Int32, Int64 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import { MAX_COMBINATIONS } from '../../plugins/parquet-files/src/end-date-snapshot.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import { featureView, fileSource } from '../support/feature-views.ts';
import { T0_US, H_US, tsUtc } from '../support/generated-data.ts';
import { arrowTable, callContext, collect, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const T0 = Number(T0_US / 1000n);
const H = Number(H_US / 1000n);
const hours = (...h: number[]) => h.map((x) => T0_US + BigInt(Math.round(x * 3600)) * 1_000_000n);

describe('parquet-files store: the start/end-date mode (a snapshot as of end_date)', () => {
  let repo: string;
  let store: OfflineStore;
  const drivers = featureView('drivers', fileSource('drivers', 'drivers', { createdTimestampColumn: '' }), ['driver_id'], ['rate'], 0);
  const narrow = featureView('narrow', fileSource('narrow', 'narrow.parquet', { createdTimestampColumn: '' }), ['driver_id'], ['rate'], 0);

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-date-mode-'));
    // Driver 1's latest row is in the second file, driver 2's in the first; driver 3 only after end.
    writeParquetFile(
      path.join(repo, 'drivers', 'part-0.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [1n, 2n, 3n]],
        ['ts', tsUtc, hours(1, 3, 9)],
        ['rate', new Float64(), [1, 23, 39]],
      ]),
    );
    writeParquetFile(
      path.join(repo, 'drivers', 'part-1.parquet'),
      arrowTable([
        ['driver_id', new Int64(), [2n, 1n]],
        ['ts', tsUtc, hours(2, 4)],
        ['rate', new Float64(), [22, 14]],
      ]),
    );
    // 8000 drivers × 7000 cities: 56M combinations.
    writeParquetFile(
      path.join(repo, 'many-drivers.parquet'),
      arrowTable([
        ['driver_id', new Int64(), Array.from({ length: 8000 }, (_, i) => BigInt(i))],
        ['ts', tsUtc, Array.from({ length: 8000 }, () => T0_US)],
        ['rate', new Float64(), Array.from({ length: 8000 }, () => 1)],
      ]),
    );
    writeParquetFile(
      path.join(repo, 'many-cities.parquet'),
      arrowTable([
        ['city', new Int64(), Array.from({ length: 7000 }, (_, i) => BigInt(i))],
        ['ts', tsUtc, Array.from({ length: 7000 }, () => T0_US)],
        ['rate', new Float64(), Array.from({ length: 7000 }, () => 2)],
      ]),
    );
    writeParquetFile(
      path.join(repo, 'narrow.parquet'),
      arrowTable([
        ['driver_id', new Int32(), [1]],
        ['ts', tsUtc, hours(1)],
        ['rate', new Float64(), [5]],
      ]),
    );
    store = await parquetFilesPlugin.create(
      { type: 'file' },
      { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) },
    );
  });

  after(async () => {
    await store.close();
    rmSync(repo, { recursive: true, force: true });
  });

  const snapshot = (views: FeatureView[], end: Date) =>
    store.getHistoricalFeatures(
      {
        featureViews: views,
        featureRefs: views.map((v) => `${v.name}:rate`),
        project: 'p',
        fullFeatureNames: true,
        startDate: new Date(T0),
        endDate: end,
      },
      callContext(),
    );

  it("each key's latest row across the files of a directory source, keys ordered by that row's time", async () => {
    const result = await collect(await snapshot([drivers], new Date(T0 + 5 * H)));
    expect(String(result.schema.fields[0]!.type)).to.equal('Timestamp<NANOSECOND, UTC>');
    expect(rows(result)).to.deep.equal([
      { event_timestamp: T0 + 5 * H, driver_id: 2, drivers__rate: 23 },
      { event_timestamp: T0 + 5 * H, driver_id: 1, drivers__rate: 14 },
    ]);
  });

  it('refuses an end_date a nanosecond event_timestamp cannot hold (Feast: OutOfBoundsDatetime)', async () => {
    const error = await snapshot([drivers], new Date('9999-01-01T00:00:00Z')).catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.equal(
      'end_date 9999-01-01T00:00:00.000Z is outside the range of nanosecond timestamps (1677-09-21 to 2262-04-11), ' +
        'which the event_timestamp column of the start/end-date mode holds; pass an end_date within it',
    );
  });

  it('refuses views with disjoint join keys whose combinations pass MAX_COMBINATIONS, with the counts', async () => {
    const many = (name: string, key: string) =>
      featureView(name, fileSource(name, `${name}.parquet`, { createdTimestampColumn: '' }), [key], ['rate'], 0);
    const error = await snapshot([many('many-drivers', 'driver_id'), many('many-cities', 'city')], new Date(T0 + H)).catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.equal(
      'Retrieval by start_date/end_date: the feature views have disjoint join keys, and every combination of their keys ' +
        `(8000 driver_id × 7000 city) makes 56000000 rows, more than the ${MAX_COMBINATIONS} allowed; ` +
        'request the views separately or pass an entity_df',
    );
  });

  it('refuses views whose shared join key has different types, naming the key and both types', async () => {
    const error = await snapshot([drivers, narrow], new Date(T0 + 5 * H)).catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.equal(
      'Retrieval by start_date/end_date: join key "driver_id" is Int64 in one feature view and Int32 in "narrow"; request these views separately',
    );
  });
});
