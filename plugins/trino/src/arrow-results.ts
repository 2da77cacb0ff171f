/**
 * A running Trino statement as core's ResultStream: the schema from Trino's column types
 * (arrow-types.ts), then Arrow record batches built while Trino's pages arrive. At most one
 * batch's rows are held at a time; a batch ends at `maxBatchRows` rows or `maxBatchBytes`, and at a
 * page's end once it has `minBatchRows` (so that tiny pages are coalesced but a slow query's rows
 * still leave as they come).
 *
 * The stream owns the statement: ending it early (the client went away, the deadline passed, the
 * consumer returned) cancels the query on the cluster, as does a failure while converting.
 */
import { Field, type RecordBatch, Schema } from 'apache-arrow';
import { ownedBatches, recordBatch, type ResultStream } from '@larder/core';
import { type ColumnBuilder, columnBuilder } from './arrow-columns.ts';
import { arrowTypeForTrino } from './arrow-types.ts';
import type { Statement } from './client.ts';

/** How batches are cut. */
export interface BatchLimits {
  /** Most rows in one batch (default 65 536). */
  readonly maxBatchRows?: number;
  /** A batch ends once its columns hold about this many bytes (default 8 MiB). */
  readonly maxBatchBytes?: number;
  /** At a page's end, a batch with at least this many rows is sent rather than grown (default 1 024). */
  readonly minBatchRows?: number;
}

const DEFAULTS: Required<BatchLimits> = { maxBatchRows: 65_536, maxBatchBytes: 8 * 1024 * 1024, minBatchRows: 1024 };

/**
 * The statement's result as a ResultStream. Waits for Trino to report the columns (so a query
 * Trino rejects fails here, with the statement's mapped error); the rows follow as the batches
 * are read. On failure before the stream is returned, the statement is cancelled.
 */
export async function trinoResultStream(statement: Statement, limits: BatchLimits = {}): Promise<ResultStream> {
  let schema: Schema;
  try {
    const columns = await statement.columns();
    schema = new Schema(columns.map((c) => new Field(c.name, arrowTypeForTrino(c.type), true)));
  } catch (error) {
    await statement.cancel();
    throw error;
  }
  const batches = ownedBatches(
    () => batchesOf(statement, schema, { ...DEFAULTS, ...limits }),
    () => statement.cancel(),
  );
  return { schema, batches };
}

async function* batchesOf(statement: Statement, schema: Schema, limits: Required<BatchLimits>): AsyncGenerator<RecordBatch> {
  const builders: ColumnBuilder[] = schema.fields.map((f) => columnBuilder(f.type, f.name));
  let rows = 0;
  const bytes = () => builders.reduce((sum, b) => sum + b.bytes, 0);
  const flush = (): RecordBatch => {
    const batch = recordBatch(
      schema,
      builders.map((b) => b.finish()),
      rows,
    );
    rows = 0;
    return batch;
  };
  for await (const page of statement.pages()) {
    for (const row of page) {
      for (let i = 0; i < builders.length; i++) builders[i]!.append(row[i] ?? null);
      rows++;
      // Bytes are summed every 256 rows: cheap enough, and a batch overshoots by at most that.
      if (rows >= limits.maxBatchRows || ((rows & 0xff) === 0 && bytes() >= limits.maxBatchBytes)) yield flush();
    }
    if (rows >= limits.minBatchRows) yield flush();
  }
  if (rows > 0) yield flush();
}
