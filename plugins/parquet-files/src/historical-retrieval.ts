/**
 * get_historical_features for parquet FileSources, entirely in JavaScript.
 *
 * For each requested view: the entity rows are grouped by their join keys; the view's source is
 * read a row group at a time, keeping only rows whose key occurs among the entity rows (and whose
 * timestamp can matter), plus the requested feature columns of those row groups; the
 * point-in-time choice then picks one source row (or none) per entity row. The output streams in
 * batches of up to 64k entity rows, in the entity rows' order, features gathered on the fly.
 *
 * Memory: the entity table, the candidates' keys and timestamps, and the requested feature
 * columns of the source (not its other columns). A source far larger than memory needs the
 * duckdb store.
 */
import {
  InvalidArgumentError,
  entityTimestampColumn,
  requestedFeaturesByView,
  type CallContext,
  type HistoricalFeaturesRequest,
  type ResultStream,
} from '@larder/core';
import { Field, RecordBatch, Schema, Struct, Table, makeData, type Data, type DataType } from 'apache-arrow';
import { gather } from './gather.ts';
import { encodeKeys, keyFamily, type KeyValue } from './keys.ts';
import { pointInTimeChoice, type Candidates, type EntityRows } from './point-in-time.ts';
import { instantsOfData, instantsOfVector, type Instants } from './timestamps.ts';
import { planView, readViewRowGroups, type ViewPlan } from './view-source.ts';

const OUTPUT_BATCH_ROWS = 65_536;

/** The chosen source row of every entity row for one view, and the chunks to take values from. */
interface ViewResult {
  readonly plan: ViewPlan;
  readonly fields: readonly Field[];
  /** Per feature, the chunks of each kept row group. */
  readonly chunks: readonly Data[][];
  readonly chunkOf: Int32Array;
  readonly rowOf: Int32Array;
}

export async function historicalFromEntityTable(
  entities: Table,
  req: HistoricalFeaturesRequest,
  repoPath: string,
  ctx: CallContext,
): Promise<ResultStream> {
  const timestampColumn = entityTimestampColumn(entities.schema);
  const entityTs = instantsOfVector(entities.getChild(timestampColumn)!);
  const results: ViewResult[] = [];
  for (const { view, features } of requestedFeaturesByView(req.featureViews, req.featureRefs)) {
    const plan = await planView(view, features, req.fullFeatureNames, repoPath);
    results.push(await joinView(plan, entities, entityTs, ctx));
  }
  const schema = new Schema([...entities.schema.fields, ...results.flatMap((r) => r.fields)]);
  return { schema, numRows: entities.numRows, batches: outputBatches(schema, entities, results, ctx) };
}


