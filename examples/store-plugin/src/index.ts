/**
 * larder-store-example: a third-party larder offline store, written as any plugin package would
 * be. It serves parquet FileSources, reading each source a call needs whole into memory and
 * answering with the point-in-time rule in JavaScript; it is read-only.
 *
 *   offline_store:
 *     type: larder-store-example
 *     max_source_mb: 256     # optional, default 256
 *     batch_rows: 65536      # optional, default 65536
 *
 * The default export is the plugin: larder finds it by the `type:` string, validates the
 * `offline_store` section against `configSchema`, then calls `create` once per server.
 */
import type { OfflineStorePlugin } from '@larder/core';
import { ExampleParquetStore } from './store.ts';

export { ExampleParquetStore, type ExampleStoreSettings } from './store.ts';

const plugin: OfflineStorePlugin = {
  kind: 'offline_store',
  name: 'larder-store-example',
  // JSON Schema of the whole `offline_store` section, `type` included; an unknown key is an error.
  configSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { type: 'string' },
      max_source_mb: { type: 'number', exclusiveMinimum: 0, default: 256 },
      batch_rows: { type: 'integer', minimum: 1, maximum: 1_048_576, default: 65_536 },
    },
  },
  create(config, env) {
    const maxSourceMb = (config.max_source_mb as number | undefined) ?? 256;
    const batchRows = (config.batch_rows as number | undefined) ?? 65_536;
    return new ExampleParquetStore(env, { maxSourceBytes: maxSourceMb * 2 ** 20, batchRows });
  },
};

export default plugin;
