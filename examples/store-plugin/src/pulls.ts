/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query over a source's rows. Output
 * columns are raw source names: join keys, features (every column when none are named), event
 * time, created time, each once; plus Feast's `__dummy_id` ("") when there are no join keys.
 * Both bounds are inclusive; rows with a null event time are never returned.
 */
import { DUMMY_ENTITY_ID, assertPullTimeColumns, pullColumns, recordBatch, type PullRequest, type ResultStream } from '@larder/core';
import { Field, Schema, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { columnTypes, instantsNs, keyStrings, take } from './arrow-columns.ts';
import type { LoadedSource } from './historical.ts';
import { compareVersions } from './point-in-time.ts';

export function pullAll(req: PullRequest, source: LoadedSource, batchRows: number, signal: AbortSignal): ResultStream {
  const columns = checkedColumns(req, source);
  const rows = inRange(req, instantsNs(source.table.getChild(req.timestampField)!));
  return stream(req, columns, Int32Array.from(rows), batchRows, signal);
}

export function pullLatest(req: PullRequest, source: LoadedSource, batchRows: number, signal: AbortSignal): ResultStream {
  const columns = checkedColumns(req, source);
  const { table } = source;
  const ts = instantsNs(table.getChild(req.timestampField)!);
  const created = req.createdTimestampColumn ? instantsNs(table.getChild(req.createdTimestampColumn)!) : null;
  const version = (row: number) => ({ ts: ts[row]!, created: created?.[row] ?? null });
  const keys = keyStrings(
    req.joinKeyColumns.map((c) => table.getChild(c)!),
    table.numRows,
    'group',
  );
  // The latest row per key, a full tie going to the later row; keys keep the order they first appear in.
  const latest = new Map<string, number>();
  for (const row of inRange(req, ts)) {
    const current = latest.get(keys[row]!);
    if (current === undefined || compareVersions(version(row), version(current)) >= 0) latest.set(keys[row]!, row);
  }
  return stream(req, columns, Int32Array.from(latest.values()), batchRows, signal);
}

/** The pulled columns: the source's fields and their values. */
interface PulledColumns {
  readonly fields: readonly Field[];
  readonly vectors: readonly Vector[];
}

/** The pulled columns, checked before any row is read: all present, the time columns holding times. */
function checkedColumns(req: PullRequest, { table, where }: LoadedSource): PulledColumns {
  const names = pullColumns(req, table.schema.names as string[], where);
  assertPullTimeColumns(req, columnTypes(table.schema), where);
  return {
    fields: names.map((name) => table.schema.fields.find((f) => f.name === name)!),
    vectors: names.map((name) => table.getChild(name)!),
  };
}

/** Rows whose event time lies within the request's bounds (either may be absent). */
function inRange(req: PullRequest, ts: readonly (bigint | null)[]): number[] {
  const start = req.startDate ? BigInt(req.startDate.getTime()) * 1_000_000n : null;
  const end = req.endDate ? BigInt(req.endDate.getTime()) * 1_000_000n : null;
  const rows: number[] = [];
  ts.forEach((t, row) => {
    if (t !== null && (start === null || t >= start) && (end === null || t <= end)) rows.push(row);
  });
  return rows;
}

/** The picked rows of the pulled columns, in batches of `batchRows`. */
function stream(req: PullRequest, columns: PulledColumns, rows: Int32Array, batchRows: number, signal: AbortSignal): ResultStream {
  const withDummy = req.joinKeyColumns.length === 0;
  const schema = new Schema([...columns.fields, ...(withDummy ? [new Field(DUMMY_ENTITY_ID, new Utf8(), true)] : [])]);
  async function* batches() {
    for (let start = 0; start < rows.length; start += batchRows) {
      signal.throwIfAborted();
      const picked = rows.subarray(start, start + batchRows);
      const data = columns.vectors.map((column) => take(column, picked));
      if (withDummy) data.push(vectorFromArray(new Array<string>(picked.length).fill(''), new Utf8()).data[0]!);
      yield recordBatch(schema, data, picked.length);
    }
  }
  return { schema, numRows: rows.length, batches: batches() };
}
