/**
 * get_historical_features in PostgreSQL, in its three modes.
 *
 * - An uploaded entity table: its join keys and timestamps go into a temporary table by binary
 *   COPY; PostgreSQL answers the features of every entity row in row order, and each output
 *   batch is the uploaded entity columns (as sent) beside the next rows of the streamed result.
 * - `entity_df_sql`: the query is materialized as a CTE of the same single, read-only statement,
 *   and its columns lead the output.
 * - start/end dates, as Feast's postgres store answers them (docs/date-range-retrieval.md): one view
 *   gives every source row in the range as stored (sourceRowsInRange); several views give each
 *   distinct (event timestamp, join keys) of their sources in the range, ordered by timestamp
 *   then keys, with each view's features point-in-time joined to it.
 *
 * The point-in-time query itself always runs in a READ ONLY transaction.
 */
import {
  EntityTimestampInferenceException,
  InvalidArgumentError,
  dateRange,
  entityTimestampColumn,
  ownedBatches,
  recordBatch,
  requestedFeaturesByView,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import { Field, Schema, type RecordBatch, type Table } from 'apache-arrow';
import { schemaForColumns, type PgColumn } from './copy-binary-decoder.ts';
import { ENTITY_TABLE, uploadEntities } from './entity-upload.ts';
import { entityColumn, entityFields } from './naive-timestamps.ts';
import { pgTypeNameForOid } from './pg-types.ts';
import { checkJoinKeys, familyOfOid, planViewQuery, pointInTimeQuery, type EntityKeys, type ViewQuery } from './point-in-time-sql.ts';
import type { Session } from './session.ts';
import { guardEntitySql } from './sql-guard.ts';
import { TIME_OIDS } from './sources.ts';
import { groupBySource } from './source-groups.ts';
import { chooseStrategies, type StrategySetting } from './strategy.ts';
import { ident, timestamptz } from './sql.ts';

const WHAT = 'get_historical_features';
const ENTITY_ROWS = '__larder_entity_rows';

async function planViews(session: Session, req: HistoricalFeaturesRequest): Promise<ViewQuery[]> {
  const queries: ViewQuery[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    queries.push(await planViewQuery(session, view, features, req.fullFeatureNames));
  }
  if (queries.length === 0) throw new InvalidArgumentError('get_historical_features needs at least one feature view');
  return queries;
}

/**
 * The point-in-time query over `entities`: one match per source group, each in the formulation
 * `strategy` picks for it (`entityRows` null when their number is not known up front).
 */
async function featuresQuery(
  session: Session,
  views: readonly ViewQuery[],
  keys: EntityKeys,
  entities: string,
  entityRows: number | null,
  strategy: StrategySetting,
  extra: { readonly leading?: readonly string[]; readonly ctes?: readonly string[] } = {},
): Promise<string> {
  const groups = groupBySource(views);
  // A group's views share relation and keys, so its first view speaks for the statistics.
  const strategies = await chooseStrategies(
    session,
    groups.map((g) => g.first),
    entityRows,
    strategy,
  );
  return pointInTimeQuery(views, groups, keys, entities, { ...extra, strategies });
}

export async function historicalFromEntityTable(
  session: Session,
  entities: Table,
  req: HistoricalFeaturesRequest,
  strategy: StrategySetting,
): Promise<ResultStream> {
  const timestampColumn = entityTimestampColumn(entities.schema);
  // Writable until the entity table is in; read-only from then on.
  await session.begin(false);
  const views = await planViews(session, req);
  const keyNames = [...new Set(views.flatMap((v) => v.entityKeyNames))].filter((n) => entities.schema.fields.some((f) => f.name === n));
  const keys = await uploadEntities(session, entities, timestampColumn, keyNames);
  views.forEach((v) => checkJoinKeys(v, keys));
  await session.run('SET TRANSACTION READ ONLY', 'making the transaction read-only');

  const sql = await featuresQuery(session, views, keys, ENTITY_TABLE, entities.numRows, strategy);
  const columns = await session.describe(sql, WHAT);
  const schema = new Schema([...entityFields(entities.schema), ...schemaForColumns(columns).fields]);
  return { schema, numRows: entities.numRows, batches: besideEntities(schema, entities, session.stream(sql, columns, WHAT)) };
}

/**
 * Output batches: the entity rows as uploaded (timestamps as Feast's postgres store types them),
 * beside the feature rows PostgreSQL streams for them (one per entity row, in order). Each batch
 * is cut where either side's batch ends, so nothing else is copied.
 */
function besideEntities(schema: Schema, entities: Table, features: AsyncIterable<RecordBatch>): AsyncIterable<RecordBatch> {
  const source = features[Symbol.asyncIterator]();
  return ownedBatches(
    async function* () {
      let current: RecordBatch | null = null;
      let position = 0;
      for (const batch of entities.batches) {
        let start = 0;
        while (start < batch.numRows) {
          if (!current || position >= current.numRows) {
            const step = await source.next();
            if (step.done) throw new Error(`PostgreSQL returned fewer feature rows than the ${entities.numRows} entity rows`);
            [current, position] = [step.value, 0];
            continue;
          }
          const n = Math.min(batch.numRows - start, current.numRows - position);
          const left = batch.slice(start, start + n);
          const right = current.slice(position, position + n);
          const columns = [
            ...left.schema.fields.map((_, i) => entityColumn(left.getChildAt(i)!.data[0]!)),
            ...right.schema.fields.map((_, i) => right.getChildAt(i)!.data[0]!),
          ];
          yield recordBatch(schema, columns, n);
          start += n;
          position += n;
        }
      }
      const extra = (current !== null && position < current.numRows) || !(await source.next()).done;
      if (extra) throw new Error(`PostgreSQL returned more feature rows than the ${entities.numRows} entity rows`);
    },
    async () => {
      await source.return?.();
    },
  );
}

export async function historicalFromEntitySql(
  session: Session,
  entitySql: string,
  req: HistoricalFeaturesRequest,
  strategy: StrategySetting,
  searchPath: string,
): Promise<ResultStream> {
  await session.begin(true);
  const access = session.ctx.sourceAccess;
  if (access) {
    // Names in the SQL resolve now as they were checked: on the configured path, not one a
    // previous statement on this pooled connection may have set.
    await session.run('SELECT pg_catalog.set_config($1, $2, true)', 'pinning the search path', ['search_path', searchPath]);
    await guardEntitySql(session, entitySql, access);
  }
  const entityColumns = await session.describe(entitySql, 'entity_df_sql');
  const timestampColumn = sqlTimestampColumn(entityColumns);
  const views = await planViews(session, req);
  const keys: EntityKeys = new Map(
    entityColumns.map((c) => [c.name, { column: c.name, family: familyOfOid(c.typeOid), type: `PostgreSQL type oid ${c.typeOid}` }]),
  );
  views.forEach((v) => checkJoinKeys(v, keys));
  // MATERIALIZED: the query runs once, so every view sees the same rows in the same order.
  const rows = `${ENTITY_ROWS} AS MATERIALIZED (SELECT (row_number() OVER ()) - 1 AS __row, q.*, q.${ident(timestampColumn)}::timestamptz AS __ts FROM (\n${entitySql}\n) AS q)`;
  const leading = entityColumns.map((c) => `e.${ident(c.name)}`);
  const sql = await featuresQuery(session, views, keys, ENTITY_ROWS, null, strategy, { leading, ctes: [rows] });
  const columns = await session.describe(sql, WHAT);
  return { schema: schemaForColumns(columns), batches: session.stream(sql, columns, WHAT) };
}

/** Feast's rule over SQL columns: `event_timestamp` if present, else the only timestamp column. */
function sqlTimestampColumn(columns: readonly PgColumn[]): string {
  const named = columns.find((c) => c.name === 'event_timestamp');
  const timestamps = columns.filter((c) => TIME_OIDS.has(c.typeOid));
  const column = named ?? (timestamps.length === 1 ? timestamps[0]! : null);
  if (!column) throw new EntityTimestampInferenceException();
  // As for an uploaded table: a column of strings is refused, not cast row by row until one fails.
  if (!TIME_OIDS.has(column.typeOid)) {
    const type = pgTypeNameForOid(column.typeOid);
    throw new InvalidArgumentError(
      `entity_df_sql: its column "${column.name}" is of type ${type === 'unknown' ? `oid ${column.typeOid}` : type}: the event timestamp must be a timestamp (or a date); cast it in the SQL`,
    );
  }
  return column.name;
}

export async function historicalForDateRange(
  session: Session,
  req: HistoricalFeaturesRequest,
  strategy: StrategySetting,
): Promise<ResultStream> {
  await session.begin(true);
  const views = await planViews(session, req);
  const { start, end } = dateRange(
    views.map((v) => v.view),
    req.startDate,
    req.endDate,
  );
  if (views.length === 1) return sourceRowsInRange(session, views[0]!, start, end);
  const first = views[0]!;
  const sameKeys = (v: ViewQuery) =>
    v.entityKeyNames.join('\u0000') === first.entityKeyNames.join('\u0000') &&
    v.keyColumns.every((raw, i) => familyOfOid(v.table.columns.get(raw)!) === familyOfOid(first.table.columns.get(first.keyColumns[i]!)!));
  if (!views.every(sameKeys)) {
    throw new InvalidArgumentError(
      'Retrieval by start_date/end_date needs feature views with the same join keys; request these views separately',
    );
  }
  const keyColumns = first.entityKeyNames.map((_, i) => `__k${i}`);
  // Views over one source read the same rows: each distinct scan once (UNION dedupes rows, not scans).
  const inRange = views.map((v) => {
    const ts = `s.${ident(v.timestampColumn)}`;
    const selected = [`${ts}::timestamptz AS __ts`, ...v.keyColumns.map((raw, i) => `s.${ident(raw)} AS __k${i}`)];
    return `SELECT DISTINCT ${selected.join(', ')} FROM ${v.table.from} AS s WHERE ${ts} BETWEEN ${timestamptz(start)} AND ${timestamptz(end)}`;
  });
  const order = ['__ts', ...keyColumns].join(', ');
  const rows = `${ENTITY_ROWS} AS MATERIALIZED (SELECT (row_number() OVER (ORDER BY ${order})) - 1 AS __row, d.* FROM (${[...new Set(inRange)].join(' UNION ')}) AS d)`;
  const keys: EntityKeys = new Map(
    first.entityKeyNames.map((name, i) => {
      const oid = first.table.columns.get(first.keyColumns[i]!)!;
      return [name, { column: keyColumns[i]!, family: familyOfOid(oid), type: `PostgreSQL type oid ${oid}` }];
    }),
  );
  const leading = ['e.__ts AS event_timestamp', ...first.entityKeyNames.map((n, i) => `e.${keyColumns[i]} AS ${ident(n)}`)];
  const sql = await featuresQuery(session, views, keys, ENTITY_ROWS, null, strategy, { leading, ctes: [rows] });
  const columns = await session.describe(sql, WHAT);
  // event_timestamp is never null here, and says so, as the other stores' does.
  const [timestamp, ...rest] = schemaForColumns(columns).fields;
  const schema = new Schema([new Field(timestamp!.name, timestamp!.type, false), ...rest]);
  return { schema, batches: session.stream(sql, columns, WHAT) };
}

/**
 * One view by start/end date, as Feast's postgres store answers it: every source row with
 * `start <= event timestamp <= end`, as stored (no point-in-time join, so rows tied on keys and
 * timestamp all come back, told apart by their created timestamp), in the columns
 * `event_timestamp`, `created_timestamp` (when the source has a created column), the join keys,
 * then the features. No ORDER BY, as in Feast: the rows stream in PostgreSQL's scan order.
 * Unlike Feast's, which selects the join key by its entity name, a join key renamed by the view's
 * projection (join_key_map) is read from its source column.
 */
async function sourceRowsInRange(session: Session, view: ViewQuery, start: Date, end: Date): Promise<ResultStream> {
  const ts = `s.${ident(view.timestampColumn)}`;
  const selected = [
    `${ts} AS event_timestamp`,
    ...(view.createdColumn ? [`s.${ident(view.createdColumn)} AS created_timestamp`] : []),
    ...view.keyColumns.map((raw, i) => `s.${ident(raw)} AS ${ident(view.entityKeyNames[i]!)}`),
    ...view.featureColumns.map((raw, i) => `s.${ident(raw)} AS ${ident(view.outputNames[i]!)}`),
  ];
  const sql = `SELECT ${selected.join(', ')} FROM ${view.table.from} AS s WHERE ${ts} BETWEEN ${timestamptz(start)} AND ${timestamptz(end)}`;
  const columns = await session.describe(sql, WHAT);
  // event_timestamp is never null here (BETWEEN drops nulls), and says so, as the other stores' does.
  const [timestamp, ...rest] = schemaForColumns(columns).fields;
  const schema = new Schema([new Field(timestamp!.name, timestamp!.type, false), ...rest]);
  return { schema, batches: session.stream(sql, columns, WHAT) };
}
