/**
 * The start/end-date mode of get_historical_features (no entity table), by the rule larder's duckdb
 * store follows (and Feast's newer non-entity tests expect; larder's file and postgres stores
 * answer as Feast's file and postgres stores, see docs/date-range-retrieval.md): every distinct (join keys, event time) of the requested views' source rows with
 * start ≤ ts ≤ end becomes an entity row `event_timestamp, <join keys>`, and each view is then
 * joined to those rows as usual.
 */
import { InvalidArgumentError, assertViewTimeColumns, batchSourceOf, recordBatch, viewColumns, type FeatureView } from '@larder/core';
import { Field, Schema, Table, TimeUnit, Timestamp, makeData, type RecordBatch } from 'apache-arrow';
import { columnTypes, instantsNs, keyStrings, take } from './arrow-columns.ts';
import type { SourceReader } from './historical.ts';

export async function entitiesInRange(views: readonly FeatureView[], start: Date, end: Date, read: SourceReader): Promise<Table> {
  const [startNs, endNs] = [start, end].map((d) => BigInt(d.getTime()) * 1_000_000n) as [bigint, bigint];
  const tsType = new Timestamp(TimeUnit.MICROSECOND, 'UTC');
  const seen = new Set<string>();
  const batches: RecordBatch[] = [];
  let schema: Schema | null = null;
  for (const view of views) {
    const { table, where } = await read(batchSourceOf(view));
    const columns = viewColumns(view, [], false, table.schema.names as string[], where);
    assertViewTimeColumns(view, columns, columnTypes(table.schema), where);
    const keyColumns = columns.keyColumns.map((c) => table.getChild(c)!);
    const viewSchema = new Schema([
      new Field('event_timestamp', tsType, false),
      ...keyColumns.map((column, i) => new Field(columns.entityKeyNames[i]!, column.type, true)),
    ]);
    if (schema && String(schema.fields) !== String(viewSchema.fields)) {
      throw new InvalidArgumentError(
        'Retrieval by start_date/end_date needs feature views with the same join keys; request these views separately',
      );
    }
    schema = viewSchema;
    const keys = keyStrings(keyColumns, table.numRows, 'never-match');
    const ts = instantsNs(table.getChild(columns.timestampColumn)!);
    const rows: number[] = [];
    ts.forEach((t, row) => {
      const id = `${keys[row]}|${t}`;
      if (t === null || t < startNs || t > endNs || seen.has(id)) return;
      seen.add(id);
      rows.push(row);
    });
    const picked = Int32Array.from(rows);
    const micros = BigInt64Array.from(rows, (row) => ts[row]! / 1000n);
    const timestamps = makeData({ type: tsType, length: rows.length, nullCount: 0, data: micros });
    batches.push(recordBatch(viewSchema, [timestamps, ...keyColumns.map((column) => take(column, picked))], rows.length));
  }
  if (!schema) throw new InvalidArgumentError('get_historical_features needs at least one feature view');
  return new Table(schema, batches);
}
