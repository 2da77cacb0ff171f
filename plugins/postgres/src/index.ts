/**
 * larder's `postgres` offline store: PostgreSQLSources answered inside PostgreSQL — the
 * point-in-time join, the pulls and the writes are SQL — with results read by binary COPY and
 * streamed as Arrow while PostgreSQL is still producing them.
 */
import type { OfflineStorePlugin } from '@larder/core';
import { configSchema, type PostgresStoreConfig } from './config.ts';
import { PostgresStore } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'postgres',
  configSchema,
  create(config, env) {
    return PostgresStore.create(config as unknown as PostgresStoreConfig, env);
  },
};

export default plugin;
