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
export { ExampleParquetStore, type ExampleStoreSettings } from './store.ts';
declare const plugin: OfflineStorePlugin;
export default plugin;
