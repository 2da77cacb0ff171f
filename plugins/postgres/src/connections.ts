/**
 * The store's pool of PostgreSQL connections, and cancelling a running statement on the server.
 *
 * Every call takes one connection for its whole life (temporary tables are per connection) and
 * gives it back on every path. A connection whose state is unknown — a statement was cancelled or
 * failed mid-COPY — is destroyed rather than returned, so the pool only holds clean sessions.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { poolConfig, type PostgresStoreConfig } from './config.ts';
import { connectionError, describeServer, type ServerName } from './errors.ts';

export class Connections {
  private constructor(
    private pool: pg.Pool,
    readonly server: ServerName,
    /** One connection's settings, for the side connections of cancel() and ping(). */
    private readonly sideConfig: pg.ClientConfig,
  ) {}

  /**
   * Opens the pool and checks one connection. An unreachable database is logged, not fatal: the
   * server still starts and each call reports the failure until the database is back.
   */
  static async open(config: PostgresStoreConfig, repoPath: string, logger: Logger): Promise<Connections> {
    const server: ServerName = { user: config.user, host: config.host, port: config.port ?? 5432, database: config.database };
    let options = poolConfig(config, repoPath);
    let pool = watch(new pg.Pool(options), logger, server);
    try {
      (await pool.connect()).release();
    } catch (error) {
      // libpq's `prefer` falls back to plain text when the server has no TLS; so does this.
      if ((config.sslmode ?? 'require') === 'prefer' && /does not support SSL/i.test((error as Error).message)) {
        await pool.end();
        options = poolConfig(config, repoPath, false);
        pool = watch(new pg.Pool(options), logger, server);
      } else {
        logger.warn(
          { postgres: describeServer(server), err: connectionError(error, server).message },
          'postgres offline store: database not reachable at startup',
        );
      }
    }
    const { max: _max, min: _min, idleTimeoutMillis: _idle, ...single } = options;
    return new Connections(pool, server, single);
  }

  /** A connection for one call; release it with `release(client, healthy)`. */
  async acquire(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw connectionError(error, this.server);
    }
  }

  /** Returns a connection to the pool, or destroys it when its session state is unknown. */
  release(client: pg.PoolClient, healthy: boolean): void {
    client.release(healthy ? undefined : true);
  }

  /**
   * Cancels whatever `client` is running, via pg_cancel_backend on a separate short-lived
   * connection (not from the pool, which may be exhausted by the very calls being cancelled).
   */
  async cancel(client: pg.PoolClient): Promise<void> {
    const pid = (client as unknown as { processID?: number }).processID;
    if (!pid) return;
    const side = this.sideClient();
    try {
      await side.connect();
      await side.query('SELECT pg_cancel_backend($1)', [pid]);
    } finally {
      await side.end().catch(() => undefined);
    }
  }

  /**
   * Checks that the database answers, on a short-lived connection of its own: a pool exhausted by
   * long queries means a busy server, not a broken one, and must not fail a health probe.
   */
  async ping(): Promise<void> {
    const side = this.sideClient();
    try {
      await side.connect();
      await side.query('SELECT 1');
    } catch (error) {
      throw connectionError(error, this.server);
    } finally {
      await side.end().catch(() => undefined);
    }
  }

  /**
   * A short-lived connection outside the pool. Its failures reach the caller through the promise
   * of `connect()` or `query()`; pg also emits them as an 'error' event, which, with no listener,
   * is an uncaught exception that takes the whole server down (a database that goes away while a
   * statement is being cancelled did exactly that).
   */
  private sideClient(): pg.Client {
    const side = new pg.Client(this.sideConfig);
    side.on('error', () => {});
    return side;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** An idle connection that dies (server restart, network) must not crash the process. */
function watch(pool: pg.Pool, logger: Logger, server: ServerName): pg.Pool {
  pool.on('error', (error) =>
    logger.warn({ postgres: describeServer(server), err: error.message }, 'postgres offline store: idle connection lost'),
  );
  return pool;
}
