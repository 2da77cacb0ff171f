/**
 * The start/end-date mode of get_historical_features (no entity table), answered as Feast's file
 * (dask) store answers it: a snapshot of every entity as of `end_date`.
 *
 * Feast's DaskOfflineStore makes the entity table `{event_timestamp: [end_date]}`, cross-joins it
 * with each view's source and keeps, per join key, the latest row with
 * `end_date − ttl ≤ ts ≤ end_date` (no lower bound without a TTL; ties by created timestamp).
 * `start_date` filters nothing. Here the same answer is reached through the store's ordinary
 * point-in-time join: the entity table this module builds holds every key that has a row in some
 * view's window, each stamped with `end_date`, and the join then picks each view's row. Views with
 * disjoint join keys give every combination of their keys, as in Feast.
 *
 * Where Feast's answer is a bug larder answers the correct version of the same snapshot (see
 * plugins/parquet-files/README.md, "The start/end-date mode"):
 * - views with the same join keys: Feast cross-joins every view after the first on no key and
 *   keeps an arbitrary pairing (a `driver_id__` column, another key's values); here each view is
 *   joined on its keys, over the union of the views' keys.
 * - views whose join keys overlap without being equal are refused: Feast mis-pairs them too, and
 *   no entity table follows from them without inventing one.
 * - a row with a null join key or a null event timestamp is no entity here (the point-in-time join
 *   never matches either); Feast emits it as one.
 *
 * Memory: one entry per distinct key of each key group (as pull_latest), then the entity table
 * (the product of the groups' keys, at most MAX_COMBINATIONS rows).
 */
import { InvalidArgumentError, type CallContext, type FeatureView } from '@larder/core';
import { Field, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, makeData, type Data, type DataType } from 'apache-arrow';
import { gather } from './gather.ts';
import { encodeKeys, type KeyValue } from './keys.ts';
import { compareInstants, instantsOfData } from './timestamps.ts';
import { planView, readViewRowGroups, type ViewPlan } from './view-source.ts';
import type { SourceLocator } from './source-paths.ts';

/**
 * The most rows the combinations of several key groups may make: views with disjoint join keys
 * multiply (10k drivers × 10k cities is 100M rows), which is rarely what a caller meant.
 */
export const MAX_COMBINATIONS = 50_000_000;

/** The entity table's timestamp column, as Feast's synthetic entity dataframe names it. */
export const SNAPSHOT_TIMESTAMP_COLUMN = 'event_timestamp';

/** Views that share the same join keys (the entity columns after join_key_map). */
interface KeyGroup {
  /** The key names, in the order of the first view that has them. */
  readonly fields: readonly Field[];
  /** Per view, its raw source key columns in the order of `fields`. */
  readonly views: Array<{ readonly plan: ViewPlan; readonly rawKeys: readonly string[] }>;
}

/** One key group's distinct keys in its window, as one chunk per key column, oldest latest row first. */
interface GroupKeys {
  readonly fields: readonly Field[];
  readonly columns: readonly Data[];
  readonly length: number;
}

/**
 * The entity table of the snapshot: `event_timestamp` (= `end`, timestamp[ns, UTC], as Feast's
 * pandas column) and the join keys of every key group, one row per combination of the groups'
 * keys. Empty when no view has a row in its window.
 */
