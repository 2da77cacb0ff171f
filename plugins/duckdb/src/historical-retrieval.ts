/**
 * get_historical_features in DuckDB, in its two modes.
 *
 * With an entity table: its join keys and timestamps are uploaded, DuckDB answers the features
 * of every entity row in row order, and each output batch is the uploaded entity columns (as
 * sent) beside the next rows of DuckDB's streamed result.
 *
 * Without one (start/end dates): the entity rows are made in DuckDB — every distinct (event
 * timestamp, join keys) of the views' sources within the range, null keys included, in the order
 * of their first source row — and point-in-time joined like uploaded ones. Feast's own duckdb store
 * cannot answer this mode at all (its get_historical_features takes no start_date/end_date: a
 * TypeError); these are the rows Feast's newer non-entity tests expect, and for several views the
 * rows and values of larder's postgres store (docs/date-range-retrieval.md).
 */
import {
  InvalidArgumentError,
  dateRange,
  entityTimestampColumn,
  ownedBatches,
  recordBatch,
  requestedFeaturesByView,
  type CallContext,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Field, Schema, type Table } from 'apache-arrow';
import { uploadEntities } from './entity-upload.ts';
import { chooseStrategy, groupViews, pointInTimeQuery, type PointInTimeStrategy } from './point-in-time-query.ts';
import { checkJoinKeys, duckdbFamily, planViewQuery, type EntityKeys, type ViewQuery } from './point-in-time-sql.ts';
import { ChunkReader, OUTPUT_BATCH_ROWS, dataFailure, onConnection, openQuery, resultBatches, resultSchema } from './query-stream.ts';
import type { SourceFiles } from './source-files.ts';
import { epochNs, ident } from './sql.ts';

/** What the store's config says about retrieval. */
export interface RetrievalSettings {
  /** Where the views' sources are (local paths or S3). */
  readonly sources: SourceFiles;
  readonly strategy: 'auto' | PointInTimeStrategy;
}

const FAMILY_OF_KIND = { BIGINT: 'number', DOUBLE: 'number', VARCHAR: 'string', BOOLEAN: 'bool' } as const;

async function planViews(connection: DuckDBConnection, req: HistoricalFeaturesRequest, sources: SourceFiles): Promise<ViewQuery[]> {
  const queries: ViewQuery[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    queries.push(await planViewQuery(connection, view, features, req.fullFeatureNames, sources));
  }
  if (queries.length === 0) throw new InvalidArgumentError('get_historical_features needs at least one feature view');
  return queries;
}

/** The point-in-time query over `__entities`, each source group with its strategy. */
async function historicalQuery(
  connection: DuckDBConnection,
  views: readonly ViewQuery[],
  keys: EntityKeys,
  settings: RetrievalSettings,
  ctx: CallContext,
  leading?: readonly string[],
): Promise<string> {
  const groups = groupViews(views);
  const strategies: PointInTimeStrategy[] = [];
  for (const group of groups) {
    if (settings.strategy !== 'auto') {
      strategies.push(settings.strategy);
      continue;
    }
    const columns = group.views[0]!.entityKeyNames.map((name) => ident(keys.get(name)!.column));
    // An entityless view has one key for all rows: every entity row pairs with every source row.
    const distinctKeys = columns.length > 0 ? `count(DISTINCT (${columns.join(', ')}))` : '1';
    const stats = await connection.runAndReadAll(`SELECT count(__ts)::DOUBLE, ${distinctKeys}::DOUBLE FROM __entities`);
    const [rows, distinct] = stats.getRows()[0] as [number, number];
    strategies.push(chooseStrategy(rows, distinct));
  }
  ctx.logger.debug(
    { groups: groups.map((g, i) => ({ views: g.views.map((q) => q.view.name), strategy: strategies[i] })) },
    'duckdb point-in-time plan',
  );
  return pointInTimeQuery(views, groups, strategies, keys, leading);
}

