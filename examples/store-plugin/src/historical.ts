/**
 * get_historical_features: each requested view is point-in-time joined to the entity rows, and
 * the result streams out in batches of entity rows, in their order, features taken on the fly.
 */
import {
  MissingColumnError,
  assertViewTimeColumns,
  batchSourceOf,
  entityTimestampColumn,
  recordBatch,
  requestedFeaturesByView,
  viewColumns,
  type DataSource,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import { Field, Schema, type Data, type Table, type Vector } from 'apache-arrow';
import { columnTypes, instantsNs, keyStrings, take } from './arrow-columns.ts';
import { pointInTimeRows } from './point-in-time.ts';

/** A source's rows, read for the current call, and how error messages name it. */
export interface LoadedSource {
  readonly table: Table;
  readonly where: string;
}

/** Reads a source once per call (several views may share it). */
export type SourceReader = (source: DataSource) => Promise<LoadedSource>;

/** A view's chosen source row per entity row, and the feature columns to take values from. */
interface JoinedView {
  readonly rows: Int32Array;
  readonly features: readonly { readonly column: Vector; readonly field: Field }[];
}

export async function historicalFeatures(
  entities: Table,
  req: HistoricalFeaturesRequest,
  read: SourceReader,
  batchRows: number,
  signal: AbortSignal,
): Promise<ResultStream> {
  const entityTs = instantsNs(entities.getChild(entityTimestampColumn(entities.schema))!);
  const joined: JoinedView[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    const { table, where } = await read(batchSourceOf(view));
    const columns = viewColumns(view, features, req.fullFeatureNames, table.schema.names as string[], where);
    assertViewTimeColumns(view, columns, columnTypes(table.schema), where);
    const entityKeys = columns.entityKeyNames.map((name) => {
      const column = entities.getChild(name);
      if (!column) {
        // MissingColumnError (NOT_FOUND): the Feast client raises KeyError, as from Feast's own stores.
        throw new MissingColumnError(`The entity dataframe has no column "${name}", the join key of feature view ${view.name}`);
      }
      return column;
    });
    const sourceKeys = columns.keyColumns.map((c) => table.getChild(c)!);
    const source = {
      keys: keyStrings(sourceKeys, table.numRows, 'never-match'),
      ts: instantsNs(table.getChild(columns.timestampColumn)!),
      created: columns.createdColumn ? instantsNs(table.getChild(columns.createdColumn)!) : null,
    };
    joined.push({
      rows: pointInTimeRows(source, keyStrings(entityKeys, entities.numRows, 'never-match'), entityTs, view.ttlSeconds),
      features: columns.featureColumns.map((c, i) => {
        const column = table.getChild(c)!;
        return { column, field: new Field(columns.outputNames[i]!, column.type, true) };
      }),
    });
  }
  const schema = new Schema([...entities.schema.fields, ...joined.flatMap((j) => j.features.map((f) => f.field))]);
  return { schema, numRows: entities.numRows, batches: outputBatches(schema, entities, joined, batchRows, signal) };
}

async function* outputBatches(schema: Schema, entities: Table, joined: readonly JoinedView[], batchRows: number, signal: AbortSignal) {
  let offset = 0;
  for (const batch of entities.batches) {
    for (let start = 0; start < batch.numRows; start += batchRows) {
      signal.throwIfAborted();
      const length = Math.min(batchRows, batch.numRows - start);
      const piece = batch.slice(start, start + length);
      const columns: Data[] = piece.schema.fields.map((_, i) => piece.getChildAt(i)!.data[0]!);
      for (const { rows, features } of joined) {
        const picked = rows.subarray(offset + start, offset + start + length);
        for (const { column } of features) columns.push(take(column, picked));
      }
      yield recordBatch(schema, columns, length);
    }
    offset += batch.numRows;
  }
}
