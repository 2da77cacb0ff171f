/**
 * larder's `trino` offline store: TrinoSources answered inside a Trino cluster, through the
 * official `trino-client` package. This slice: configuration, column listing, validation and
 * health; the retrievals and writes come in later slices.
 */
import type { OfflineStorePlugin } from '@larder/core';
import { configSchema, type TrinoStoreConfig } from './config.ts';
import { TrinoStore } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'trino',
  configSchema,
  create(config, env) {
    return TrinoStore.create(config as unknown as TrinoStoreConfig, env);
  },
};

export default plugin;
