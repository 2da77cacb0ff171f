/**
 * Failures a client causes, reported with the error class Feast's client re-raises: a store
 * throws these (from @larder/core) rather than a driver's own error, which would reach the client
 * as an opaque INTERNAL.
 */
import { EntityTimestampInferenceException, FeastJoinKeysDuringMaterialization, MissingColumnError } from '../../errors.ts';
import type { Check } from '../check.ts';
import { T0, driverRows, featureView } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';
import { kitTable, toArrow } from '../kit-table.ts';
import { expectFailure, readAll } from './common.ts';

const pullOf = (source: Parameters<typeof featureView>[1], keys: string[], features: string[]) => ({
  source,
  joinKeyColumns: keys,
  featureNameColumns: features,
  timestampField: 'ts',
  createdTimestampColumn: 'created',
  startDate: new Date(T0),
  endDate: new Date(T0 + 86_400_000),
});

export function errorChecks(run: KitRun): Check[] {
  const drivers = () => run.source(`${run.prefix()}_drivers`, driverRows, 'ts', 'created');
  return [
    {
      name: 'errors: a feature the source has no column for → MissingColumnError',
      async run() {
        const source = await drivers();
        const view = featureView('drivers', source, ['driver_id'], ['rate', 'speed'], 0);
        const entities = toArrow(
          kitTable(
            [
              ['driver_id', 'int64'],
              ['event_timestamp', 'timestamp'],
            ],
            [[1, T0]],
          ),
        );
        await run.withStore((store) =>
          expectFailure('get_historical_features of drivers:speed (no such column in the source)', MissingColumnError, () =>
            readAll(() =>
              store.getHistoricalFeatures(
                { featureViews: [view], featureRefs: ['drivers:speed'], project: 'kit', fullFeatureNames: false, entityTable: entities },
                callContext(),
              ),
            ),
          ),
        );
      },
    },
    {
      name: 'errors: a pulled column the source does not have → MissingColumnError',
      async run() {
        const source = await drivers();
        await run.withStore(async (store) => {
          for (const kind of ['latest', 'all'] as const) {
            const req = pullOf(source, ['driver_id'], ['rate', 'speed']);
            await expectFailure(`pull_${kind}_from_table_or_query of column "speed" (no such column)`, MissingColumnError, () =>
              readAll(() =>
                kind === 'latest'
                  ? store.pullLatestFromTableOrQuery(req, callContext())
                  : store.pullAllFromTableOrQuery(req, callContext()),
              ),
            );
          }
        });
      },
    },
    {
      name: 'errors: a pull whose join key the source lacks → FeastJoinKeysDuringMaterialization',
      async run() {
        const source = await drivers();
        await run.withStore((store) =>
          expectFailure(
            'pull_latest_from_table_or_query with join key "vehicle_id" (no such column)',
            FeastJoinKeysDuringMaterialization,
            () => readAll(() => store.pullLatestFromTableOrQuery(pullOf(source, ['vehicle_id'], ['rate']), callContext())),
          ),
        );
      },
    },
    {
      name: 'errors: an entity table without a timestamp column → EntityTimestampInferenceException',
      async run() {
        const source = await drivers();
        const view = featureView('drivers', source, ['driver_id'], ['rate'], 0);
        const entities = toArrow(
          kitTable(
            [
              ['driver_id', 'int64'],
              ['label', 'utf8'],
            ],
            [[1, 'x']],
          ),
        );
        await run.withStore((store) =>
          expectFailure('get_historical_features with entity columns [driver_id, label]', EntityTimestampInferenceException, () =>
            readAll(() =>
              store.getHistoricalFeatures(
                { featureViews: [view], featureRefs: ['drivers:rate'], project: 'kit', fullFeatureNames: false, entityTable: entities },
                callContext(),
              ),
            ),
          ),
        );
      },
    },
  ];
}
