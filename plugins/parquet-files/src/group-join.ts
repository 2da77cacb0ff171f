/**
 * The point-in-time join of a group of views that read the same source with the same keys and
 * timestamps, in one pass over the source.
 *
 * The group (core's groupBySource) is matched once within its widest TTL, and each view then
 * checks only the chosen row against its own TTL.
 *
 * The source is read a row group at a time. A row becomes a candidate only if its key occurs among
 * the entity rows and its timestamp lies within [earliest T − TTL, latest T] of the entity rows
 * with that key: with entity rows spread over time, most rows of a key cannot be anyone's choice,
 * and dropping them here is what keeps the candidates (and their sort) small.
 */
import { InvalidArgumentError, MissingColumnError, groupBySource, needsOwnTtl, type CallContext, type SourceGroup } from '@larder/core';
import { Field, type Data, type Table } from 'apache-arrow';
import { entityGroups } from './entity-groups.ts';
import { encodeKeys, keyFamily } from './keys.ts';
import { applyTtl, pointInTimeChoice, type Candidates } from './point-in-time.ts';
import { instantsOfData, type Instants } from './timestamps.ts';
import { readGroupRowGroups, type ViewPlan } from './view-source.ts';
import { locationKey } from './source-paths.ts';

/** The chosen source row of every entity row for one view, and the chunks to take values from. */
export interface ViewResult {
  readonly plan: ViewPlan;
  readonly fields: readonly Field[];
  /** Per feature, the chunks of each kept row group. */
  readonly chunks: readonly Data[][];
  readonly chunkOf: Int32Array;
  readonly rowOf: Int32Array;
}

/** Plans grouped by what one match can serve (core's groupBySource over the source files). */
export function groupPlans(plans: readonly ViewPlan[]): SourceGroup<ViewPlan>[] {
  return groupBySource(plans, (p) => locationKey(p.location));
}

/** One ViewResult per plan of the group, in the group's order. */
export async function joinGroup(
  group: SourceGroup<ViewPlan>,
  entities: Table,
  entityTs: Instants,
  ctx: CallContext,
): Promise<ViewResult[]> {
  const { views: plans, ttlSeconds } = group;
  const first = plans[0]!;
  checkKeys(first, entities);
  const { rows, groups, minUs, maxUs } = entityGroups(entities, first.entityKeyNames, entityTs);
  const lowerSlackUs = ttlSeconds > 0 ? ttlSeconds * 1e6 : Infinity;

  const candidates = new CandidateBuilder();
  const features = plans.flatMap((p) => p.featureColumns);
  const chunks: Data[][] = features.map(() => []);
  const chunkIds = new GrowableInt32();
  const rowIds = new GrowableInt32();
  let keptChunks = 0;
  for await (const table of readGroupRowGroups(plans, ctx.signal)) {
    for (const batch of table.batches) {
      const keys = encodeKeys(
        first.keyColumns.map((c) => batch.getChild(c)!.data[0]!),
        batch.numRows,
      );
      const ts = instantsOfData(batch.getChild(first.timestampColumn)!.data[0]!);
      const created = first.createdColumn ? instantsOfData(batch.getChild(first.createdColumn)!.data[0]!) : null;
      let kept = 0;
      for (let r = 0; r < batch.numRows; r++) {
        const key = keys[r];
        const g = key === null || key === undefined ? undefined : groups.get(key);
        const tsUs = ts.us[r]!;
        // ±1 µs: the bounds are whole microseconds, the timestamps may carry nanoseconds.
        if (g === undefined || Number.isNaN(tsUs) || tsUs > maxUs[g]! + 1 || tsUs < minUs[g]! - lowerSlackUs - 1) continue;
        candidates.push(g, tsUs, ts.ns[r]!, created ? created.us[r]! : NaN, created ? created.ns[r]! : 0);
        chunkIds.push(keptChunks);
        rowIds.push(r);
        kept++;
      }
      // A batch none of whose rows can be chosen is not kept.
      if (kept > 0) {
        features.forEach((c, i) => chunks[i]!.push(batch.getChild(c)!.data[0]!));
        keptChunks++;
      }
    }
  }

  const built = candidates.build();
  const choice = pointInTimeChoice(rows, built, ttlSeconds);
  let featureOffset = 0;
  return plans.map((plan) => {
    const own = needsOwnTtl(plan.view, ttlSeconds) ? applyTtl(choice, rows, built, plan.view.ttlSeconds) : choice;
    const chunkOf = new Int32Array(own.length);
    const rowOf = new Int32Array(own.length);
    for (let i = 0; i < own.length; i++) {
      const c = own[i]!;
      chunkOf[i] = c < 0 ? -1 : chunkIds.at(c);
      rowOf[i] = c < 0 ? 0 : rowIds.at(c);
    }
    const viewChunks = chunks.slice(featureOffset, featureOffset + plan.featureColumns.length);
    featureOffset += plan.featureColumns.length;
    const fields = plan.featureColumns.map((c, i) => {
      const type = viewChunks[i]![0]?.type ?? plan.schema.fields.find((f) => f.name === c)!.type;
      return new Field(plan.outputNames[i]!, type, true);
    });
    return { plan, fields, chunks: viewChunks, chunkOf, rowOf };
  });
}

/** The entity table must have the view's join keys, of a kind that can equal the source's. */
function checkKeys(plan: ViewPlan, entities: Table): void {
  const { view } = plan;
  plan.entityKeyNames.forEach((column, i) => {
    const entityField = entities.schema.fields.find((f) => f.name === column);
    if (!entityField) {
      throw new MissingColumnError(`The entity dataframe has no column "${column}", the join key of feature view ${view.name}`);
    }
    const sourceField = plan.schema.fields.find((f) => f.name === plan.keyColumns[i])!;
    if (keyFamily(entityField.type) !== keyFamily(sourceField.type)) {
      throw new InvalidArgumentError(
        `Join key "${column}" of feature view ${view.name} cannot be matched: the entity dataframe has ${entityField.type}, the source has ${sourceField.type}`,
      );
    }
  });
}

/** An Int32Array that grows by doubling: no per-element boxing, unlike a JS array of numbers. */
class GrowableInt32 {
  private data = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  at(i: number): number {
    return this.data[i]!;
  }

  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

/** Growable parallel arrays of candidates. */
class CandidateBuilder {
  private readonly group = new GrowableInt32();
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
      group: this.group.view(),
      tsUs: Float64Array.from(this.tsUs),
      tsNs: Uint16Array.from(this.tsNs),
      createdUs: Float64Array.from(this.createdUs),
      createdNs: Uint16Array.from(this.createdNs),
    };
  }
}
