/**
 * larder's `file` offline store (alias `dask`, and Feast's class paths for its file store):
 * parquet FileSources read and written in pure JavaScript with parquet-wasm and apache-arrow.
 * This is the reference third-party-style plugin: it imports only `@larder/core`.
 */
import type { OfflineStorePlugin } from '@larder/core';
import { ParquetFileStore } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'parquet-files',
  // Feast's DaskOfflineStoreConfig: only `type`, and unknown keys are an error.
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: { type: { type: 'string' } },
  },
  create(_config, env) {
    return new ParquetFileStore(env);
  },
};

export default plugin;
