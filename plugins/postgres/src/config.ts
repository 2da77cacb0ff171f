/**
 * The `offline_store` section of a postgres repo: Feast's PostgreSQLOfflineStoreConfig fields and
 * defaults, and how they become node-postgres pool options.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PoolConfig } from 'pg';
import type { ConnectionOptions } from 'node:tls';

export type EntitySelectMode = 'temp_table' | 'embed_query';

export interface PostgresStoreConfig {
  readonly type: string;
  readonly host: string;
  readonly port?: number;
  readonly database: string;
  readonly db_schema?: string;
  readonly user: string;
  readonly password: string;
  readonly sslmode?: string | null;
  readonly sslkey_path?: string | null;
  readonly sslcert_path?: string | null;
  readonly sslrootcert_path?: string | null;
  readonly keepalives_idle?: number | null;
  readonly min_conn?: number;
  readonly max_conn?: number;
  readonly conn_type?: 'singleton' | 'pool';
  readonly entity_select_mode?: EntitySelectMode;
  /** larder only: how point-in-time joins are formulated (strategy.ts); `auto` by default. */
  readonly point_in_time_strategy?: 'auto' | 'window' | 'join';
}

/** Feast's fields (unknown keys are an error there too), with its defaults noted, and larder's one. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'host', 'database', 'user', 'password'],
  properties: {
    type: { type: 'string' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432 },
    database: { type: 'string', minLength: 1 },
    db_schema: { type: 'string', minLength: 1, default: 'public' },
    user: { type: 'string', minLength: 1 },
    password: { type: 'string' },
    sslmode: { enum: ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', null], default: 'require' },
    sslkey_path: { type: ['string', 'null'] },
    sslcert_path: { type: ['string', 'null'] },
    sslrootcert_path: { type: ['string', 'null'] },
    keepalives_idle: { type: ['integer', 'null'], minimum: 0 },
    min_conn: { type: 'integer', minimum: 0, default: 1 },
    max_conn: { type: 'integer', minimum: 1, default: 10 },
    conn_type: { enum: ['singleton', 'pool'], default: 'singleton' },
    entity_select_mode: { enum: ['temp_table', 'embed_query'], default: 'temp_table' },
    point_in_time_strategy: { enum: ['auto', 'window', 'join'], default: 'auto' },
  },
} as const;

/**
 * TLS options as libpq reads sslmode. `prefer` and `allow` try without TLS first here only when
 * the caller retries (see Connections); `require` encrypts without verifying, unless a root
 * certificate is given (then it verifies the chain, as libpq does).
 */
function tlsOptions(config: PostgresStoreConfig, repoPath: string): ConnectionOptions | false {
  const mode = config.sslmode ?? 'require';
  if (mode === 'disable' || mode === 'allow') return false;
  const read = (file: string | null | undefined) => (file ? readFileSync(path.resolve(repoPath, file)) : undefined);
  const ca = read(config.sslrootcert_path);
  const tls: ConnectionOptions = { key: read(config.sslkey_path), cert: read(config.sslcert_path), ca };
  if (mode === 'verify-full') return { ...tls, rejectUnauthorized: true };
  if (mode === 'verify-ca' || ca) return { ...tls, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...tls, rejectUnauthorized: false };
}

/** Feast's search path: `db_schema`, then `public`. */
export function searchPathOf(config: PostgresStoreConfig): string {
  const schema = (config.db_schema ?? 'public').trim() || config.user;
  return schema === 'public' ? 'public' : `${schema},public`;
}

/**
 * node-postgres pool options. The search path is Feast's (`db_schema`, then `public`); the
 * session time zone is UTC, so naive `timestamp` columns mean UTC as everywhere else in larder.
 */
export function poolConfig(config: PostgresStoreConfig, repoPath: string, withTls = true): PoolConfig {
  const searchPath = searchPathOf(config);
  const keepAlive = config.keepalives_idle !== undefined && config.keepalives_idle !== null;
  return {
    host: config.host,
    port: config.port ?? 5432,
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: withTls ? tlsOptions(config, repoPath) : false,
    max: config.max_conn ?? 10,
    min: config.min_conn ?? 1,
    options: `-c search_path=${searchPath.replaceAll(' ', '\\ ')} -c TimeZone=UTC`,
    application_name: 'larder',
    connectionTimeoutMillis: 30_000,
    idleTimeoutMillis: 60_000,
    ...(keepAlive ? { keepAlive: true, keepAliveInitialDelayMillis: config.keepalives_idle! * 1000 } : {}),
  };
}
