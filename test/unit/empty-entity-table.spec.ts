/**
 * An empty entity table (0 rows) through core's handling of null-typed keys
 * (core/src/api/null-key-columns.ts, as get_historical_features runs it) and each store (file,
 * duckdb, postgres on a real cluster), as the Feast client sends it: an empty pandas object column (a string key) arrives with Arrow
 * type null. The answer is 0 rows with the entity columns as uploaded and each feature column
 * with its source's type; a null-typed key column with rows is still refused, naming the column.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bool, DataType, Float32, Float64, Int64, Null, type Table, TimeUnit, Timestamp, Utf8 } from 'apache-arrow';
import { expect } from 'chai';
import pino from 'pino';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';
import postgresPlugin from '../../plugins/postgres/src/index.ts';
import { withNullKeyColumnsSettled } from '../../core/src/api/null-key-columns.ts';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import type { DataSource } from '../../core/src/registry/model.ts';
import type { OfflineStore } from '../../core/src/store.ts';
import type { StoreConformanceTarget } from '../../core/src/testing/index.ts';
import { featureView } from '../support/feature-views.ts';
import { arrowTable, callContext, collect, micros } from '../support/parquet-fixtures.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { parquetTarget, postgresTarget } from '../support/store-targets.ts';

const T0 = Date.UTC(2024, 0, 1);
const tsUtc = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
const tsNs = new Timestamp(TimeUnit.NANOSECOND, 'UTC');

/** Sources of both key kinds: an int64 key with float/int features, a string key with string/bool/float64 ones. */
const drivers = arrowTable([
  ['driver_id', new Int64(), [1n, 2n]],
  ['ts', tsUtc, [micros(T0), micros(T0)]],
  ['created', tsUtc, [micros(T0), micros(T0)]],
  ['rate', new Float32(), [0.5, 1.5]],
  ['trips', new Int64(), [3n, 4n]],
]);
const customers = arrowTable([
  ['customer_id', new Utf8(), ['C1', 'C2']],
  ['ts', tsUtc, [micros(T0), micros(T0)]],
  ['segment', new Utf8(), ['a', 'b']],
  ['premium', new Bool(), [true, false]],
  ['balance', new Float64(), [1.25, 2.5]],
]);

const fieldsOf = (table: Table) => table.schema.fields.map((f) => [f.name, String(f.type)]);

const targets: Array<[string, (pg: () => PostgresServer) => StoreConformanceTarget]> = [
  ['file', () => parquetTarget(parquetFilesPlugin, { type: 'file' })],
  ['duckdb', () => parquetTarget(duckdbPlugin, { type: 'duckdb' })],
  ['postgres', (pg) => postgresTarget(postgresPlugin, pg())],
];

