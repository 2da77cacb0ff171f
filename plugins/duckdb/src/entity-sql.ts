/**
 * `entity_df_sql`: the entity rows given as a SQL query (Feast's duckdb store lacks this; its SQL
 * stores run the query in their warehouse). The query must be one SELECT: anything that writes
 * (COPY … TO, CREATE, ATTACH, SET…) is refused before it runs, so it changes nothing. It runs in a
 * database whose file access is locked to a scope (database.ts):
 * - with an auth provider, the files of the data sources the caller may READ_OFFLINE, in a
 *   database of the call's own — reading anything else is a FeastPermissionError;
 * - with `no_auth`, the repo and `larder.data_roots`, in one shared sandbox.
 * The rows are then read as Arrow, like an uploaded entity table.
 */
import { FeastPermissionError, InvalidArgumentError, recordBatch, type CallContext } from '@larder/core';
import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { Table } from 'apache-arrow';
import { ChunkReader, OUTPUT_BATCH_ROWS, OwnedResult, resultSchema } from './query-stream.ts';

/** Whose files the SQL may read: the caller's readable sources (`confined`), or the whole repo. */
export type SqlScope = 'confined' | 'repo';

export async function entityTableFromSql(
  connection: DuckDBConnection,
  sql: string,
  ctx: CallContext,
  scope: SqlScope = 'repo',
): Promise<Table> {
  const owned = new OwnedResult(connection, ctx.signal);
  const failed = (error: Error) => sqlFailure(error, scope);
  try {
    const statements = await connection.extractStatements(sql).catch((error: Error) => {
      throw new InvalidArgumentError(`entity_df_sql is not valid SQL: ${firstLine(error)}`);
    });
    if (statements.count !== 1) {
      throw new InvalidArgumentError(`entity_df_sql must be exactly one SELECT statement; it has ${statements.count}`);
    }
    const prepared = await statements.prepare(0).catch((error: Error) => {
      throw failed(error);
    });
    if (prepared.statementType !== StatementType.SELECT) {
      throw new InvalidArgumentError(
        `entity_df_sql must be a read-only SELECT statement; it is a ${StatementType[prepared.statementType]} statement`,
      );
    }
    // Run to completion, not streamed: @duckdb/node-api ends a stream that fails midway (a bad value
    // in row 3 million) exactly like one that is done, which would silently cut the entity rows short.
    // The rows are all read into memory below anyway.
    owned.result = await prepared.run().catch((error: Error) => {
      throw failed(error);
    });
    const schema = resultSchema(owned.result);
    const reader = new ChunkReader(owned.result);
    const batches = [];
    for (;;) {
      ctx.signal.throwIfAborted();
      const { length, columns } = await reader.take(OUTPUT_BATCH_ROWS).catch((error: Error) => {
        throw failed(error);
      });
      if (length > 0) batches.push(recordBatch(schema, columns, length));
      if (length < OUTPUT_BATCH_ROWS) break;
    }
    return batches.length > 0 ? new Table(batches) : new Table(schema);
  } finally {
    owned.close();
  }
}

/**
 * DuckDB's refusal to touch a file outside the scope ("Permission Error: Cannot access file …")
 * is, for a confined caller, a permission error naming the file; anything else the SQL got wrong
 * is the client's to fix.
 */
function sqlFailure(error: Error, scope: SqlScope): Error {
  const line = firstLine(error);
  if (scope === 'confined' && /^Permission Error:/.test(line)) {
    const what = /Cannot access (?:file|directory) "[^"]*"/.exec(line)?.[0] ?? line;
    return new FeastPermissionError(`entity_df_sql may read only the files of data sources you may read (READ_OFFLINE): ${what}`);
  }
  return new InvalidArgumentError(`entity_df_sql failed: ${line}`);
}

function firstLine(error: Error): string {
  return error.message.split('\n')[0]!;
}
