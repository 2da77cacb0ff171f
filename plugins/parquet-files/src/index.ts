/**
 * larder's `file` offline store (alias `dask`, and Feast's class paths for its file store):
 * parquet FileSources read and written in pure JavaScript with parquet-wasm and apache-arrow.
 * This is the reference third-party-style plugin: it imports only `@larder/core`.
 */
import type { OfflineStorePlugin } from '@larder/core';
import { s3ConfigSchema, s3SettingsFromConfig, type S3ConfigSection } from './s3/index.ts';
import { ParquetFileStore } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'parquet-files',
  // Feast's DaskOfflineStoreConfig: only `type`, and unknown keys are an error; larder adds `s3`
  // (the settings for s3:// sources; see README.md).
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: { type: { type: 'string' }, s3: s3ConfigSchema },
  },
  create(config, env) {
    return new ParquetFileStore(env, s3SettingsFromConfig((config as { s3?: S3ConfigSection }).s3));
  },
};

export default plugin;
