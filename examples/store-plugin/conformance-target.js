// The conformance target of larder-store-example: how larder's store conformance kit
// (@larder/core/testing) turns its rows into one of this store's sources, a parquet file in the
// run's repo. After `npm run build`:
//
//   npx larder-conformance ./conformance-target.js
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { fileSource } from '@larder/core/testing';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';

/**
 * The target for `plugin` (exported so that a test can hand it the plugin from its sources).
 * @param {import('@larder/core').OfflineStorePlugin} plugin
 * @returns {import('@larder/core/testing').StoreConformanceTarget}
 */
export function parquetTarget(plugin) {
  return {
    plugin,
    storeConfig: { type: 'larder-store-example', batch_rows: 1000 },
    async createSource(name, table, { timestampField, createdTimestampColumn, repoPath }) {
      const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
      const parquet = writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), properties);
      await writeFile(path.join(repoPath, `${name}.parquet`), parquet);
      return fileSource(name, `${name}.parquet`, { timestampField, createdTimestampColumn, fileFormat: 'parquet' });
    },
    // A read-only store: no savedDatasetDestination or loggingDestination, so the persist and
    // write_logged_features checks report "not implemented", as do the writes (UnimplementedError).
  };
}

/** What `larder-conformance` runs: the target over the built plugin. */
export default async () => parquetTarget((await import('./dist/index.js')).default);
