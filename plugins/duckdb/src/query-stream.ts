/**
 * A DuckDB query whose result is pulled chunk by chunk and handed out as Arrow columns.
 *
 * The query runs in streaming mode (`connection.stream`): DuckDB produces the next chunks only as
 * they are fetched, so a slow client slows the query instead of filling memory. Aborting the
 * call interrupts the query; closing the stream (end, error, or the consumer giving up — even
 * before it started) disconnects the connection exactly once.
 */
import type { DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { FailedPreconditionError, InvalidArgumentError, LarderError, ownedBatches, recordBatch } from '@larder/core';
import { Field, Schema, type Data, type RecordBatch } from 'apache-arrow';
import { UnsupportedColumnType, arrowTypeOf, columnBuilder, type ColumnBuilder } from './arrow-columns.ts';

/** Rows per Arrow batch sent on: DuckDB's 2,048-row chunks are merged up to this. */
export const OUTPUT_BATCH_ROWS = 65_536;

export class ChunkReader {
  private chunk: DuckDBDataChunk | null = null;
  private chunkRows = 0;
  private position = 0;
  private done = false;
  readonly types: readonly DuckDBType[];

  constructor(private readonly result: DuckDBResult) {
    this.types = result.columnTypes();
  }

  /** Up to `rows` rows as one Data per column; fewer only when the result ends. */
  async take(rows: number): Promise<{ length: number; columns: Data[] }> {
    const builders: ColumnBuilder[] = this.types.map((t) => columnBuilder(t, rows));
    let length = 0;
    while (length < rows) {
      if (this.position >= this.chunkRows) {
        if (this.done || !(await this.nextChunk())) break;
      }
      const count = Math.min(rows - length, this.chunkRows - this.position);
      const chunk = this.chunk!.chunk;
      builders.forEach((b, c) => b.append(duckdb.data_chunk_get_vector(chunk, c), this.position, count));
      this.position += count;
      length += count;
    }
    return { length, columns: builders.map((b) => b.finish()) };
  }

  private async nextChunk(): Promise<boolean> {
    this.chunk = await this.result.fetchChunk();
    this.position = 0;
    this.chunkRows = this.chunk?.rowCount ?? 0;
    // DuckDB signals the end with a missing or empty chunk.
    if (!this.chunk || this.chunkRows === 0) {
      this.done = true;
      this.chunk = null;
      return false;
    }
    return true;
  }
}

/**
 * The Arrow schema of a result, with the given names (DuckDB's own when omitted). A column of a
 * type larder cannot send comes from what the client controls (its entity_df_sql, a source file),
 * so it is refused as the client's to fix, named, with the way out.
 */
export function resultSchema(result: DuckDBResult, names?: readonly string[]): Schema {
  const types = result.columnTypes();
  return new Schema(
    types.map((t, i) => {
      const name = names?.[i] ?? result.columnName(i);
      try {
        return new Field(name, arrowTypeOf(t), true);
      } catch (error) {
        if (!(error instanceof UnsupportedColumnType)) throw error;
        throw new InvalidArgumentError(
          `Column "${name}" has DuckDB type ${error.duckdbType}, which larder cannot send as Arrow: CAST it (to VARCHAR, DOUBLE, BIGINT or TIMESTAMP) in the SQL that produces it, or leave it out`,
        );
      }
    }),
  );
}

/**
 * Runs `sql` streaming on `connection`, which the returned stream owns: it is interrupted when
 * `signal` aborts and disconnected when the stream is closed.
 */
export async function openQuery(connection: DuckDBConnection, sql: string, signal: AbortSignal): Promise<OwnedResult> {
  const owned = new OwnedResult(connection, signal);
  try {
    signal.throwIfAborted();
    owned.result = await connection.stream(sql);
    return owned;
  } catch (error) {
    owned.close();
    throw dataFailure(error, signal);
  }
}

/** DuckDB's error classes that come from the values it read, not from the SQL larder wrote. */
const DATA_ERRORS = /^(Conversion Error|Out of Range Error|Invalid Input Error): /;

/**
 * A query over a source failed on a value in the data (a timestamp beyond what nanoseconds hold,
 * a file that is not what it claims): the data does not fit what the request needs, which no
 * retry or larder fix changes — FAILED_PRECONDITION with DuckDB's text. Other errors (a Binder
 * Error in SQL larder generated) stay what they are: larder's own bugs.
 */
export function dataFailure(error: unknown, signal: AbortSignal): unknown {
  const message = (error as Error | undefined)?.message ?? '';
  if (signal.aborted || error instanceof LarderError || !DATA_ERRORS.test(message)) return error;
  return new FailedPreconditionError(`DuckDB could not read the data this call needs: ${message.split('\n')[0]}`);
}

export class OwnedResult {
  result!: DuckDBResult;
  private closed = false;
  private readonly onAbort = () => this.connection.interrupt();

  constructor(
    readonly connection: DuckDBConnection,
    private readonly signal: AbortSignal,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal.removeEventListener('abort', this.onAbort);
    this.connection.disconnectSync();
  }
}

/** Every row of an owned result, as Arrow batches of up to OUTPUT_BATCH_ROWS rows. */
export function resultBatches(
  owned: OwnedResult,
  schema: Schema,
  signal: AbortSignal,
  expectedRows?: number,
  shortResult?: (rows: number, expected: number) => Error,
): AsyncIterable<RecordBatch> {
  const reader = new ChunkReader(owned.result);
  let rows = 0;
  // @duckdb/node-api ends a stream that failed midway exactly like one that is done: when the
  // number of rows is known, a short result is that failure, reported rather than sent as complete.
  const checkEnd = () => {
    if (expectedRows !== undefined && rows !== expectedRows) {
      throw (
        shortResult?.(rows, expectedRows) ??
        new LarderError(`DuckDB ended the result after ${rows} of its ${expectedRows} rows without saying why`)
      );
    }
  };
  return ownedBatches(
    async function* () {
      for (;;) {
        signal.throwIfAborted();
        const { length, columns } = await reader.take(OUTPUT_BATCH_ROWS).catch((error: unknown) => {
          throw dataFailure(error, signal);
        });
        rows += length;
        if (length === 0) return checkEnd();
        yield recordBatch(schema, columns, length);
        if (length < OUTPUT_BATCH_ROWS) return checkEnd();
      }
    },
    () => owned.close(),
  );
}

/**
 * Runs `work` on a fresh connection. If `work` fails the connection is disconnected here; if it
 * succeeds, what it returns (a stream over an OwnedResult) owns the connection.
 */
export async function onConnection<T>(connect: () => Promise<DuckDBConnection>, work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const connection = await connect();
  try {
    return await work(connection);
  } catch (error) {
    try {
      connection.disconnectSync();
    } catch {
      // Already disconnected by the query that failed.
    }
    throw error;
  }
}
