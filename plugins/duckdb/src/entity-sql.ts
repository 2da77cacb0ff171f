/**
 * `entity_df_sql`: the entity rows given as a SQL query (Feast's duckdb store lacks this; its SQL
 * stores run the query in their warehouse). The query runs in the sandbox database, which reads
 * files only under the repo and `larder.data_roots` and cannot be reconfigured from SQL, and it
 * must be one SELECT: anything that writes (COPY … TO, CREATE, ATTACH, SET…) is refused before it
 * runs, so it changes nothing. The rows are then read as Arrow, like an uploaded entity table.
 */
import { InvalidArgumentError, recordBatch, type CallContext } from '@larder/core';
import { StatementType, type DuckDBConnection } from '@duckdb/node-api';
import { Table } from 'apache-arrow';
import { ChunkReader, OUTPUT_BATCH_ROWS, OwnedResult, resultSchema } from './query-stream.ts';

export async function entityTableFromSql(connection: DuckDBConnection, sql: string, ctx: CallContext): Promise<Table> {
  const owned = new OwnedResult(connection, ctx.signal);
  try {
    const statements = await connection.extractStatements(sql).catch((error: Error) => {
      throw new InvalidArgumentError(`entity_df_sql is not valid SQL: ${firstLine(error)}`);
    });
    if (statements.count !== 1) {
      throw new InvalidArgumentError(`entity_df_sql must be exactly one SELECT statement; it has ${statements.count}`);
    }
    const prepared = await statements.prepare(0).catch((error: Error) => {
      throw new InvalidArgumentError(`entity_df_sql failed: ${firstLine(error)}`);
    });
    if (prepared.statementType !== StatementType.SELECT) {
      throw new InvalidArgumentError(`entity_df_sql must be a read-only SELECT statement; it is a ${StatementType[prepared.statementType]} statement`);
    }
    // Run to completion, not streamed: @duckdb/node-api ends a stream that fails midway (a bad value
    // in row 3 million) exactly like one that is done, which would silently cut the entity rows short.
    // The rows are all read into memory below anyway.
    owned.result = await prepared.run().catch((error: Error) => {
      throw new InvalidArgumentError(`entity_df_sql failed: ${firstLine(error)}`);
    });
    const schema = resultSchema(owned.result);
    const reader = new ChunkReader(owned.result);
    const batches = [];
    for (;;) {
      ctx.signal.throwIfAborted();
      const { length, columns } = await reader.take(OUTPUT_BATCH_ROWS);
      if (length > 0) batches.push(recordBatch(schema, columns, length));
      if (length < OUTPUT_BATCH_ROWS) break;
    }
    return batches.length > 0 ? new Table(batches) : new Table(schema);
  } finally {
    owned.close();
  }
}

function firstLine(error: Error): string {
  return error.message.split('\n')[0]!;
}