export function historicalFromEntityTable(
  connect: () => Promise<DuckDBConnection>,
  entities: Table,
  req: HistoricalFeaturesRequest,
  settings: RetrievalSettings,
  ctx: CallContext,
): Promise<ResultStream> {
  return onConnection(connect, async (connection) => {
    const timestampColumn = entityTimestampColumn(entities.schema);
    const views = await planViews(connection, req, settings.sources);
    const entityType = (name: string) => String(entities.schema.fields.find((f) => f.name === name)?.type);
    const keyNames = [...new Set(views.flatMap((v) => v.entityKeyNames))].filter((n) => entities.schema.fields.some((f) => f.name === n));
    const uploaded = await uploadEntities(connection, entities, timestampColumn, keyNames, ctx.signal);
    const keys: EntityKeys = new Map(
      keyNames.map((n) => [n, { column: uploaded.keyColumns.get(n)!, family: FAMILY_OF_KIND[uploaded.keyKinds.get(n)!] }]),
    );
    views.forEach((v) => checkJoinKeys(v, keys, entityType));

    const owned = await openQuery(connection, await historicalQuery(connection, views, keys, settings, ctx), ctx.signal);
    const featureFields = resultSchema(
      owned.result,
      views.flatMap((v) => v.outputNames),
    ).fields;
    const schema = new Schema([...entities.schema.fields, ...featureFields]);
    const reader = new ChunkReader(owned.result);
    const batches = ownedBatches(
      async function* () {
        for (const batch of entities.batches) {
          for (let start = 0; start < batch.numRows; start += OUTPUT_BATCH_ROWS) {
            ctx.signal.throwIfAborted();
            const piece = batch.slice(start, Math.min(batch.numRows, start + OUTPUT_BATCH_ROWS));
            const features = await reader.take(piece.numRows).catch((error: unknown) => {
              throw dataFailure(error, ctx.signal);
            });
            // @duckdb/node-api ends a stream that failed midway like one that is done: a short result is that failure.
            if (features.length !== piece.numRows)
              throw new Error(`DuckDB returned ${features.length} rows for ${piece.numRows} entity rows`);
            const columns = piece.schema.fields.map((_, i) => piece.getChildAt(i)!.data[0]!);
            yield recordBatch(schema, [...columns, ...features.columns], piece.numRows);
          }
        }
      },
      () => owned.close(),
    );
    return { schema, numRows: entities.numRows, batches };
  });
}

export function historicalForDateRange(
  connect: () => Promise<DuckDBConnection>,
  req: HistoricalFeaturesRequest,
  settings: RetrievalSettings,
  ctx: CallContext,
): Promise<ResultStream> {
  return onConnection(connect, async (connection) => {
    const views = await planViews(connection, req, settings.sources);
    const { start, end } = dateRange(
      views.map((v) => v.view),
      req.startDate,
      req.endDate,
    );
    const first = views[0]!;
    const sameKeys = (v: ViewQuery) =>
      v.entityKeyNames.join('\u0000') === first.entityKeyNames.join('\u0000') &&
      v.keyColumns.every((raw, i) => String(v.table.columns.get(raw)) === String(first.table.columns.get(first.keyColumns[i]!)));
    if (!views.every(sameKeys)) {
      throw new InvalidArgumentError(
        'Retrieval by start_date/end_date needs feature views with the same join keys; request these views separately',
      );
    }
    const keyColumns = first.entityKeyNames.map((_, i) => `__k${i}`);
    // Entity rows by view, then by their first source row (the order larder's file store used to give).
    const inRange = views.map((v, n) => {
      const ts = `epoch_ns(${ident(v.timestampColumn)})`;
      const keys = v.keyColumns.map((raw, i) => `${ident(raw)} AS __k${i}`);
      const from = `${ts} AS __ts, ${keys.map((k) => `${k}, `).join('')}(${n}, ${v.table.rowOrder()}) AS __seen`;
      return `SELECT ${from} FROM ${v.table.relation} WHERE ${ts} BETWEEN ${epochNs(start)} AND ${epochNs(end)}`;
    });
    const distinct = `SELECT __ts, ${keyColumns.map((k) => `${k}, `).join('')}min(__seen) AS __first FROM (${inRange.join(' UNION ALL ')}) GROUP BY ALL`;
    await connection
      .run(
        `CREATE TEMP TABLE __entities AS SELECT row_number() OVER (ORDER BY __first) - 1 AS __row, * EXCLUDE (__first) FROM (${distinct})`,
      )
      .catch((error: unknown) => {
        throw dataFailure(error, ctx.signal);
      });

    const entityRows = Number((await connection.runAndReadAll('SELECT count(*) FROM __entities')).getColumns()[0]![0]);
    const keys: EntityKeys = new Map(
      first.entityKeyNames.map((name, i) => [
        name,
        { column: keyColumns[i]!, family: duckdbFamily(first.table.columns.get(first.keyColumns[i]!)!) },
      ]),
    );
    // The output starts with the entity columns: event_timestamp (µs, UTC), then the join keys.
    const leading = [
      'make_timestamp(e.__ts // 1000)::TIMESTAMPTZ AS event_timestamp',
      ...first.entityKeyNames.map((n, i) => `e.${keyColumns[i]} AS ${ident(n)}`),
    ];
    const owned = await openQuery(connection, await historicalQuery(connection, views, keys, settings, ctx, leading), ctx.signal);
    const names = ['event_timestamp', ...first.entityKeyNames, ...views.flatMap((v) => v.outputNames)];
    // event_timestamp is never null here, and says so.
    const [timestamp, ...rest] = resultSchema(owned.result, names).fields;
    const schema = new Schema([new Field(timestamp!.name, timestamp!.type, false), ...rest]);
    return { schema, batches: resultBatches(owned, schema, ctx.signal, entityRows) };
  });
}
