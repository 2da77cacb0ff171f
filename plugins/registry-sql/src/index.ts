/**
 * larder registry type `sql` (and Feast's class path `feast.infra.registry.sql.SqlRegistry`):
 * Feast's SQL registry, read from PostgreSQL or SQLite. The registry is read whole into a
 * snapshot (the same lookups as a registry file), kept for `cache_ttl_seconds` as Feast's
 * CachingRegistry does, and checked cheaply for changes when that expires; see core's
 * openCachedRegistry for the refresh, last-good-copy and health behaviour.
 *
 * Written by larder never: the registry is Feast's to write (`feast apply`, the registry server).
 */
import { cachePolicyOf, commonRegistryProperties, openCachedRegistry, type RegistryPlugin } from '@larder/core';
import { parseDatabaseUrl } from './database-url.ts';
import { postgresRegistryLoader } from './postgres-loader.ts';
import { sqliteRegistryLoader } from './sqlite-loader.ts';

/** Bound of one registry read from PostgreSQL (connecting, and each statement). */
const DATABASE_TIMEOUT_MS = 10_000;

const sqlRegistryPlugin: RegistryPlugin = {
  kind: 'registry',
  name: 'sql',
  configSchema: {
    type: 'object',
    required: ['path'],
    properties: {
      ...commonRegistryProperties,
      path: { type: 'string', minLength: 1 },
      // Feast's SqlRegistryConfig. A read replica is all the offline server needs, so it is preferred.
      read_path: { type: ['string', 'null'] },
      sqlalchemy_config_kwargs: { type: 'object' },
      thread_pool_executor_worker_count: { type: 'integer', minimum: 0 },
      schema_mode: { enum: ['auto', 'verify', 'skip'] },
    },
  },
  create(config, env) {
    const url = parseDatabaseUrl((config.read_path as string | null | undefined) || (config.path as string), env.repoPath);
    const loader =
      url.dialect === 'sqlite'
        ? sqliteRegistryLoader(url.file, url.describe)
        : postgresRegistryLoader({
            connection: url.connection,
            describe: url.describe,
            repoPath: env.repoPath,
            timeoutMs: DATABASE_TIMEOUT_MS,
          });
    return openCachedRegistry(loader, { policy: cachePolicyOf(config), logger: env.logger });
  },
};

export default sqlRegistryPlugin;
