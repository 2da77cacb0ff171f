/**
 * get_historical_features in Trino, in its three modes, each one query (point-in-time-sql.ts):
 *
 * - An uploaded entity table: it reaches Trino through entity-upload.ts (a staged parquet file,
 *   or VALUES); Trino answers the features of every entity row in row order, and each output batch
 *   is the uploaded entity columns (as sent) beside the next rows of the streamed result. The
 *   staged table lives until the stream is closed, however it ends.
 * - `entity_df_sql`: the client's query is the entity relation itself, inside the same statement
 *   (so Trino's parser admits only a query there: one read-only statement); its columns lead the
 *   output, which comes in (event timestamp, join keys) order. Trino evaluates a WITH query once
 *   per reference; each entity row is matched by its (keys, timestamp), never by position, so a
 *   reading that differs from another cannot mix rows up.
 * - start/end dates: Feast's trino store has no such mode (its get_historical_features takes no
 *   start_date: a TypeError), so larder answers by the point-in-time rule, as its duckdb store
 *   does: one row per distinct (event timestamp, join keys) among the views' rows in the range,
 *   each view's features point-in-time joined to it (docs/date-range-retrieval.md).
 *
 * Every statement is started when the stream is first read, not before: a persist that runs the
 * retrieval's SQL as `CREATE TABLE … AS` (retrievalSqlOf) never runs it twice.
 */
