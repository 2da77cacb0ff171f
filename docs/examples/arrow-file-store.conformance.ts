/**
 * The conformance target of arrow-file-store.ts: how the kit's rows become one of its sources (an
 * Arrow IPC file in the run's repo). Run the kit on it with
 *
 *   npx larder-conformance ./arrow-file-store.conformance.js
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { fileSource, type StoreConformanceTarget } from '@larder/core/testing';
import plugin from './arrow-file-store.ts';

const target: StoreConformanceTarget = {
  plugin,
  storeConfig: { type: 'arrow-file', batch_rows: 10_000 },
  async createSource(name, table, { timestampField, createdTimestampColumn, repoPath }) {
    await writeFile(path.join(repoPath, `${name}.arrow`), tableToIPC(table, 'file'));
    return fileSource(name, `${name}.arrow`, { timestampField, createdTimestampColumn });
  },
  // A read-only store: no savedDatasetDestination / loggingDestination, so those checks report
  // "not implemented" (and so do the writes, which throw UnimplementedError).
};

export default target;
