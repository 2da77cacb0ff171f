/**
 * get_historical_features with an entity table, judged by the reference implementation: each
 * check asks at entity rows placed to catch one way of breaking the point-in-time rule.
 */
import type { DataSource, FeatureView } from '../../registry/model.ts';
import { UnimplementedError } from '../../errors.ts';
import { NotImplementedByStore, type Check } from '../check.ts';
import { HOUR, SECOND, T0, cityRows, driverRows, featureView, globalRows, mappedRows } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';
import { kitTable, toArrow, type ColumnKind, type KitTable, type Value } from '../kit-table.ts';
import { expectedHistorical, type ExpectedResult } from '../reference.ts';
import { expectRows } from '../result-rows.ts';
import { isErrorOfClass, readAll } from './common.ts';

/** Sources made for one check, and the rows each was made from (by source name). */
interface Sources {
  readonly drivers: DataSource;
  readonly rows: Map<string, KitTable>;
  city(): Promise<DataSource>;
  global(): Promise<DataSource>;
  mapped(): Promise<DataSource>;
}

async function sources(run: KitRun): Promise<Sources> {
  const prefix = run.prefix();
  const rows = new Map<string, KitTable>();
  const make = async (name: string, table: KitTable, ts: string, created: string) => {
    const source = await run.source(`${prefix}_${name}`, table, ts, created);
    rows.set(source.name, table);
    return source;
  };
  const drivers = await make('drivers', driverRows, 'ts', 'created');
  return {
    drivers,
    rows,
    city: () => make('cities', cityRows, 'ts', ''),
    global: () => make('globals', globalRows, 'ts', ''),
    mapped: async () => ({ ...(await make('mapped', mappedRows, 'event_time', '')), fieldMapping: { id: 'driver_id', raw_rate: 'rate' } }),
  };
}

/** Entity rows of (driver_id, event_timestamp). */
function driverEntities(rows: ReadonlyArray<readonly [number | null, number]>): KitTable {
  return kitTable(
    [
      ['driver_id', 'int64'],
      ['event_timestamp', 'timestamp'],
    ],
    rows,
  );
}

interface Request {
  readonly entities: KitTable;
  readonly views: readonly FeatureView[];
  readonly refs: readonly string[];
  readonly fullFeatureNames?: boolean;
}

/** Asks the store and compares with the reference, row by row in the entity rows' order. */
async function judge(run: KitRun, s: Sources, request: Request): Promise<void> {
  const full = request.fullFeatureNames ?? false;
  const what = `get_historical_features of [${request.refs.join(', ')}]${full ? ' with full feature names' : ''} at ${request.entities.rows.length} entity rows`;
  const expected = expectedHistorical(request.entities, request.views, request.refs, full, s.rows);
  const actual = await run.withStore((store) =>
    readAll(() =>
      store.getHistoricalFeatures(
        {
          featureViews: request.views,
          featureRefs: request.refs,
          project: 'kit',
          fullFeatureNames: full,
          entityTable: toArrow(request.entities),
        },
        callContext(),
      ),
    ),
  );
  expectRows(actual, expected.columns, expected.rows, {
    what,
    ordered: true,
    orderedColumns: true,
    identity: request.entities.columns.map((c) => c.name),
  });
}

function check(run: KitRun, name: string, build: (s: Sources) => Promise<Request> | Request): Check {
  return {
    name,
    async run() {
      const s = await sources(run);
      await judge(run, s, await build(s));
    },
  };
}

const drivers = (s: Sources, ttlSeconds = 3600) => featureView('drivers', s.drivers, ['driver_id'], ['rate', 'trips', 'tier'], ttlSeconds);
const allDriverRefs = ['drivers:rate', 'drivers:trips', 'drivers:tier'];

