/**
 * `larder example`: writes a small, complete feature repo — feature_store.yaml, a parquet file of
 * driver statistics and the registry `feast apply` would write for it — with no Python involved.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tableToIPC } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { encodeRegistry, type RegistryDraft } from '../registry/encode.ts';
import { driverStatsTable } from './driver-stats.ts';

export const EXAMPLE_PROJECT = 'larder_example';

const FEATURE_STORE_YAML = `# The larder example feature repo (written by \`larder example\`).
project: ${EXAMPLE_PROJECT}
registry: data/registry.db
provider: local
offline_store:
  type: file
entity_key_serialization_version: 3
`;

/** The objects `feast apply` would register for the example's feature definitions. */
export const exampleRegistry: RegistryDraft = {
  project: EXAMPLE_PROJECT,
  entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64', description: 'A driver' }],
  dataSources: [
    {
      kind: 'file',
      name: 'driver_hourly_stats_source',
      path: 'data/driver_stats.parquet',
      timestampField: 'event_timestamp',
      createdTimestampColumn: 'created',
    },
  ],
  featureViews: [
    {
      name: 'driver_hourly_stats',
      entities: ['driver'],
      ttlSeconds: 86_400,
      source: 'driver_hourly_stats_source',
      features: [
        { name: 'conv_rate', valueType: 'FLOAT' },
        { name: 'acc_rate', valueType: 'FLOAT' },
        { name: 'avg_daily_trips', valueType: 'INT64' },
      ],
      tags: { team: 'driver_performance' },
    },
  ],
  featureServices: [
    {
      name: 'driver_activity',
      projections: [{ view: 'driver_hourly_stats', features: ['conv_rate', 'avg_daily_trips'] }],
      loggingConfig: { destination: { kind: 'file', path: 'data/logs' } },
    },
  ],
};

/** Writes the example repo into `dir` (created if needed) and returns its absolute path. */
export async function writeExampleRepo(dir: string): Promise<string> {
  const repo = path.resolve(dir);
  await mkdir(path.join(repo, 'data'), { recursive: true });
  await writeFile(path.join(repo, 'feature_store.yaml'), FEATURE_STORE_YAML);
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).build();
  const parquet = writeParquet(WasmTable.fromIPCStream(tableToIPC(driverStatsTable(), 'stream')), properties);
  await writeFile(path.join(repo, 'data', 'driver_stats.parquet'), parquet);
  await writeFile(path.join(repo, 'data', 'registry.db'), encodeRegistry(exampleRegistry));
  return repo;
}
