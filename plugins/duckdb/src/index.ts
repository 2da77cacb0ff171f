/**
 * larder's `duckdb` offline store: parquet FileSources queried by DuckDB (@duckdb/node-api), so
 * the point-in-time join, the pulls and their sorting run inside DuckDB, spilling to disk when
 * needed, and results stream out as Arrow while DuckDB is still producing them.
 */
import type { OfflineStorePlugin } from '@larder/core';
import type { DuckDBStoreConfig } from './database.ts';
import { s3ConfigSchema } from './s3-settings.ts';
import { DuckDBStore } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'duckdb',
  // Feast's DuckDBOfflineStoreConfig (unknown keys are an error), plus larder's DuckDB settings.
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { type: 'string' },
      staging_location: { type: ['string', 'null'] },
      staging_location_endpoint_override: { type: ['string', 'null'] },
      threads: { type: 'integer', minimum: 1 },
      memory_limit: { type: 'string', pattern: '^\\s*\\d+(\\.\\d+)?\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\\s*$' },
      temp_directory: { type: 'string', minLength: 1 },
      point_in_time_strategy: { enum: ['auto', 'asof', 'join'] },
      extension_directory: { type: 'string', minLength: 1 },
      s3: s3ConfigSchema,
    },
  },
  create(config, env) {
    return DuckDBStore.create(config as unknown as DuckDBStoreConfig, env);
  },
};

export default plugin;