export function pointInTimeChecks(run: KitRun): Check[] {
  return [
    check(run, 'point-in-time: the latest row at or before the entity timestamp', (s) => ({
      entities: driverEntities([
        [1, T0 + HOUR / 2],
        [1, T0 + HOUR + HOUR / 2],
        [3, T0 + 3 * HOUR], // a row exactly at T is included
        [3, T0 + 3 * HOUR - SECOND], // a row after T is not
        [1, T0 + 2 * HOUR + 30 * SECOND],
      ]),
      views: [drivers(s)],
      refs: allDriverRefs,
    })),
    check(run, 'point-in-time: ttl bounds are inclusive (T − ttl ≤ ts ≤ T) and nothing older matches', (s) => ({
      entities: driverEntities([
        [2, T0 + HOUR], // the row at T0 sits exactly on T − ttl
        [2, T0 + HOUR + SECOND], // one second later it is too old
        [1, T0 + 3 * HOUR],
        [1, T0 + 3 * HOUR + SECOND],
      ]),
      views: [drivers(s)],
      refs: ['drivers:rate', 'drivers:tier'],
    })),
    check(run, 'point-in-time: ttl 0 means no age limit', (s) => ({
      entities: driverEntities([
        [2, T0 + 1000 * HOUR],
        [1, T0 + 500 * HOUR],
      ]),
      views: [drivers(s, 0)],
      refs: allDriverRefs,
    })),
    check(run, 'point-in-time: a timestamp tie goes to the later created timestamp, a null created losing', (s) => ({
      entities: driverEntities([
        [1, T0 + HOUR],
        [1, T0 + HOUR + SECOND],
        [4, T0],
        [4, T0 + HOUR / 2],
      ]),
      views: [drivers(s)],
      refs: allDriverRefs,
    })),
    check(run, 'point-in-time: no match, an unknown key or a null key gives null features', (s) => ({
      entities: driverEntities([
        [1, T0 - SECOND],
        [9, T0],
        [null, T0],
        [5, T0], // matches a row whose features are null
        [2, T0],
      ]),
      views: [drivers(s)],
      refs: allDriverRefs,
    })),
    check(run, 'point-in-time: entity rows keep their order, count and other columns, duplicates included', (s) => {
      const columns: Array<[string, ColumnKind]> = [
        ['event_timestamp', 'timestamp'],
        ['label', 'utf8'],
        ['driver_id', 'int64'],
      ];
      const rows: Value[][] = [
        [T0 + HOUR, 'first', 2],
        [T0 + HOUR, 'second', 1],
        [T0 + HOUR, 'third', 2],
        [T0, 'fourth', 1],
        [T0 + 3 * HOUR, 'fifth', 3],
        [T0, 'sixth', 1],
        [T0 + HOUR, 'seventh', 2],
      ];
      return { entities: kitTable(columns, rows), views: [drivers(s)], refs: ['drivers:trips', 'drivers:rate'] };
    }),
    check(run, 'point-in-time: several views in one request, an entityless one joined to every row', async (s) => {
      const city = featureView('cities', await s.city(), ['city'], ['population'], 0);
      const global = featureView('global', await s.global(), [], ['total'], 0);
      const entities = kitTable(
        [
          ['driver_id', 'int64'],
          ['city', 'utf8'],
          ['event_timestamp', 'timestamp'],
        ],
        [
          [1, 'paris', T0 + HOUR],
          [2, 'rome', T0 + HOUR],
          [1, 'paris', T0 + 2 * HOUR],
          [3, 'oslo', T0 + 3 * HOUR],
          [2, 'rome', T0 - SECOND],
        ],
      );
      return { entities, views: [drivers(s), city, global], refs: ['cities:population', 'drivers:rate', 'global:total', 'drivers:tier'] };
    }),
    check(run, 'point-in-time: full feature names (view__feature)', async (s) => {
      const city = featureView('cities', await s.city(), ['city'], ['population'], 0);
      const entities = kitTable(
        [
          ['driver_id', 'int64'],
          ['city', 'utf8'],
          ['event_timestamp', 'timestamp'],
        ],
        [
          [1, 'paris', T0 + HOUR],
          [2, 'rome', T0 + 2 * HOUR],
        ],
      );
      return { entities, views: [drivers(s), city], refs: ['drivers:rate', 'cities:population', 'drivers:trips'], fullFeatureNames: true };
    }),
    check(run, 'point-in-time: a projection with an alias and a join_key_map, beside the plain view', (s) => {
      const origin = featureView('drivers', s.drivers, ['driver_id'], ['rate', 'trips', 'tier'], 3600, {
        nameAlias: 'origin',
        joinKeyMap: { driver_id: 'origin_id' },
      });
      const entities = kitTable(
        [
          ['driver_id', 'int64'],
          ['origin_id', 'int64'],
          ['event_timestamp', 'timestamp'],
        ],
        [
          [1, 2, T0 + HOUR],
          [2, 1, T0 + HOUR],
          [2, null, T0],
        ],
      );
      return { entities, views: [drivers(s), origin], refs: ['drivers:rate', 'origin:rate', 'origin:tier'], fullFeatureNames: true };
    }),
    check(run, "point-in-time: field_mapping renames source columns to the view's names", async (s) => {
      const mapped = featureView('mapped', await s.mapped(), ['driver_id'], ['rate'], 0);
      return {
        entities: driverEntities([
          [1, T0 + HOUR / 2],
          [1, T0 + HOUR],
          [2, T0 + HOUR],
          [2, T0 - SECOND],
        ]),
        views: [mapped],
        refs: ['mapped:rate'],
      };
    }),
    {
      name: 'point-in-time: the start/end date mode (no entity table) answers by the rule the store declares (dateRangeRule)',
      async run() {
        const s = await sources(run);
        const view = drivers(s);
        const refs = ['drivers:rate', 'drivers:tier'];
        const start = T0 + HOUR;
        const end = T0 + 3 * HOUR;
        const rule = run.target.dateRangeRule ?? 'distinct-key-timestamps';
        let expected: ExpectedResult;
        if (rule === 'source-rows') {
          // Every source row in range as stored, ties included (Feast's postgres store).
          const inRange = driverRows.rows.filter((row) => (row.ts as number) >= start && (row.ts as number) <= end);
          expected = {
            columns: ['event_timestamp', 'created_timestamp', 'driver_id', 'rate', 'tier'],
            rows: inRange.map((r) => ({
              event_timestamp: r.ts ?? null,
              created_timestamp: r.created ?? null,
              driver_id: r.driver_id ?? null,
              rate: r.rate ?? null,
              tier: r.tier ?? null,
            })),
          };
        } else {
          const entities = rule === 'end-date-snapshot' ? snapshotEntities(end, view.ttlSeconds) : rangeEntities(start, end);
          expected = expectedHistorical(entities, [view], refs, false, s.rows);
        }
        const actual = await run.withStore((store) =>
          readAll(() =>
            store.getHistoricalFeatures(
              {
                featureViews: [view],
                featureRefs: refs,
                project: 'kit',
                fullFeatureNames: false,
                startDate: new Date(start),
                endDate: new Date(end),
              },
              callContext(),
            ),
          ).catch((error: unknown) => {
            if (isErrorOfClass(error, UnimplementedError)) {
              throw new NotImplementedByStore(`get_historical_features by start/end date throws UnimplementedError: ${error.message}`);
            }
            throw error;
          }),
        );
        expectRows(actual, expected.columns, expected.rows, {
          what: `get_historical_features of [${refs.join(', ')}] from ${new Date(start).toISOString()} to ${new Date(end).toISOString()}`,
          ordered: false,
          orderedColumns: rule === 'source-rows',
        });
      },
    },
  ];
}