export async function snapshotEntityTable(
  views: readonly FeatureView[],
  end: Date,
  locator: SourceLocator,
  ctx: CallContext,
): Promise<Table> {
  assertNanosecondInstant(end);
  const groups = keyGroups(await Promise.all(views.map((view) => planView(view, [], false, locator))));
  const keys: GroupKeys[] = [];
  for (const group of groups) keys.push(await groupKeys(group, end, ctx));
  const schema = new Schema([
    new Field(SNAPSHOT_TIMESTAMP_COLUMN, new Timestamp(TimeUnit.NANOSECOND, 'UTC'), false),
    ...keys.flatMap((g) => g.fields),
  ]);
  // Every combination of the groups' keys: a group with nothing in its window empties the
  // result, as in Feast (whose cross joins then have nothing to join).
  const total = keys.reduce((n, g) => n * g.length, 1);
  if (total === 0) return new Table(schema);
  if (total > MAX_COMBINATIONS) {
    throw new InvalidArgumentError(
      `Retrieval by start_date/end_date: the feature views have disjoint join keys, and every combination of their keys ` +
        `(${keys.map((g) => `${g.length} ${g.fields.map((f) => f.name).join('+')}`).join(' × ')}) makes ${total} rows, ` +
        `more than the ${MAX_COMBINATIONS} allowed; request the views separately or pass an entity_df`,
    );
  }
  const columns: Data[] = [endColumn(end, total)];
  // The last group varies slowest: Feast's rows end sorted by the last view's timestamps.
  let stride = 1;
  for (const group of keys) {
    const rowOf = new Int32Array(total);
    for (let i = 0; i < total; i++) rowOf[i] = Math.floor(i / stride) % group.length;
    const chunkOf = new Int32Array(total);
    group.columns.forEach((data) => columns.push(gather(data.type as DataType, [data], chunkOf, rowOf)));
    stride *= group.length;
  }
  const data = makeData({ type: new Struct(schema.fields), length: total, nullCount: 0, children: columns });
  return new Table([new RecordBatch(schema, data)]);
}

/** The views grouped by their join keys; groups in order of first appearance. */
function keyGroups(plans: readonly ViewPlan[]): KeyGroup[] {
  const groups = new Map<string, KeyGroup>();
  for (const plan of plans) {
    const id = JSON.stringify([...plan.entityKeyNames].sort());
    let group = groups.get(id);
    if (!group) {
      const fields = plan.entityKeyNames.map((name, i) => new Field(name, fieldOf(plan, plan.keyColumns[i]!).type, true));
      group = { fields, views: [] };
      groups.set(id, group);
    }
    const rawKeys = group.fields.map((f) => plan.keyColumns[plan.entityKeyNames.indexOf(f.name)]!);
    rawKeys.forEach((raw, i) => {
      const type = fieldOf(plan, raw).type;
      if (String(type) !== String(group.fields[i]!.type)) {
        throw new InvalidArgumentError(
          `Retrieval by start_date/end_date: join key "${group.fields[i]!.name}" is ${String(group.fields[i]!.type)} in one feature view ` +
            `and ${String(type)} in "${plan.view.name}"; request these views separately`,
        );
      }
    });
    group.views.push({ plan, rawKeys });
  }
  const list = [...groups.values()];
  for (let a = 0; a < list.length; a++) {
    for (let b = a + 1; b < list.length; b++) {
      const shared = list[a]!.fields.filter((f) => list[b]!.fields.some((g) => g.name === f.name)).map((f) => f.name);
      if (shared.length > 0) {
        throw new InvalidArgumentError(
          `Retrieval by start_date/end_date: feature views "${list[a]!.views[0]!.plan.view.name}" and "${list[b]!.views[0]!.plan.view.name}" ` +
            `share the join key(s) ${shared.join(', ')} but not all their join keys, so no entity table follows from them ` +
            "(Feast's file store pairs their rows arbitrarily); request them separately or pass an entity_df",
        );
      }
    }
  }
  return list;
}

function fieldOf(plan: ViewPlan, raw: string): Field {
  return plan.schema.fields.find((f) => f.name === raw)!;
}

/** Whether a source row lies in the view's window: `end − ttl ≤ ts ≤ end` (no lower bound without a TTL). */
function windowTest(plan: ViewPlan, end: Date): (us: number, ns: number) => boolean {
  const endUs = end.getTime() * 1000;
  const lowUs = plan.view.ttlSeconds > 0 ? endUs - Math.round(plan.view.ttlSeconds * 1e6) : -Infinity;
  return (us, ns) => !Number.isNaN(us) && us >= lowUs && compareInstants(us, ns, endUs, 0) <= 0;
}

