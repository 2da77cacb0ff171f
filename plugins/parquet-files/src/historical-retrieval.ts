/**
 * get_historical_features for parquet FileSources, entirely in JavaScript.
 *
 * The requested views are grouped by source (group-join.ts): each group's source is read once, a
 * row group at a time, keeping only rows whose key occurs among the entity rows and whose
 * timestamp can matter, plus the requested feature columns of those row groups; the
 * point-in-time choice then picks one source row (or none) per entity row and view. The output
 * streams in batches of up to 64k entity rows, in the entity rows' order, features gathered on the
 * fly.
 *
 * Memory: the entity table, the candidates' keys and timestamps, and the requested feature
 * columns of the source (not its other columns). A source far larger than memory needs the
 * duckdb store.
 */
import {
  entityTimestampColumn,
  requestedFeaturesByView,
  type CallContext,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import { RecordBatch, Schema, Struct, type Table, makeData, type Data, type DataType } from 'apache-arrow';
import { gather } from './gather.ts';
import { groupPlans, joinGroup, type ViewResult } from './group-join.ts';
import { instantsOfVector } from './timestamps.ts';
import { planView, type ViewPlan } from './view-source.ts';
import type { SourceLocator } from './source-paths.ts';

const OUTPUT_BATCH_ROWS = 65_536;

/** How the output's columns are laid out. */
export interface OutputLayout {
  /**
   * Each view's join keys just before its features (those not already out), after the entity
   * table's other columns: the layout of Feast's file store in the start/end-date mode, where
   * each view's keys come from its own merge. Default: the entity table's columns, then the features.
   */
  readonly keysBeforeEachView?: boolean;
}

export async function historicalFromEntityTable(
  entities: Table,
  req: HistoricalFeaturesRequest,
  locator: SourceLocator,
  ctx: CallContext,
  layout: OutputLayout = {},
): Promise<ResultStream> {
  const timestampColumn = entityTimestampColumn(entities.schema);
  const entityTs = instantsOfVector(entities.getChild(timestampColumn)!);
  const plans: ViewPlan[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    plans.push(await planView(view, features, req.fullFeatureNames, locator));
  }
  const byPlan = new Map<ViewPlan, ViewResult>();
  for (const group of groupPlans(plans)) {
    (await joinGroup(group, entities, entityTs, ctx)).forEach((result) => byPlan.set(result.plan, result));
  }
  const results = plans.map((plan) => byPlan.get(plan)!);
  const fields = [...entities.schema.fields, ...results.flatMap((r) => r.fields)];
  const order = layout.keysBeforeEachView ? keysBeforeEachView(entities.schema, results) : fields.map((_, i) => i);
  const schema = new Schema(order.map((i) => fields[i]!));
  return { schema, numRows: entities.numRows, batches: outputBatches(schema, order, entities, results, ctx) };
}

/** Indices into [entity columns, features of each result] for OutputLayout.keysBeforeEachView. */
function keysBeforeEachView(entitySchema: Schema, results: readonly ViewResult[]): number[] {
  const entityNames = entitySchema.fields.map((f) => f.name);
  const keyNames = new Set(results.flatMap((r) => r.plan.entityKeyNames));
  const order = entityNames.flatMap((name, i) => (keyNames.has(name) ? [] : [i]));
  const out = new Set<string>();
  let next = entityNames.length;
  for (const result of results) {
    for (const key of result.plan.entityKeyNames) {
      if (!out.has(key)) order.push(entityNames.indexOf(key));
      out.add(key);
    }
    result.fields.forEach(() => order.push(next++));
  }
  return order;
}

async function* outputBatches(schema: Schema, order: readonly number[], entities: Table, results: readonly ViewResult[], ctx: CallContext) {
  let offset = 0;
  for (const batch of entities.batches) {
    for (let start = 0; start < batch.numRows; start += OUTPUT_BATCH_ROWS) {
      ctx.signal.throwIfAborted();
      const length = Math.min(OUTPUT_BATCH_ROWS, batch.numRows - start);
      const piece = batch.slice(start, start + length);
      const from = offset + start;
      const columns: Data[] = piece.schema.fields.map((_, i) => piece.getChildAt(i)!.data[0]!);
      for (const result of results) {
        const chunkOf = result.chunkOf.subarray(from, from + length);
        const rowOf = result.rowOf.subarray(from, from + length);
        result.fields.forEach((field, i) => columns.push(gather(field.type as DataType, result.chunks[i]!, chunkOf, rowOf)));
      }
      const children = order.map((i) => columns[i]!);
      yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children }));
    }
    offset += batch.numRows;
  }
}
