/**
 * Reading a Feast SQL registry kept in PostgreSQL.
 *
 * The change stamp is, per registry table, the row count and the newest `xmin` (the id of the
 * transaction that wrote each row version): an insert or update writes a row version with a newer
 * xmin, a delete changes the count, so any `feast apply` changes the stamp, and the stamp query
 * reads only a few small tables. Feast's own `last_updated_timestamp` columns have whole-second
 * resolution, which would miss two applies within one second.
 *
 * Connections: a pool of at most two, idle ones closed after a minute, every statement bounded by
 * `statement_timeout`, so a stalled database makes a check fail (and the last good copy serve)
 * instead of hanging calls.
 *
 * Registry tables that do not exist yet are an empty registry when `missing` is `empty`, until they
 * have been read once: the stamp is then the absence itself, and every check looks for them again.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { decodeRegistryRows, type DecodedRegistry, type RegistryLoader, type RegistryTable } from '@larder/core';
import pg from 'pg';
import type { PostgresConnection } from './database-url.ts';
import { type MissingTables, registryRowsQuery, registryTablesIn, toRegistryRows, type RawRegistryRow } from './registry-tables.ts';

export interface PostgresLoaderOptions {
  readonly connection: PostgresConnection;
  readonly describe: string;
  readonly repoPath: string;
  /** Bound of every statement and of connecting, in ms. */
  readonly timeoutMs: number;
  readonly missing: MissingTables;
  /** Called on each load that finds no registry tables and serves an empty registry. */
  readonly onEmpty: () => void;
}

/** The stamp while the registry tables do not exist: any set of tables has another. */
const NO_TABLES = 'no tables';

export function postgresRegistryLoader(options: PostgresLoaderOptions): RegistryLoader {
  return new PostgresRegistryLoader(options);
}

class PostgresRegistryLoader implements RegistryLoader {
  readonly describe: string;
  private pool: pg.Pool;
  /** libpq's `prefer`: TLS first, and plain only if the server has no TLS at all. */
  private triedPlain = false;
  /** The registry tables found by the last load; a check reuses them (forgotten on any failure). */
  private knownTables: RegistryTable[] | null = null;
  /** Whether the registry tables have been read once. */
  private found = false;

  constructor(private readonly options: PostgresLoaderOptions) {
    this.describe = options.describe;
    this.pool = this.newPool(tlsOptions(options.connection, options.repoPath));
  }

  async stamp(): Promise<string> {
    const tables = this.knownTables ?? (await this.tables());
    if (tables === null) return NO_TABLES;
    const parts = tables.map((t) => `(SELECT count(*) || ':' || coalesce(max(xmin::text::bigint), 0) FROM ${t})`);
    try {
      const { rows } = await this.query<{ stamp: string }>(`SELECT ${parts.join(` || '/' || `)} AS stamp`);
      return `${tables.join(',')}=${rows[0]!.stamp}`;
    } catch (error) {
      this.knownTables = null;
      throw error;
    }
  }

  async load(): Promise<DecodedRegistry> {
    this.knownTables = null;
    const tables = await this.tables();
    if (tables === null) {
      this.options.onEmpty();
      return decodeRegistryRows([]);
    }
    this.found = true;
    const { rows } = await this.query<RawRegistryRow>(registryRowsQuery(tables));
    this.knownTables = tables;
    return decodeRegistryRows(toRegistryRows(rows));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** The registry tables in the session's search path (Feast creates them in the default schema). */
  private async tables(): Promise<RegistryTable[] | null> {
    const { rows } = await this.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c
        WHERE c.relkind IN ('r', 'p') AND pg_table_is_visible(c.oid)`,
    );
    // Once the registry has been read, tables that are gone are a failure (the last good copy is served).
    return registryTablesIn(new Set(rows.map((r) => r.name)), this.describe, this.found ? 'refuse' : this.options.missing);
  }

  private async query<R extends pg.QueryResultRow>(sql: string): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql);
    } catch (error) {
      const sslmode = this.options.connection.sslmode;
      if (!this.triedPlain && (sslmode === 'prefer' || sslmode === 'allow') && /does not support SSL/i.test((error as Error).message)) {
        this.triedPlain = true;
        const old = this.pool;
        this.pool = this.newPool(false);
        void old.end().catch(() => {});
        return this.pool.query<R>(sql);
      }
      throw error;
    }
  }

  private newPool(ssl: ConnectionOptions | false): pg.Pool {
    const c = this.options.connection;
    const pool = new pg.Pool({
      host: c.host,
      port: c.port,
      user: c.user,
      password: c.password,
      database: c.database,
      options: c.options,
      ssl,
      max: 2,
      idleTimeoutMillis: 60_000,
      connectionTimeoutMillis: this.options.timeoutMs,
      statement_timeout: this.options.timeoutMs,
      application_name: 'larder-registry',
    });
    // An idle connection that the server drops must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    return pool;
  }
}

/** TLS as libpq's sslmode says (prefer/allow start with TLS here; see `query` for the fallback). */
function tlsOptions(c: PostgresConnection, repoPath: string): ConnectionOptions | false {
  if (c.sslmode === 'disable') return false;
  const read = (file: string | undefined) => (file ? readFileSync(path.resolve(repoPath, file)) : undefined);
  const tls: ConnectionOptions = { ca: read(c.sslrootcert), cert: read(c.sslcert), key: read(c.sslkey) };
  if (c.sslmode === 'verify-full') return { ...tls, rejectUnauthorized: true };
  if (c.sslmode === 'verify-ca') return { ...tls, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...tls, rejectUnauthorized: false };
}