/**
 * The group's distinct non-null keys with a row in some view's window, ordered by their latest
 * such row. A group of views without join keys has one (empty) key if any of them has a row in its
 * window, else none.
 */
async function groupKeys(group: KeyGroup, end: Date, ctx: CallContext): Promise<GroupKeys> {
  if (group.fields.length === 0) return { fields: [], columns: [], length: (await anyRowInWindow(group, end, ctx)) ? 1 : 0 };
  // Per key: where its values were first seen, and its latest timestamp in the window.
  const seen = new Map<KeyValue, { chunk: number; row: number; us: number; ns: number }>();
  const chunks: Data[][] = group.fields.map(() => []);
  for (const { plan, rawKeys } of group.views) {
    const inWindow = windowTest(plan, end);
    for await (const table of readViewRowGroups(plan, ctx.signal)) {
      for (const batch of table.batches) {
        const ts = instantsOfData(batch.getChild(plan.timestampColumn)!.data[0]!);
        const keyData = rawKeys.map((c) => batch.getChild(c)!.data[0]!);
        const keys = encodeKeys(keyData, batch.numRows);
        const chunk = chunks[0]!.length;
        let kept = false;
        for (let r = 0; r < batch.numRows; r++) {
          const key = keys[r];
          const us = ts.us[r]!;
          const ns = ts.ns[r]!;
          if (key === null || key === undefined || !inWindow(us, ns)) continue;
          const current = seen.get(key);
          if (!current) {
            seen.set(key, { chunk, row: r, us, ns });
            kept = true;
          } else if (compareInstants(us, ns, current.us, current.ns) > 0) {
            current.us = us;
            current.ns = ns;
          }
        }
        if (kept) keyData.forEach((data, i) => chunks[i]!.push(data));
      }
    }
  }
  const entries = [...seen.values()].sort((a, b) => compareInstants(a.us, a.ns, b.us, b.ns));
  const chunkOf = Int32Array.from(entries, (e) => e.chunk);
  const rowOf = Int32Array.from(entries, (e) => e.row);
  const columns = group.fields.map((field, i) => gather(field.type as DataType, chunks[i]!, chunkOf, rowOf));
  return { fields: group.fields, columns, length: entries.length };
}

/** Whether any view of the group has a row in its window. */
async function anyRowInWindow(group: KeyGroup, end: Date, ctx: CallContext): Promise<boolean> {
  for (const { plan } of group.views) {
    const inWindow = windowTest(plan, end);
    for await (const table of readViewRowGroups(plan, ctx.signal)) {
      for (const batch of table.batches) {
        const ts = instantsOfData(batch.getChild(plan.timestampColumn)!.data[0]!);
        for (let r = 0; r < batch.numRows; r++) if (inWindow(ts.us[r]!, ts.ns[r]!)) return true;
      }
    }
  }
  return false;
}

/** The instants a timestamp[ns] holds: 1677-09-21T00:12:43.146Z to 2262-04-11T23:47:16.854Z (whole milliseconds). */
const NS_LIMIT_MS = 9_223_372_036_854;

/** `end_date` becomes the nanosecond event_timestamp; Feast's pandas refuses the dates it cannot hold too. */
function assertNanosecondInstant(end: Date): void {
  if (Math.abs(end.getTime()) > NS_LIMIT_MS) {
    throw new InvalidArgumentError(
      `end_date ${end.toISOString()} is outside the range of nanosecond timestamps (1677-09-21 to 2262-04-11), ` +
        'which the event_timestamp column of the start/end-date mode holds; pass an end_date within it',
    );
  }
}

/** `end` on every row, as timestamp[ns, UTC]. */
function endColumn(end: Date, length: number): Data {
  const values = new BigInt64Array(length).fill(BigInt(end.getTime()) * 1_000_000n);
  return makeData({ type: new Timestamp(TimeUnit.NANOSECOND, 'UTC'), length, nullCount: 0, data: values });
}