for (const [storeType, makeTarget] of targets)
  describe(`an empty entity table (${storeType} store)`, function () {
    this.timeout(120_000);
    let pg: PostgresServer | undefined;
    let repo: string;
    let target: StoreConformanceTarget;
    let store: OfflineStore;
    let driverSource: DataSource;
    let customerSource: DataSource;

    before(async () => {
      if (storeType === 'postgres') pg = await startPostgres();
      repo = mkdtempSync(path.join(tmpdir(), 'larder-empty-entities-'));
      target = makeTarget(() => pg!);
      driverSource = await target.createSource('ee_drivers', drivers, {
        timestampField: 'ts',
        createdTimestampColumn: 'created',
        repoPath: repo,
      });
      customerSource = await target.createSource('ee_customers', customers, {
        timestampField: 'ts',
        createdTimestampColumn: '',
        repoPath: repo,
      });
      store = await target.plugin.create(target.storeConfig as never, {
        repoPath: repo,
        dataRoots: [],
        repoConfig: {},
        logger: pino({ level: 'silent' }),
      });
    });

    after(async () => {
      try {
        await store?.close();
        await target?.cleanup?.();
      } finally {
        rmSync(repo, { recursive: true, force: true });
        await pg?.stop();
      }
    });

    const driverView = () => featureView('drivers', driverSource, ['driver_id'], ['rate', 'trips'], 3600);
    // A string key: its entity's registry type is STRING (ValueType 2).
    const customerView = () => ({
      ...featureView('customers', customerSource, ['customer_id'], ['segment', 'premium', 'balance'], 0),
      entityColumns: [{ name: 'customer_id', valueType: 2, tags: {} }],
    });

    async function retrieve(entities: Table, refs: string[], fullFeatureNames = false): Promise<Table> {
      const featureViews = [driverView(), customerView()].filter((v) => refs.some((r) => r.startsWith(`${v.name}:`)));
      return collect(
        await withNullKeyColumnsSettled(entities, featureViews, (entityTable) =>
          store.getHistoricalFeatures({ featureViews, featureRefs: refs, project: 'p', fullFeatureNames, entityTable }, callContext()),
        ),
      );
    }

    /** The store's schema for the same request at one entity row with typed keys: what 0 rows must look like too. */
    async function oneRowFields(columns: Array<[string, DataType]>, refs: string[], fullFeatureNames = false) {
      const one = arrowTable(
        columns.map(([name, type]) => [
          name,
          type,
          [DataType.isInt(type) ? 1n : DataType.isTimestamp(type) ? BigInt(T0) * 1_000_000n : 'x'],
        ]),
      );
      return fieldsOf(await retrieve(one, refs, fullFeatureNames));
    }

    it('answers 0 rows with an int64 key: the entity columns as uploaded, the features with their source types', async () => {
      const entities = arrowTable([
        ['driver_id', new Int64(), []],
        ['event_timestamp', tsNs, []],
      ]);
      const result = await retrieve(entities, ['drivers:rate', 'drivers:trips']);
      expect(result.numRows).to.equal(0);
      expect(fieldsOf(result).slice(2)).to.deep.equal([
        ['rate', 'Float32'],
        ['trips', 'Int64'],
      ]);
      expect(fieldsOf(result)).to.deep.equal(
        await oneRowFields(
          [
            ['driver_id', new Int64()],
            ['event_timestamp', tsNs],
          ],
          ['drivers:rate', 'drivers:trips'],
        ),
      );
    });

    it('answers 0 rows with a null-typed string key (an empty pandas object column), full feature names', async () => {
      const entities = arrowTable([
        ['customer_id', new Null(), []],
        ['event_timestamp', tsNs, []],
      ]);
      const result = await retrieve(entities, ['customers:segment', 'customers:premium', 'customers:balance'], true);
      expect(result.numRows).to.equal(0);
      const typed = await oneRowFields(
        [
          ['customer_id', new Utf8()],
          ['event_timestamp', tsNs],
        ],
        ['customers:segment', 'customers:premium', 'customers:balance'],
        true,
      );
      expect(fieldsOf(result)).to.deep.equal([['customer_id', 'Null'], ...typed.slice(1)]);
      expect(typed.slice(2)).to.deep.equal([
        ['customers__segment', 'Utf8'],
        ['customers__premium', 'Bool'],
        ['customers__balance', 'Float64'],
      ]);
    });

    it('answers 0 rows for two views, a null-typed key, and extra null-typed columns passed through in place', async () => {
      const entities = arrowTable([
        ['driver_id', new Int64(), []],
        ['note', new Null(), []],
        ['customer_id', new Null(), []],
        ['event_timestamp', tsNs, []],
      ]);
      const result = await retrieve(entities, ['drivers:rate', 'customers:segment']);
      expect(result.numRows).to.equal(0);
      expect(fieldsOf(result).map(([name]) => name)).to.deep.equal([
        'driver_id',
        'note',
        'customer_id',
        'event_timestamp',
        'rate',
        'segment',
      ]);
      expect(fieldsOf(result).slice(1, 3)).to.deep.equal([
        ['note', 'Null'],
        ['customer_id', 'Null'],
      ]);
      expect(fieldsOf(result).slice(4)).to.deep.equal([
        ['rate', 'Float32'],
        ['segment', 'Utf8'],
      ]);
    });

    it('refuses a null-typed join key column that has rows, naming the column and the view', async () => {
      const entities = arrowTable([
        ['customer_id', new Null(), [null]],
        ['event_timestamp', tsNs, [BigInt(T0) * 1_000_000n]],
      ]);
      const error = await retrieve(entities, ['customers:segment']).catch((e: Error) => e);
      expect(error).to.be.instanceOf(InvalidArgumentError);
      expect((error as Error).message).to.contain('Entity column "customer_id" (a join key of feature view customers) has Arrow type null');
    });
  });
