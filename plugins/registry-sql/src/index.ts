/**
 * larder registry type `sql` (and Feast's class path `feast.infra.registry.sql.SqlRegistry`):
 * Feast's SQL registry, read from PostgreSQL or SQLite. The registry is read whole into a
 * snapshot (the same lookups as a registry file), kept for `cache_ttl_seconds` as Feast's
 * CachingRegistry does, and checked cheaply for changes when that expires; see core's
 * openCachedRegistry for the refresh, last-good-copy and health behaviour.
 *
 * Written by larder never: the registry is Feast's to write (`feast apply`, the registry server).
 *
 * Before the first `feast apply` (no SQLite file, or no registry tables) larder serves an empty
 * registry, with a warning, and sees the objects once `feast apply` has created the tables. Feast's
 * SqlRegistry does the same with `schema_mode: auto` (its default) except that it creates the
 * tables itself at start (`metadata.create_all`). larder does not: it may be given a read-only
 * account or a read replica (`read_path`), DDL copied from Feast's SQLAlchemy models would drift
 * from Feast's own across versions (and `create_all` leaves existing tables alone, so a drifted
 * copy would stay), and `feast apply` creates the tables anyway before it writes any object, so a
 * client sees the same answers. Once the registry has been read, losing it again (a SQLite file
 * moved away, dropped tables) is a failed check, and the last good copy is served as for any
 * other failure, rather than an empty registry. With `schema_mode: verify` or `skip` Feast does not create them
 * and does not start; larder refuses to start too.
 */
import { cachePolicyOf, commonRegistryProperties, openCachedRegistry, type RegistryPlugin } from '@larder/core';
import { parseDatabaseUrl } from './database-url.ts';
import type { MissingTables } from './registry-tables.ts';
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
    const missing: MissingTables = (config.schema_mode ?? 'auto') === 'auto' ? 'empty' : 'refuse';
    let warned = false;
    const onEmpty = () => {
      if (warned) return;
      warned = true;
      env.logger.warn(
        { registry: url.describe },
        'registry tables do not exist yet; serving an empty registry until feast apply creates them',
      );
    };
    const loader =
      url.dialect === 'sqlite'
        ? sqliteRegistryLoader({ file: url.file, describe: url.describe, missing, onEmpty })
        : postgresRegistryLoader({
            connection: url.connection,
            describe: url.describe,
            repoPath: env.repoPath,
            timeoutMs: DATABASE_TIMEOUT_MS,
            missing,
            onEmpty,
          });
    return openCachedRegistry(loader, { policy: cachePolicyOf(config), logger: env.logger });
  },
};

export default sqlRegistryPlugin;