/** Feast's file store: each key with a row in [end − ttl, end], stamped with end. */
function snapshotEntities(end: number, ttlSeconds: number): KitTable {
  const low = ttlSeconds > 0 ? end - ttlSeconds * 1000 : -Infinity;
  const keys = new Set<number>();
  for (const row of driverRows.rows) {
    const ts = row.ts as number;
    if (row.driver_id !== null && ts >= low && ts <= end) keys.add(row.driver_id as number);
  }
  return dateModeEntities([...keys].map((key) => [end, key]));
}

/** Distinct (event_timestamp, join keys) of the source's rows in [start, end]. */
function rangeEntities(start: number, end: number): KitTable {
  const seen = new Set<string>();
  const rows: Value[][] = [];
  for (const row of driverRows.rows) {
    const ts = row.ts as number;
    if (row.driver_id === null || ts < start || ts > end || seen.has(`${ts}/${row.driver_id}`)) continue;
    seen.add(`${ts}/${row.driver_id}`);
    rows.push([ts, row.driver_id]);
  }
  return dateModeEntities(rows);
}

function dateModeEntities(rows: Value[][]): KitTable {
  return kitTable(
    [
      ['event_timestamp', 'timestamp'],
      ['driver_id', 'int64'],
    ],
    rows,
  );
}
