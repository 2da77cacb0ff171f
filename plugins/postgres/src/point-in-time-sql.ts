/**
 * The point-in-time rule of DESIGN.md as one PostgreSQL query over a relation of entity rows.
 *
 * The entity relation has `__row` (the row's position), `__ts` (its event timestamp, timestamptz)
 * and the join key columns. Per view, each entity row is joined to its source rows with the same
 * keys and `T − ttl ≤ ts ≤ T`, and DISTINCT ON keeps the greatest by (ts, created with nulls
 * lowest, physical row order for tables). Every entity row then gets each view's features by a
 * LEFT JOIN on `__row`, so rows without a match keep null features and the output keeps the
 * entity rows' order.
 */
import { InvalidArgumentError, nameToUse, type FeatureView } from '@larder/core';
import { PG_OID } from './pg-types.ts';
import type { Session } from './session.ts';
import { describeSource, rawColumns, type SourceTable } from './sources.ts';
import { ident, interval } from './sql.ts';

/** One requested view, resolved against its source's columns. */
export interface ViewQuery {
  readonly view: FeatureView;
  readonly table: SourceTable;
  readonly timestampColumn: string;
  readonly createdColumn: string | null;
  /** Raw source columns of the view's join keys, and the entity columns they match. */
  readonly keyColumns: readonly string[];
  readonly entityKeyNames: readonly string[];
  readonly featureColumns: readonly string[];
  readonly outputNames: readonly string[];
}

export async function planViewQuery(session: Session, view: FeatureView, features: readonly string[], fullFeatureNames: boolean): Promise<ViewQuery> {
  const source = view.batchSource;
  if (!source) throw new InvalidArgumentError(`Feature view '${view.name}' has no batch_source and cannot be used for offline retrieval.`);
  const table = await describeSource(session, source);
  const what = `Feature view ${view.name}`;
  const [timestampColumn] = rawColumns(table, [source.timestampField], what);
  const createdColumn = source.createdTimestampColumn ? rawColumns(table, [source.createdTimestampColumn], what)[0]! : null;
  const keyColumns = rawColumns(table, view.entityColumns.map((c) => c.name), what);
  const entityKeyNames = view.entityColumns.map((c) => view.projection.joinKeyMap[c.name] ?? c.name);
  const featureColumns = rawColumns(table, features, what);
  const prefix = nameToUse(view.projection);
  const outputNames = features.map((f) => (fullFeatureNames ? `${prefix}__${f}` : f));
  return { view, table, timestampColumn: timestampColumn!, createdColumn, keyColumns, entityKeyNames, featureColumns, outputNames };
}

export type Family = 'number' | 'string' | 'bool' | 'other';

const FAMILY = new Map<number, Family>([
  [PG_OID.int2, 'number'], [PG_OID.int4, 'number'], [PG_OID.int8, 'number'], [PG_OID.float4, 'number'],
  [PG_OID.float8, 'number'], [PG_OID.numeric, 'number'],
  [PG_OID.text, 'string'], [PG_OID.varchar, 'string'], [PG_OID.bpchar, 'string'], [PG_OID.name, 'string'],
  [PG_OID.bool, 'bool'],
]);

export function familyOfOid(oid: number): Family {
  return FAMILY.get(oid) ?? 'other';
}

/** How the entity relation holds each join key: entity column name → its SQL column and kind. */
export type EntityKeys = ReadonlyMap<string, { readonly column: string; readonly family: Family; readonly type: string }>;

/** Refuses join keys the entity rows lack or whose kind of value cannot equal the source's. */
export function checkJoinKeys(query: ViewQuery, keys: EntityKeys): void {
  query.entityKeyNames.forEach((name, i) => {
    const key = keys.get(name);
    if (!key) {
      throw new InvalidArgumentError(`The entity dataframe has no column "${name}", the join key of feature view ${query.view.name}`);
    }
    const sourceOid = query.table.columns.get(query.keyColumns[i]!)!;
    if (familyOfOid(sourceOid) !== key.family || key.family === 'other') {
      throw new InvalidArgumentError(
        `Join key "${name}" of feature view ${query.view.name} cannot be matched: the entity dataframe has ${key.type}, the source ${query.table.label} has PostgreSQL type oid ${sourceOid}`,
      );
    }
  });
}

/**
 * The query returning, for every row of `entities` (a relation aliased `e`) in `__row` order, the
 * `leading` expressions over `e` and then each view's features under their output names. `ctes`
 * come first in the WITH clause (e.g. the entity relation itself).
 */
export function pointInTimeQuery(
  views: readonly ViewQuery[],
  keys: EntityKeys,
  entities: string,
  options: { readonly leading?: readonly string[]; readonly ctes?: readonly string[] } = {},
): string {
  const leading = options.leading ?? [];
  const best = [...(options.ctes ?? []), ...views.map((q, v) => `b${v} AS (${bestRows(q, keys, entities)})`)];
  const joins = views.map((_, v) => `LEFT JOIN b${v} ON b${v}.__row = e.__row`);
  const outputs = views.flatMap((q, v) => q.outputNames.map((name, f) => `b${v}.f${f} AS ${ident(name)}`));
  return [
    `WITH ${best.join(',\n')}`,
    `SELECT ${[...leading, ...outputs].join(', ')}`,
    `FROM ${entities} e`,
    ...joins,
    'ORDER BY e.__row',
  ].join('\n');
}

/** Per entity row, the view's best source row within [T − ttl, T], carrying the features. */
function bestRows(q: ViewQuery, keys: EntityKeys, entities: string): string {
  const ts = `s.${ident(q.timestampColumn)}`;
  const on = [
    ...q.entityKeyNames.map((name, i) => `s.${ident(q.keyColumns[i]!)} = e.${ident(keys.get(name)!.column)}`),
    `${ts} <= e.__ts`,
    ...(q.view.ttlSeconds > 0 ? [`${ts} >= e.__ts - ${interval(q.view.ttlSeconds)}`] : []),
  ];
  const order = [
    'e.__row',
    `${ts} DESC`,
    ...(q.createdColumn ? [`s.${ident(q.createdColumn)} DESC NULLS LAST`] : []),
    ...(q.table.isTable ? ['s.ctid DESC'] : []),
  ];
  const features = q.featureColumns.map((raw, f) => `s.${ident(raw)} AS f${f}`);
  return [
    `SELECT DISTINCT ON (e.__row) ${['e.__row', ...features].join(', ')}`,
    `FROM ${entities} e JOIN ${q.table.from} AS s ON ${on.join(' AND ')}`,
    `ORDER BY ${order.join(', ')}`,
  ].join(' ');
}