async function joinView(plan: ViewPlan, entities: Table, entityTs: Instants, ctx: CallContext): Promise<ViewResult> {
  const { view } = plan;
  const entityKeyColumns = view.entityColumns.map((c) => view.projection.joinKeyMap[c.name] ?? c.name);
  for (const [i, column] of entityKeyColumns.entries()) {
    const entityField = entities.schema.fields.find((f) => f.name === column);
    if (!entityField) {
      throw new InvalidArgumentError(`The entity dataframe has no column "${column}", the join key of feature view ${view.name}`);
    }
    const sourceField = plan.schema.fields.find((f) => f.name === plan.keyColumns[i])!;
    if (keyFamily(entityField.type) !== keyFamily(sourceField.type)) {
      throw new InvalidArgumentError(
        `Join key "${column}" of feature view ${view.name} cannot be matched: the entity dataframe has ${entityField.type}, the source has ${sourceField.type}`,
      );
    }
  }
  const { rows, groups } = entityGroups(entities, entityKeyColumns, entityTs);
  const { maxUs, minUs } = timeRange(entityTs);
  const lowerBoundUs = view.ttlSeconds > 0 ? minUs - view.ttlSeconds * 1e6 : -Infinity;

  const candidates = new CandidateBuilder();
  const chunks: Data[][] = plan.featureColumns.map(() => []);
  const fields: Field[] = [];
  const chunkIds: number[] = [];
  const rowIds: number[] = [];
  let keptChunks = 0;
  for await (const table of readViewRowGroups(plan, ctx.signal)) {
    for (const batch of table.batches) {
      const keyData = plan.keyColumns.map((c) => batch.getChild(c)!.data[0]!);
      const keys = encodeKeys(keyData, batch.numRows);
      const ts = instantsOfData(batch.getChild(plan.timestampColumn)!.data[0]!);
      const created = plan.createdColumn ? instantsOfData(batch.getChild(plan.createdColumn)!.data[0]!) : null;
      const chunk = keptChunks;
      let kept = 0;
      for (let r = 0; r < batch.numRows; r++) {
        const key = keys[r];
        const group = key === null || key === undefined ? undefined : groups.get(key);
        const tsUs = ts.us[r]!;
        if (group === undefined || Number.isNaN(tsUs) || tsUs > maxUs + 1 || tsUs < lowerBoundUs - 1) continue;
        candidates.push(group, tsUs, ts.ns[r]!, created ? created.us[r]! : NaN, created ? created.ns[r]! : 0);
        chunkIds.push(chunk);
        rowIds.push(r);
        kept++;
      }
      // A batch none of whose rows can be chosen is not kept.
      if (kept > 0) {
        plan.featureColumns.forEach((c, i) => chunks[i]!.push(batch.getChild(c)!.data[0]!));
        keptChunks++;
      }
    }
  }
  plan.featureColumns.forEach((c, i) => {
    const type = chunks[i]![0]?.type ?? plan.schema.fields.find((f) => f.name === c)!.type;
    fields.push(new Field(plan.outputNames[i]!, type, true));
  });
  const choice = pointInTimeChoice(rows, candidates.build(), view.ttlSeconds);
  const chunkOf = new Int32Array(choice.length);
  const rowOf = new Int32Array(choice.length);
  for (let i = 0; i < choice.length; i++) {
    const c = choice[i]!;
    chunkOf[i] = c < 0 ? -1 : chunkIds[c]!;
    rowOf[i] = c < 0 ? 0 : rowIds[c]!;
  }
  return { plan, fields, chunks, chunkOf, rowOf };
}

/** Entity rows numbered by key group; a null key part or a null timestamp never matches. */
function entityGroups(entities: Table, keyColumns: readonly string[], ts: Instants): { rows: EntityRows; groups: Map<KeyValue, number> } {
  const n = entities.numRows;
  const group = new Int32Array(n).fill(-1);
  const groups = new Map<KeyValue, number>();
  let offset = 0;
  for (const batch of entities.batches) {
    const keys = encodeKeys(keyColumns.map((c) => batch.getChild(c)!.data[0]!), batch.numRows);
    for (let r = 0; r < batch.numRows; r++) {
      const key = keys[r];
      if (key === null || key === undefined) continue;
      let id = groups.get(key);
      if (id === undefined) {
        id = groups.size;
        groups.set(key, id);
      }
      group[offset + r] = id;
    }
    offset += batch.numRows;
  }
  return { rows: { length: n, group, tsUs: ts.us, tsNs: ts.ns }, groups };
}

function timeRange(ts: Instants): { minUs: number; maxUs: number } {
  let minUs = Infinity;
  let maxUs = -Infinity;
  for (const us of ts.us) {
    if (Number.isNaN(us)) continue;
    if (us < minUs) minUs = us;
    if (us > maxUs) maxUs = us;
  }
  return { minUs, maxUs };
}

async function* outputBatches(schema: Schema, entities: Table, results: readonly ViewResult[], ctx: CallContext) {
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
      yield new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: columns }));
    }
    offset += batch.numRows;
  }
}

/** Growable parallel arrays of candidates. */
class CandidateBuilder {
  private group: number[] = [];
  private tsUs: number[] = [];
  private tsNs: number[] = [];
  private createdUs: number[] = [];
  private createdNs: number[] = [];

  push(group: number, tsUs: number, tsNs: number, createdUs: number, createdNs: number): void {
    this.group.push(group);
    this.tsUs.push(tsUs);
    this.tsNs.push(tsNs);
    this.createdUs.push(createdUs);
    this.createdNs.push(createdNs);
  }

  build(): Candidates {
    return {
      length: this.group.length,
      group: Int32Array.from(this.group),
      tsUs: Float64Array.from(this.tsUs),
      tsNs: Uint16Array.from(this.tsNs),
      createdUs: Float64Array.from(this.createdUs),
      createdNs: Uint16Array.from(this.createdNs),
    };
  }
}