import {
  EntityTimestampInferenceException,
  InvalidArgumentError,
  MissingColumnError,
  dateRange,
  entityTimestampColumn,
  ownedBatches,
  recordBatch,
  requestedFeaturesByView,
  type CallContext,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import { Field, Schema, type RecordBatch, type Table } from 'apache-arrow';
import { trinoResultStream } from './arrow-results.ts';
import { arrowTypeForTrino } from './arrow-types.ts';
import type { TrinoClient } from './client.ts';
import { storedTypes, uploadEntities, type StagedEntities, type UploadOptions } from './entity-upload.ts';
import { checkEntitySql } from './entity-sql-check.ts';
import {
  checkJoinKeys,
  familyOfType,
  planViewQuery,
  pointInTimeQuery,
  type DescribedSources,
  type EntityKeys,
  type ViewQuery,
} from './point-in-time-sql.ts';
import { asUtcTimestamp, ident, isTimeType, utcTimestamp } from './sql-text.ts';

const WHAT = 'get_historical_features';
const ENTITIES = '__larder_entities';
/** From this many entity rows, the VALUES route is slow enough to say so (bench/trino-entity-upload.ts: 100k rows ≈ 70 s). */
const SLOW_VALUES_ROWS = 10_000;

/**
 * The SQL of a retrieval's whole answer (entity columns, then features), for `persist` to run as
 * `CREATE TABLE … AS`. Absent for streams this module did not make; a string with a reason when
 * the answer cannot be rebuilt inside Trino (an entity column Trino cannot hold).
 */
const retrievalSql = new WeakMap<ResultStream, { readonly sql: string } | { readonly refused: string }>();

/**
 * The SQL `persist` runs inside Trino for a result of getHistoricalFeatures (`CREATE TABLE dest AS
 * <sql>`), valid until the stream is closed; throws when the result cannot be rebuilt in Trino.
 */
export function retrievalSqlOf(stream: ResultStream): string | undefined {
  const entry = retrievalSql.get(stream);
  if (!entry) return undefined;
  if ('refused' in entry) throw new InvalidArgumentError(entry.refused);
  return entry.sql;
}

/** What the retrieval needs besides the request. */
export interface RetrievalSetup {
  readonly client: TrinoClient;
  readonly upload: UploadOptions;
}

async function planViews(client: TrinoClient, req: HistoricalFeaturesRequest, signal: AbortSignal): Promise<ViewQuery[]> {
  const described: DescribedSources = new Map();
  const queries: ViewQuery[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    queries.push(await planViewQuery(client, view, features, req.fullFeatureNames, described, signal));
  }
  if (queries.length === 0) throw new InvalidArgumentError('get_historical_features needs at least one feature view');
  return queries;
}

/** The features' Arrow fields, under their output names (Trino reports names lowercased). */
function featureFields(views: readonly ViewQuery[]): Field[] {
  return views.flatMap((q) => q.featureColumns.map((raw, i) => new Field(q.outputNames[i]!, arrowTypeForTrino(q.types.get(raw)!), true)));
}

export async function historicalFromEntityTable(
  setup: RetrievalSetup,
  entities: Table,
  req: HistoricalFeaturesRequest,
  ctx: CallContext,
): Promise<ResultStream> {
  const timestampColumn = entityTimestampColumn(entities.schema);
  const views = await planViews(setup.client, req, ctx.signal);
  // Join keys are checked before any row is sent: a mismatch costs no upload.
  const keys: EntityKeys = new Map([...storedTypes(entities.schema)].map(([name, type]) => [name, { column: name, type }]));
  const present = new Map(entities.schema.fields.map((f) => [f.name, f]));
  for (const v of views) {
    for (const name of v.entityKeyNames) {
      const field = present.get(name);
      if (!field) throw new MissingColumnError(`The entity dataframe has no column "${name}", the join key of feature view ${v.view.name}`);
      if (!keys.has(name)) {
        throw new InvalidArgumentError(
          `Entity column "${name}" (the join key of feature view ${v.view.name}) has type ${String(field.type)}, which the trino offline store cannot send to Trino; cast it to an integer or a string`,
        );
      }
    }
    checkJoinKeys(v, keys);
  }
  const keyNames = [...new Set(views.flatMap((v) => v.entityKeyNames))];
  const staged = await uploadEntities(setup.client, entities, timestampColumn, keyNames, setup.upload, ctx.signal);
  if (staged.route === 'values' && entities.numRows >= SLOW_VALUES_ROWS) {
    ctx.logger.warn(
      { rows: entities.numRows },
      'trino store: the entity table went in as INSERT … VALUES (about a minute per 100 000 rows); configure offline_store.entity_staging to stage it as a parquet file',
    );
  }
  try {
    const ctes = [`${ENTITIES} AS ${staged.relation}`];
    const sql = pointInTimeQuery(views, keys, ENTITIES, { ctes, orderBy: 'e.__row' });
    const schema = new Schema([...entities.schema.fields, ...featureFields(views)]);
    const features = lazyStatement(setup.client, sql, ctx.signal);
    const stream: ResultStream = {
      schema,
      numRows: entities.numRows,
      batches: ownedBatches(() => besideEntities(schema, entities, features), staged.drop),
    };
    retrievalSql.set(stream, persistSql(views, keys, ctes, staged));
    return stream;
  } catch (error) {
    await staged.drop();
    throw error;
  }
}

/** The whole answer's SQL (entity columns by name, then the features), or why there is none. */
function persistSql(views: readonly ViewQuery[], keys: EntityKeys, ctes: readonly string[], staged: StagedEntities) {
  if (staged.unstored.length > 0) {
    return {
      refused: `The entity dataframe's column${staged.unstored.length > 1 ? 's' : ''} ${staged.unstored.map((n) => `"${n}"`).join(', ')} cannot be stored in Trino, so this retrieval cannot be persisted there; drop or cast ${staged.unstored.length > 1 ? 'them' : 'it'}`,
    };
  }
  const leading = staged.columns.map((c) => `e.${ident(c.name)}`);
  return { sql: pointInTimeQuery(views, keys, ENTITIES, { ctes, leading }) };
}

/** The batches of `sql`'s result, its statement started on the first read (see the module comment). */
function lazyStatement(client: TrinoClient, sql: string, signal: AbortSignal): AsyncIterable<RecordBatch> {
  return {
    async *[Symbol.asyncIterator]() {
      const result = await trinoResultStream(await client.start(sql, WHAT, signal));
      yield* result.batches;
    },
  };
}

/**
 * Output batches: the entity rows as uploaded beside the feature rows Trino streams for them (one
 * per entity row, in order). Each batch is cut where either side's batch ends, so nothing else is
 * copied. Trino's columns are taken by position, under the schema's names.
 */
async function* besideEntities(schema: Schema, entities: Table, features: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
  const source = features[Symbol.asyncIterator]();
  const entityCount = entities.schema.fields.length;
  try {
    let current: RecordBatch | null = null;
    let position = 0;
    for (const batch of entities.batches) {
      let start = 0;
      while (start < batch.numRows) {
        if (!current || position >= current.numRows) {
          const step = await source.next();
          if (step.done) throw new Error(`Trino returned fewer feature rows than the ${entities.numRows} entity rows`);
          [current, position] = [step.value, 0];
          continue;
        }
        const n = Math.min(batch.numRows - start, current.numRows - position);
        const left = batch.slice(start, start + n);
        const right = current.slice(position, position + n);
        const columns = [
          ...Array.from({ length: entityCount }, (_, k) => left.getChildAt(k)!.data[0]!),
          ...Array.from({ length: schema.fields.length - entityCount }, (_, k) => right.getChildAt(k)!.data[0]!),
        ];
        yield recordBatch(schema, columns, n);
        start += n;
        position += n;
      }
    }
    // Zero entity rows: still run the statement to its end, so its errors are not lost.
    for (;;) {
      const step: IteratorResult<RecordBatch> = await source.next();
      if (step.done) break;
      if (step.value.numRows > 0) throw new Error('Trino returned more feature rows than entity rows');
    }
  } finally {
    await source.return?.();
  }
}

/**
 * A stream of a whole statement's result (entity_df_sql, dates): Trino's columns, the features
 * renamed by position to their output names.
 */
function wholeResult(
  setup: RetrievalSetup,
  sql: string,
  leading: readonly Field[],
  views: readonly ViewQuery[],
  ctx: CallContext,
): ResultStream {
  const schema = new Schema([...leading, ...featureFields(views)]);
  const rows = lazyStatement(setup.client, sql, ctx.signal);
  const stream: ResultStream = {
    schema,
    batches: ownedBatches(
      async function* () {
        for await (const batch of rows) {
          yield recordBatch(
            schema,
            batch.schema.fields.map((_, k) => batch.getChildAt(k)!.data[0]!),
            batch.numRows,
          );
        }
      },
      () => undefined,
    ),
  };
  return stream;
}

export async function historicalFromEntitySql(
  setup: RetrievalSetup,
  req: HistoricalFeaturesRequest,
  ctx: CallContext,
): Promise<ResultStream> {
  const entitySql = req.entityDfSql!.trim().replace(/;\s*$/, '');
  // The views' sources are described while Trino checks the client's SQL: neither needs the other.
  const planned = planViews(setup.client, req, ctx.signal);
  planned.catch(() => undefined);
  const columns = await checkEntitySql(setup.client, entitySql, ctx);
  const timestampColumn = sqlTimestampColumn(columns);
  const views = await planned;
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const keys: EntityKeys = new Map(columns.map((c) => [c.name, { column: c.name, type: c.type }]));
  views.forEach((v) => checkJoinKeys(v, keys));
  const keyNames = [...new Set(views.flatMap((v) => v.entityKeyNames))];
  const ts = asUtcTimestamp(`q.${ident(timestampColumn)}`, types.get(timestampColumn)!);
  const orderBy = ['e.__ts', ...keyNames.map((n) => `e.${ident(n)}`)].join(', ');
  const rows = `${ENTITIES} AS (SELECT q.*, ${ts} AS __ts FROM (\n${entitySql}\n) AS q)`;
  const leading = columns.map((c) => `e.${ident(c.name)}`);
  const sql = pointInTimeQuery(views, keys, ENTITIES, { leading, ctes: [rows], orderBy });
  const stream = wholeResult(
    setup,
    sql,
    columns.map((c) => new Field(c.name, arrowTypeForTrino(c.type), true)),
    views,
    ctx,
  );
  retrievalSql.set(stream, { sql: pointInTimeQuery(views, keys, ENTITIES, { leading, ctes: [rows] }) });
  return stream;
}

/** Feast's rule over SQL columns: `event_timestamp` if present, else the only timestamp column; it must hold times. */
function sqlTimestampColumn(columns: readonly { name: string; type: string }[]): string {
  const named = columns.find((c) => c.name === 'event_timestamp');
  const timestamps = columns.filter((c) => c.type.startsWith('timestamp'));
  const column = named ?? (timestamps.length === 1 ? timestamps[0]! : null);
  if (!column) throw new EntityTimestampInferenceException();
  if (!isTimeType(column.type)) {
    throw new InvalidArgumentError(
      `entity_df_sql: its column "${column.name}" is of type ${column.type}: the event timestamp must be a timestamp (or a date); cast it in the SQL`,
    );
  }
  return column.name;
}

export async function historicalForDateRange(
  setup: RetrievalSetup,
  req: HistoricalFeaturesRequest,
  ctx: CallContext,
): Promise<ResultStream> {
  const views = await planViews(setup.client, req, ctx.signal);
  const { start, end } = dateRange(
    views.map((v) => v.view),
    req.startDate,
    req.endDate,
  );
  const first = views[0]!;
  const family = (v: ViewQuery, i: number) => familyOfType(v.types.get(v.keyColumns[i]!)!);
  const sameKeys = (v: ViewQuery) =>
    v.entityKeyNames.join('\u0000') === first.entityKeyNames.join('\u0000') &&
    v.keyColumns.every((_, i) => family(v, i) === family(first, i));
  if (!views.every(sameKeys)) {
    throw new InvalidArgumentError(
      'Retrieval by start_date/end_date needs feature views with the same join keys; request these views separately',
    );
  }
  const keyColumns = first.entityKeyNames.map((_, i) => `__k${i}`);
  // Views over one source read the same rows: each distinct scan once (UNION dedupes rows, not scans).
  const inRange = views.map((v) => {
    const ts = asUtcTimestamp(`s.${ident(v.timestampColumn)}`, v.types.get(v.timestampColumn)!);
    // Keys in the first view's types, so the output's key columns have the types its schema says.
    const keyType = (i: number) => first.types.get(first.keyColumns[i]!)!;
    const selected = [`${ts} AS __ts`, ...v.keyColumns.map((raw, i) => `CAST(s.${ident(raw)} AS ${keyType(i)}) AS __k${i}`)];
    return `SELECT DISTINCT ${selected.join(', ')} FROM ${v.relation.from} AS s WHERE ${ts} BETWEEN ${utcTimestamp(start)} AND ${utcTimestamp(end)}`;
  });
  const orderBy = ['e.__ts', ...keyColumns.map((c) => `e.${c}`)].join(', ');
  const rows = `${ENTITIES} AS (${[...new Set(inRange)].join(' UNION ')})`;
  const keys: EntityKeys = new Map(
    first.entityKeyNames.map((name, i) => [name, { column: keyColumns[i]!, type: first.types.get(first.keyColumns[i]!)! }]),
  );
  const leading = ['e.__ts AS event_timestamp', ...first.entityKeyNames.map((n, i) => `e.${keyColumns[i]} AS ${ident(n)}`)];
  const sql = pointInTimeQuery(views, keys, ENTITIES, { leading, ctes: [rows], orderBy });
  const tsPrecision = Math.max(...views.map((v) => precisionOf(v.types.get(v.timestampColumn)!)));
  const leadingFields = [
    // event_timestamp is never null here, and says so, as the other stores' does.
    new Field('event_timestamp', arrowTypeForTrino(`timestamp(${tsPrecision})`), false),
    ...first.entityKeyNames.map((n, i) => new Field(n, arrowTypeForTrino(first.types.get(first.keyColumns[i]!)!), true)),
  ];
  const stream = wholeResult(setup, sql, leadingFields, views, ctx);
  retrievalSql.set(stream, { sql: pointInTimeQuery(views, keys, ENTITIES, { leading, ctes: [rows] }) });
  return stream;
}

/** The precision of a time column as the date mode's event_timestamp has it (UNION takes the widest). */
function precisionOf(type: string): number {
  if (type === 'date') return 3;
  const m = /^timestamp\((\d+)\)/.exec(type);
  return m ? Number(m[1]) : 3;
}
