/** The file store's writes on real parquet files: appends, casts, persist and logging. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Float32, Float64, Int64, type RecordBatch, Table, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import plugin from '../../plugins/parquet-files/src/index.ts';
import { InvalidArgumentError, SavedDatasetLocationAlreadyExists } from '../../core/src/errors.ts';
import type { DataSource, FeatureService, FeatureView } from '../../core/src/registry/model.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import { readRowGroups } from '../../plugins/parquet-files/src/parquet-read.ts';
import { fileSource } from '../support/feature-views.ts';
import { arrowTable, callContext, rows, writeParquetFile } from '../support/parquet-fixtures.ts';

const T0 = Date.UTC(2024, 0, 1);

const table = arrowTable;

async function readAll(file: string): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const t of readRowGroups(file)) batches.push(...t.batches);
  return new Table(batches);
}

/** A FileSource named for its `uri`, without a created column. */
const sourceAt = (uri: string): DataSource => fileSource(uri, uri, { createdTimestampColumn: '' });

const viewOn = (uri: string): FeatureView => ({
  kind: 'featureView',
  name: 'stats',
  project: 'p',
  entities: ['driver'],
  features: [],
  entityColumns: [],
  ttlSeconds: 0,
  batchSource: sourceAt(uri),
  tags: {},
  projection: { name: 'stats', nameAlias: null, features: [], joinKeyMap: {}, versionTag: null },
});

describe('parquet-files store: writes', () => {
  let repo: string;
  let store: OfflineStore;
  const usUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  const nsUtc = new Timestamp(TimeUnit.NANOSECOND, 'UTC');

  beforeEach(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-writes-'));
    writeParquetFile(
      path.join(repo, 'stats.parquet'),
      table([
        ['driver_id', new Int64(), [1n]],
        ['ts', usUtc, [BigInt(T0) * 1000n]],
        ['rate', new Float32(), [0.5]],
      ]),
    );
    store = await plugin.create({ type: 'file' }, { repoPath: repo, dataRoots: [], repoConfig: {}, logger: pino({ level: 'silent' }) });
  });

  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it("appends new rows before the old ones, cast to the file's types", async () => {
    const incoming = table([
      ['driver_id', new Int64(), [2n]],
      ['ts', nsUtc, [BigInt(T0 + 3_600_000) * 1_000_000n]],
      ['rate', new Float64(), [0.25]],
    ]);
    await store.offlineWriteBatch({ featureView: viewOn('stats.parquet'), table: incoming }, callContext());
    const result = await readAll(path.join(repo, 'stats.parquet'));
    expect(result.schema.fields.map((f) => String(f.type))).to.deep.equal(['Int64', 'Timestamp<MICROSECOND, UTC>', 'Float32']);
    expect(rows(result)).to.deep.equal([
      { driver_id: 2, ts: T0 + 3_600_000, rate: 0.25 },
      { driver_id: 1, ts: T0, rate: 0.5 },
    ]);
  });

  it("refuses columns in another order with Feast's message, and leaves the file alone", async () => {
    const swapped = table([
      ['ts', usUtc, [0n]],
      ['driver_id', new Int64(), [2n]],
      ['rate', new Float32(), [1]],
    ]);
    const error = await store
      .offlineWriteBatch({ featureView: viewOn('stats.parquet'), table: swapped }, callContext())
      .catch((e: Error) => e);
    expect(error).to.be.instanceOf(InvalidArgumentError);
    expect((error as Error).message).to.match(
      /with the incorrect columns \['ts', 'driver_id', 'rate'\]\. The schema is expected to be .* with the columns \(in this exact order\) to be \['driver_id', 'ts', 'rate'\]\.$/s,
    );
    expect((await readAll(path.join(repo, 'stats.parquet'))).numRows).to.equal(1);
  });

  it('refuses to append to a directory source', async () => {
    mkdirSync(path.join(repo, 'dir'));
    const error = await store
      .offlineWriteBatch({ featureView: viewOn('dir'), table: table([['x', new Int64(), [1n]]]) }, callContext())
      .catch((e: Error) => e);
    expect((error as Error).message).to.match(/is a directory/);
  });

  it('persists a result to a single file, and refuses to overwrite it unless allowed', async () => {
    const result = table([
      ['driver_id', new Int64(), [7n]],
      ['name', new Utf8(), ['x']],
    ]);
    const stream = () => ({
      schema: result.schema,
      batches: (async function* () {
        yield* result.batches;
      })(),
    });
    await store.persist({ result: stream(), destination: sourceAt('saved/out.parquet'), allowOverwrite: false }, callContext());
    expect(rows(await readAll(path.join(repo, 'saved/out.parquet')))).to.deep.equal([{ driver_id: 7, name: 'x' }]);
    const again = await store
      .persist({ result: stream(), destination: sourceAt('saved/out.parquet'), allowOverwrite: false }, callContext())
      .catch((e: Error) => e);
    expect(again).to.be.instanceOf(SavedDatasetLocationAlreadyExists);
    expect((again as Error).message).to.equal('Saved dataset location saved/out.parquet already exists.');
    await store.persist({ result: stream(), destination: sourceAt('saved/out.parquet'), allowOverwrite: true }, callContext());
    await store.persist({ result: stream(), destination: sourceAt('saved/dataset'), allowOverwrite: false }, callContext());
    expect(readdirSync(path.join(repo, 'saved/dataset')).filter((f) => f.endsWith('-0.parquet'))).to.have.length(1);
  });

  it('writes logged rows as new files, partitioned into value directories', async () => {
    const service = (partitionBy: string[]): FeatureService => ({
      name: 'svc',
      project: 'p',
      projections: [],
      tags: {},
      loggingConfig: { sampleRate: 1, destinationKind: 'file', fileDestination: { path: 'logs', s3EndpointOverride: '', partitionBy } },
    });
    const logged = table([
      ['__request_id', new Utf8(), ['a', 'b', 'c']],
      ['day', new Utf8(), ['d1', 'd2', 'd1']],
      ['v', new Int64(), [1n, 2n, 3n]],
    ]);
    await store.writeLoggedFeatures({ featureService: service([]), table: logged }, callContext());
    await store.writeLoggedFeatures({ featureService: service([]), table: logged }, callContext());
    expect(readdirSync(path.join(repo, 'logs')).filter((f) => f.endsWith('.parquet'))).to.have.length(2);
    await store.writeLoggedFeatures({ featureService: service(['day']), table: logged }, callContext());
    expect(existsSync(path.join(repo, 'logs', 'd1')) && existsSync(path.join(repo, 'logs', 'd2'))).to.equal(true);
    const [file] = readdirSync(path.join(repo, 'logs', 'd1'));
    const part = await readAll(path.join(repo, 'logs', 'd1', file!));
    expect(rows(part)).to.deep.equal([
      { __request_id: 'a', v: 1 },
      { __request_id: 'c', v: 3 },
    ]);
  });
});
