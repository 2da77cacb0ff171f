/**
 * The writes, where the store implements them: offline_write_batch (rows appended to a view's
 * source), persist (a retrieval saved as a dataset) and write_logged_features (a feature
 * service's logs). Each is read back through the store's own pull_all_from_table_or_query.
 */
import { SavedDatasetLocationAlreadyExists } from '../../errors.ts';
import type { DataSource, FeatureService } from '../../registry/model.ts';
import type { OfflineStore } from '../../store.ts';
import { NotImplementedByStore, type Check } from '../check.ts';
import { HOUR, T0, driverRows, featureView } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';
import { kitTable, toArrow, type KitTable } from '../kit-table.ts';
import { expectedHistorical, expectedPullAll } from '../reference.ts';
import { expectRows } from '../result-rows.ts';
import { callOptional, expectFailure, readAll, release } from './common.ts';

/** Rows written by offline_write_batch: a newer version of driver 1, and a new driver. */
const written: KitTable = kitTable(
  driverRows.columns.map((c) => [c.name, c.kind] as const),
  [
    [1, T0 + 5 * HOUR, T0 + 5 * HOUR, 50.5, 50, 'new'],
    [6, T0 + HOUR, T0 + HOUR, 60.5, 60, 'six'],
  ],
);

const everyRow = (source: DataSource, keys: string[], features: string[], timestampField: string, created: string | null) => ({
  source,
  joinKeyColumns: keys,
  featureNameColumns: features,
  timestampField,
  createdTimestampColumn: created,
  startDate: null,
  endDate: null,
});

/**
 * Retrieves the drivers view of `source` (holding `driverRows`) at `at` and persists the result to `destination`
 * (the result is released if persist fails); returns what the saved dataset must hold.
 */
async function persistRetrieval(store: OfflineStore, source: DataSource, destination: DataSource, at: number, allowOverwrite: boolean) {
  const view = featureView('drivers', source, ['driver_id'], ['rate'], 0);
  const { entities, refs } = retrieval(at);
  const result = await store.getHistoricalFeatures(
    { featureViews: [view], featureRefs: refs, project: 'kit', fullFeatureNames: false, entityTable: toArrow(entities) },
    callContext(),
  );
  await callOptional(store, 'persist', () => store.persist({ result, destination, allowOverwrite }, callContext())).catch(
    async (error: unknown) => {
      await release(result).catch(() => undefined);
      throw error;
    },
  );
  return expectedHistorical(entities, [view], refs, false, new Map([[source.name, driverRows]]));
}

async function pullAllOf(store: OfflineStore, req: ReturnType<typeof everyRow>) {
  return readAll(() => store.pullAllFromTableOrQuery(req, callContext()));
}

/** The retrieval a persist check saves: three entity rows of the drivers view. */
function retrieval(at: number) {
  const entities = kitTable(
    [
      ['driver_id', 'int64'],
      ['event_timestamp', 'timestamp'],
    ],
    [
      [1, at],
      [2, at],
      [4, at],
    ],
  );
  return { entities, refs: ['drivers:rate'] };
}

