/**
 * The kit's data and registry objects. Each row is placed to catch one mistake: a timestamp tie
 * whose later created timestamp comes first in the source (so "the last row" is wrong), a null
 * created that must lose a tie, rows exactly on a ttl bound, a null join key, a row after the
 * entity timestamp, null feature values.
 */
import type { DataSource, FeatureView, FeatureViewProjection, Field } from '../registry/model.ts';
import { kitTable, type KitTable } from './kit-table.ts';

export const T0 = Date.UTC(2024, 0, 1);
export const SECOND = 1000;
export const HOUR = 3_600_000;

/** Feast's ValueType numbers of the kit's columns. */
const VALUE_TYPE = { string: 2, int64: 4, double: 5 } as const;

/** driver_id, ts, created, rate, trips, tier — read by the `drivers` views. */
export const driverRows: KitTable = kitTable(
  [
    ['driver_id', 'int64'],
    ['ts', 'timestamp'],
    ['created', 'timestamp'],
    ['rate', 'float64'],
    ['trips', 'int64'],
    ['tier', 'utf8'],
  ],
  [
    [1, T0, T0, 1.5, 10, 'a'],
    // A tie at T0+1h: the later created (rate 3) comes first, so taking the last row is wrong.
    [1, T0 + HOUR, T0 + 10 * SECOND, 3.5, 12, 'c'],
    [1, T0 + HOUR, T0 + 5 * SECOND, 2.5, 11, 'b'],
    // The only row at T0+2h: a null created does not stop it from matching.
    [1, T0 + 2 * HOUR, null, 4.5, 13, 'd'],
    [2, T0, T0, 20.5, 20, 'e'],
    [null, T0, T0, 99.5, 99, 'z'],
    [3, T0 + 3 * HOUR, T0 + 3 * HOUR, 30.5, 30, 'f'],
    // A tie at T0 whose second row has a null created: the null loses.
    [4, T0, T0, 40.5, 40, 'g'],
    [4, T0, null, 41.5, 41, 'h'],
    // A matching row whose features are null.
    [5, T0, T0, null, null, null],
  ],
);

/** city, ts, population — no created column. */
export const cityRows: KitTable = kitTable(
  [
    ['city', 'utf8'],
    ['ts', 'timestamp'],
    ['population', 'int64'],
  ],
  [
    ['paris', T0, 100],
    ['paris', T0 + 2 * HOUR, 200],
    ['rome', T0 + HOUR, 300],
  ],
);

/** ts, total — an entityless view's source, no created column. */
export const globalRows: KitTable = kitTable(
  [
    ['ts', 'timestamp'],
    ['total', 'float64'],
  ],
  [
    [T0, 1000.25],
    [T0 + 2 * HOUR, 2000.25],
  ],
);

/** id, event_time, raw_rate — a source read through field_mapping (id → driver_id, raw_rate → rate). */
export const mappedRows: KitTable = kitTable(
  [
    ['id', 'int64'],
    ['event_time', 'timestamp'],
    ['raw_rate', 'float64'],
  ],
  [
    [1, T0, 7.25],
    [1, T0 + HOUR, 8.25],
    [2, T0, 9.25],
  ],
);

const field = (name: string, valueType: number): Field => ({ name, valueType, tags: {} });

const featureTypes: Record<string, number> = {
  rate: VALUE_TYPE.double,
  trips: VALUE_TYPE.int64,
  tier: VALUE_TYPE.string,
  population: VALUE_TYPE.int64,
  total: VALUE_TYPE.double,
};
const keyTypes: Record<string, number> = { driver_id: VALUE_TYPE.int64, city: VALUE_TYPE.string };

/**
 * A FeatureView as core hands it to a store: registered in project `kit`, its projection the
 * default one unless `projection` overrides it, dummies already removed for an entityless view.
 */
export function featureView(
  name: string,
  source: DataSource,
  keys: readonly string[],
  features: readonly string[],
  ttlSeconds: number,
  projection: Partial<Pick<FeatureViewProjection, 'nameAlias' | 'joinKeyMap'>> = {},
): FeatureView {
  const fields = features.map((f) => field(f, featureTypes[f] ?? VALUE_TYPE.double));
  return {
    kind: 'featureView',
    name,
    project: 'kit',
    entities: [...keys],
    features: fields,
    entityColumns: keys.map((k) => field(k, keyTypes[k] ?? VALUE_TYPE.int64)),
    ttlSeconds,
    batchSource: source,
    tags: {},
    projection: { name, nameAlias: null, features: fields, joinKeyMap: {}, versionTag: null, ...projection },
  };
}
