/**
 * The start/end-date mode of get_historical_features (no entity table). Feast's stores disagree
 * here (spec §1.11); larder follows the semantics of Feast's newer tests and its postgres store:
 * every distinct (join keys, event timestamp) of the requested views' source rows with
 * start ≤ ts ≤ end becomes an entity row, and each view is then point-in-time joined to those
 * rows as usual. The output starts with `event_timestamp` and the join keys.
 */
import { InvalidArgumentError, type CallContext, type FeatureView } from '@larder/core';
import { Field, RecordBatch, Schema, Struct, Table, TimeUnit, Timestamp, makeData, type Data, type DataType } from 'apache-arrow';
import { gather } from './gather.ts';
import { encodeKeys } from './keys.ts';
import { instantsOfData } from './timestamps.ts';
import { planView, readViewRowGroups } from './view-source.ts';

/** The synthetic entity table: distinct (event_timestamp, keys) of the views' rows in range. */
export async function entitiesInRange(
  views: readonly FeatureView[],
  start: Date,
  end: Date,
  repoPath: string,
  ctx: CallContext,
): Promise<Table> {
  const startUs = start.getTime() * 1000;
  const endUs = end.getTime() * 1000;
  const seen = new Set<string>();
  let schema: Schema | null = null;
  const batches: RecordBatch[] = [];
  for (const view of views) {
    const plan = await planView(view, [], false, repoPath);
    const keyNames = view.entityColumns.map((c) => view.projection.joinKeyMap[c.name] ?? c.name);
    const keyFields = plan.keyColumns.map((raw, i) => new Field(keyNames[i]!, plan.schema.fields.find((f) => f.name === raw)!.type, true));
    const viewSchema = new Schema([new Field('event_timestamp', new Timestamp(TimeUnit.MICROSECOND, 'UTC'), false), ...keyFields]);
    if (schema && String(schema.fields.map((f) => `${f.name}:${f.type}`)) !== String(viewSchema.fields.map((f) => `${f.name}:${f.type}`))) {
      throw new InvalidArgumentError(
        'Retrieval by start_date/end_date needs feature views with the same join keys; request these views separately',
      );
    }
    schema = viewSchema;
    for await (const table of readViewRowGroups(plan, ctx.signal)) {
      for (const batch of table.batches) {
        const ts = instantsOfData(batch.getChild(plan.timestampColumn)!.data[0]!);
        const keyData = plan.keyColumns.map((c) => batch.getChild(c)!.data[0]!);
        const keys = encodeKeys(keyData, batch.numRows);
        const rows: number[] = [];
        for (let r = 0; r < batch.numRows; r++) {
          const us = ts.us[r]!;
          if (Number.isNaN(us) || us < startUs || us > endUs || (us === endUs && ts.ns[r]! > 0)) continue;
          const id = `${String(keys[r])}|${us}:${ts.ns[r]}`;
          if (seen.has(id)) continue;
          seen.add(id);
          rows.push(r);
        }
        if (rows.length === 0) continue;
        const rowOf = Int32Array.from(rows);
        const chunkOf = new Int32Array(rows.length);
        const tsData = microsUtc(batch.getChild(plan.timestampColumn)!.data[0]!, rowOf);
        const columns: Data[] = [tsData, ...keyData.map((d) => gather(d.type as DataType, [d], chunkOf, rowOf))];
        batches.push(
          new RecordBatch(
            viewSchema,
            makeData({ type: new Struct(viewSchema.fields), length: rows.length, nullCount: 0, children: columns }),
          ),
        );
      }
    }
  }
  if (!schema) throw new InvalidArgumentError('get_historical_features needs at least one feature view');
  return batches.length > 0 ? new Table(batches) : new Table(schema);
}

/** The chosen rows of a timestamp column as timestamp[us, UTC]. */
function microsUtc(data: Data, rows: Int32Array): Data {
  const instants = instantsOfData(data);
  const values = new BigInt64Array(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = BigInt(instants.us[rows[i]!]!);
  return makeData({ type: new Timestamp(TimeUnit.MICROSECOND, 'UTC'), length: rows.length, nullCount: 0, data: values });
}