export function writeChecks(run: KitRun): Check[] {
  const destinationOptions = async () => ({ repoPath: await run.repoPath() });
  return [
    {
      name: 'offline_write_batch: appended rows are read back by pull_all and by get_historical_features',
      async run() {
        const source = await run.source(`${run.prefix()}_written`, driverRows, 'ts', 'created');
        const view = featureView('drivers', source, ['driver_id'], ['rate', 'trips', 'tier'], 0);
        await run.withStore(async (store) => {
          await callOptional(store, 'offlineWriteBatch', () =>
            store.offlineWriteBatch({ featureView: view, table: toArrow(written) }, callContext()),
          );
          const all = { columns: driverRows.columns, rows: [...driverRows.rows, ...written.rows] };
          const req = everyRow(source, ['driver_id'], ['rate', 'trips', 'tier'], 'ts', 'created');
          const expected = expectedPullAll(all, req);
          expectRows(await pullAllOf(store, req), expected.columns, expected.rows, {
            what: 'pull_all_from_table_or_query after offline_write_batch of 2 rows',
            ordered: false,
            orderedColumns: false,
          });
          const entities = kitTable(
            [
              ['driver_id', 'int64'],
              ['event_timestamp', 'timestamp'],
            ],
            [
              [1, T0 + 6 * HOUR],
              [6, T0 + HOUR],
              [2, T0 + HOUR],
            ],
          );
          const refs = ['drivers:rate', 'drivers:tier'];
          const want = expectedHistorical(entities, [view], refs, false, new Map([[source.name, all]]));
          const got = await readAll(() =>
            store.getHistoricalFeatures(
              { featureViews: [view], featureRefs: refs, project: 'kit', fullFeatureNames: false, entityTable: toArrow(entities) },
              callContext(),
            ),
          );
          expectRows(got, want.columns, want.rows, {
            what: 'get_historical_features after offline_write_batch',
            ordered: true,
            orderedColumns: true,
          });
        });
      },
    },
    {
      name: 'persist: a retrieval is saved as a dataset and reads back',
      async run() {
        const make = run.target.savedDatasetDestination?.bind(run.target);
        if (!make) throw new NotImplementedByStore('the target gives no savedDatasetDestination()');
        const prefix = run.prefix();
        const source = await run.source(`${prefix}_drivers`, driverRows, 'ts', 'created');
        const destination = await make(`${prefix}_saved`, 'event_timestamp', await destinationOptions());
        await run.withStore(async (store) => {
          const want = await persistRetrieval(store, source, destination, T0 + HOUR, false);
          const saved = await pullAllOf(store, everyRow(destination, ['driver_id'], ['rate'], 'event_timestamp', null));
          expectRows(saved, want.columns, want.rows, {
            what: 'pull_all_from_table_or_query of the persisted dataset',
            ordered: false,
            orderedColumns: false,
          });
        });
      },
    },
    {
      name: 'persist: an existing dataset is refused (SavedDatasetLocationAlreadyExists) unless allow_overwrite, which replaces it',
      async run() {
        const make = run.target.savedDatasetDestination?.bind(run.target);
        if (!make) throw new NotImplementedByStore('the target gives no savedDatasetDestination()');
        const prefix = run.prefix();
        const source = await run.source(`${prefix}_drivers`, driverRows, 'ts', 'created');
        const destination = await make(`${prefix}_saved`, 'event_timestamp', await destinationOptions());
        await run.withStore(async (store) => {
          const persistAt = (at: number, allowOverwrite: boolean) => persistRetrieval(store, source, destination, at, allowOverwrite);
          await persistAt(T0, false);
          await expectFailure('persist to an existing dataset without allow_overwrite', SavedDatasetLocationAlreadyExists, () =>
            persistAt(T0 + HOUR, false),
          );
          const want = await persistAt(T0 + 2 * HOUR, true);
          const saved = await pullAllOf(store, everyRow(destination, ['driver_id'], ['rate'], 'event_timestamp', null));
          expectRows(saved, want.columns, want.rows, {
            what: 'pull_all_from_table_or_query of a dataset persisted again with allow_overwrite (it must hold the new rows only)',
            ordered: false,
            orderedColumns: false,
          });
        });
      },
    },
    {
      name: 'write_logged_features: logged rows read back, a second write appending',
      async run() {
        const make = run.target.loggingDestination?.bind(run.target);
        if (!make) throw new NotImplementedByStore('the target gives no loggingDestination()');
        const prefix = run.prefix();
        const destination = await make(`${prefix}_log`, await destinationOptions());
        const source = await run.source(`${prefix}_drivers`, driverRows, 'ts', 'created');
        const view = featureView('drivers', source, ['driver_id'], ['rate'], 0);
        const service: FeatureService = {
          name: `${prefix}_service`,
          project: 'kit',
          projections: [view.projection],
          loggingConfig: destination.loggingConfig,
          tags: {},
        };
        const columns = [
          ['driver_id', 'int64'],
          ['drivers__rate', 'float64'],
          ['__log_timestamp', 'timestamp'],
          ['__request_id', 'utf8'],
        ] as const;
        const first = kitTable(columns, [
          [1, 3.5, T0 + HOUR, 'r1'],
          [2, null, T0 + HOUR, 'r1'],
        ]);
        const second = kitTable(columns, [[4, 40.5, T0 + 2 * HOUR, 'r2']]);
        await run.withStore(async (store) => {
          for (const rows of [first, second]) {
            await callOptional(store, 'writeLoggedFeatures', () =>
              store.writeLoggedFeatures({ featureService: service, table: toArrow(rows) }, callContext()),
            );
          }
          const req = everyRow(
            destination.source('__log_timestamp'),
            ['driver_id'],
            ['drivers__rate', '__request_id'],
            '__log_timestamp',
            null,
          );
          const want = expectedPullAll({ columns: first.columns, rows: [...first.rows, ...second.rows] }, req);
          expectRows(await pullAllOf(store, req), want.columns, want.rows, {
            what: 'pull_all_from_table_or_query of the logged rows',
            ordered: false,
            orderedColumns: false,
          });
        });
      },
    },
  ];
}
