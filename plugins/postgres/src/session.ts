/**
 * One call's connection: its statements, its COPYs in and out, and its end.
 *
 * A session holds one pooled connection from open to close. When the call's signal aborts, the
 * statement running on it is cancelled on the server (not merely abandoned), and the connection
 * is destroyed instead of going back to the pool. A result stream owns its session: it closes it
 * when it ends, fails, or is given up — even before its first batch was asked for.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CallContext } from '@larder/core';
import type { RecordBatch } from 'apache-arrow';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { Connections } from './connections.ts';
import { decodeCopyBinary, type PgColumn } from './copy-binary-decoder.ts';
import { queryError } from './errors.ts';

export class Session {
  private closed = false;
  private healthy = true;
  private inTransaction = false;
  private readonly onAbort = () => {
    this.healthy = false;
    this.connections
      .cancel(this.client)
      .catch((error: Error) => this.ctx.logger.warn({ err: error.message }, 'postgres: cancelling a statement failed'));
  };

  /**
   * node-postgres emits 'error' on a checked-out client whose connection dies (the server killed
   * or restarted): without a listener that is an uncaught exception that ends the process. The
   * statement running on it fails on its own; the connection is only marked for destruction.
   */
  private readonly onClientError = (error: Error) => {
    this.healthy = false;
    this.ctx.logger.warn({ err: error.message }, 'postgres: a connection in use was lost');
  };

  private constructor(
    private readonly connections: Connections,
    readonly client: pg.PoolClient,
    readonly ctx: CallContext,
  ) {
    client.on('error', this.onClientError);
    ctx.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  static async open(connections: Connections, ctx: CallContext): Promise<Session> {
    ctx.signal.throwIfAborted();
    return new Session(connections, await connections.acquire(), ctx);
  }

  /** Runs one statement; failures name `what` it was for. */
  async run(sql: string, what: string, values?: unknown[]): Promise<pg.QueryResult> {
    this.ctx.signal.throwIfAborted();
    try {
      return await this.client.query(sql, values);
    } catch (error) {
      throw queryError(error, what, this.ctx.signal);
    }
  }

  /** Starts the call's transaction: read-only for reads (an entity upload comes first, then it is made read-only). */
  async begin(readOnly: boolean): Promise<void> {
    await this.run(readOnly ? 'BEGIN READ ONLY' : 'BEGIN', 'starting a transaction');
    this.inTransaction = true;
  }

  /** Commits the call's transaction (writes only; reads are rolled back by close()). */
  async commit(): Promise<void> {
    await this.run('COMMIT', 'committing');
    this.inTransaction = false;
  }

  /** The columns `select` would return (names and type OIDs), without running it. */
  async describe(select: string, what: string): Promise<PgColumn[]> {
    this.ctx.signal.throwIfAborted();
    try {
      // The extended protocol takes exactly one statement: SQL that a user wrote (a source's
      // query, entity_df_sql) cannot close the parentheses and append statements of its own.
      const query = { text: `SELECT * FROM (\n${select}\n) AS q LIMIT 0`, queryMode: 'extended' } as pg.QueryConfig;
      const result = await this.client.query(query);
      return result.fields.map((f) => ({ name: f.name, typeOid: f.dataTypeID }));
    } catch (error) {
      throw queryError(error, what, this.ctx.signal);
    }
  }

  /** `COPY <target> FROM STDIN (FORMAT binary)`, fed with `chunks`. */
  async copyIn(target: string, chunks: Iterable<Buffer> | AsyncIterable<Buffer>, what: string): Promise<void> {
    this.ctx.signal.throwIfAborted();
    try {
      await pipeline(Readable.from(chunks), this.client.query(copyFrom(`COPY ${target} FROM STDIN (FORMAT binary)`)));
    } catch (error) {
      throw queryError(error, what, this.ctx.signal);
    }
  }

  /**
   * The rows of `select` as Arrow batches, read with binary COPY while PostgreSQL produces them
   * (the socket's backpressure paces the server). The stream owns this session.
   */
  stream(select: string, columns: readonly PgColumn[], what: string): AsyncIterable<RecordBatch> {
    const session = this;
    return {
      [Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
        let batches: AsyncIterator<RecordBatch> | null = null;
        let copy: (Readable & { destroy(): void }) | null = null;
        const stop = async () => {
          if (copy && !copy.readableEnded) {
            session.healthy = false;
            await session.connections.cancel(session.client).catch(() => undefined);
            copy.destroy();
          }
          await session.close();
        };
        return {
          async next() {
            try {
              session.ctx.signal.throwIfAborted();
              if (!batches) {
                copy = session.client.query(copyTo(`COPY (${select}) TO STDOUT (FORMAT binary)`));
                batches = decodeCopyBinary(copy, columns)[Symbol.asyncIterator]();
              }
              const step = await batches!.next();
              if (step.done) await session.close();
              return step;
            } catch (error) {
              await stop();
              throw queryError(error, what, session.ctx.signal);
            }
          },
          async return() {
            await stop();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  /**
   * Ends the transaction (rolled back: it only read, or a write failed; its ON COMMIT DROP tables
   * go either way) and gives the connection back — or destroys it when a statement was cancelled
   * or failed mid-protocol.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.signal.removeEventListener('abort', this.onAbort);
    if (this.healthy && this.inTransaction) {
      try {
        await this.client.query('ROLLBACK');
      } catch {
        this.healthy = false;
      }
    }
    this.connections.release(this.client, this.healthy);
    this.client.off('error', this.onClientError);
  }
}

/**
 * Runs `work` in a fresh session. If `work` fails the session is closed here; if it succeeds,
 * what it returns (a result stream) owns the session.
 */
export async function inSession<T>(connections: Connections, ctx: CallContext, work: (s: Session) => Promise<T>): Promise<T> {
  const session = await Session.open(connections, ctx);
  try {
    return await work(session);
  } catch (error) {
    // An open transaction is rolled back; a cancelled statement has already marked it unhealthy.
    await session.close();
    throw error;
  }
}
