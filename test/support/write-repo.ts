/**
 * A feature repo whose file source the write calls can change: `data/stats.parquet` (driver_id,
 * ts, rate; one seed row) behind the view `stats`, a feature service `svc` logging to
 * `data/logs`, and a saved-dataset destination `saved_source`. Shared by the specs that write
 * concurrently, on a full disk, or aimed outside the repo.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Float64, Int64, type RecordBatch, type Table, TimeUnit, Timestamp } from 'apache-arrow';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { readRowGroups } from '../../plugins/parquet-files/src/parquet-read.ts';
import { arrowTable, writeParquetFile } from './parquet-fixtures.ts';

export const WRITE_PROJECT = 'writes';
const T0 = Date.UTC(2024, 0, 1);
const US_UTC = new Timestamp(TimeUnit.MICROSECOND, 'UTC');

/** `n` rows whose driver_id values start at `first` (so each writer's rows can be told apart). */
export function statsRows(first: number, n = 1): Table {
  const ids = Array.from({ length: n }, (_, i) => BigInt(first + i));
  return arrowTable([
    ['driver_id', new Int64(), ids],
    ['ts', US_UTC, ids.map((_, i) => BigInt(T0 + i) * 1000n)],
    ['rate', new Float64(), ids.map((_, i) => i / 2)],
  ]);
}

export interface WriteRepoOptions {
  /** `offline_store` lines (default `type: file`). */
  readonly offlineStore?: readonly string[];
  /** Lines of the `larder:` section. */
  readonly larder?: readonly string[];
  /** Paths of the sources, as stored in the registry. */
  readonly statsPath?: string;
  readonly savedPath?: string;
  readonly logPath?: string;
  /** Where the seed file goes (default `<repo>/data/stats.parquet`); null for none. */
  readonly seedFile?: string | null;
}

/** Writes feature_store.yaml, the registry and the seed parquet file into `repo`. */
export function writeWriteRepo(repo: string, options: WriteRepoOptions = {}): void {
  mkdirSync(path.join(repo, 'data'), { recursive: true });
  const larder = options.larder ?? [];
  writeFileSync(
    path.join(repo, 'feature_store.yaml'),
    [
      `project: ${WRITE_PROJECT}`,
      'registry: data/registry.db',
      'offline_store:',
      ...(options.offlineStore ?? ['  type: file']),
      ...(larder.length > 0 ? ['larder:', ...larder] : []),
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(repo, 'data', 'registry.db'),
    encodeRegistry({
      project: WRITE_PROJECT,
      entities: [{ name: 'driver', joinKey: 'driver_id', valueType: 'INT64' }],
      dataSources: [
        { kind: 'file', name: 'stats_source', path: options.statsPath ?? 'data/stats.parquet', timestampField: 'ts' },
        { kind: 'file', name: 'saved_source', path: options.savedPath ?? 'data/saved.parquet', timestampField: 'ts' },
      ],
      featureViews: [
        {
          name: 'stats',
          source: 'stats_source',
          entities: ['driver'],
          ttlSeconds: 0,
          entityColumns: [{ name: 'driver_id', valueType: 'INT64' }],
          features: [{ name: 'rate', valueType: 'DOUBLE' }],
        },
      ],
      featureServices: [
        {
          name: 'svc',
          projections: [{ view: 'stats', features: ['rate'] }],
          loggingConfig: { sampleRate: 1, destination: { kind: 'file', path: options.logPath ?? 'data/logs' } },
        },
      ],
    }),
  );
  if (options.seedFile !== null) writeParquetFile(options.seedFile ?? path.join(repo, 'data', 'stats.parquet'), statsRows(0));
}

/** Feast's offline_write_batch command for the view `stats`. */
export function writeBatchCommand(): string {
  return JSON.stringify({ api: 'offline_write_batch', feature_view_names: ['stats'], name_aliases: [null] });
}

/** Feast's write_logged_features command for the service `svc`. */
export function writeLogsCommand(): string {
  return JSON.stringify({ api: 'write_logged_features', feature_service_name: 'svc' });
}

/** Feast's persist of a historical retrieval of `stats:rate` into `saved_source` (upload: entityRows()). */
export function persistCommand(allowOverwrite = true): string {
  return JSON.stringify({
    api: 'persist',
    retrieve_func: 'get_historical_features',
    data_source_name: 'saved_source',
    allow_overwrite: allowOverwrite,
    feature_view_names: ['stats'],
    name_aliases: [null],
    feature_refs: ['stats:rate'],
    project: WRITE_PROJECT,
    full_feature_names: false,
  });
}

/** An entity dataframe for persistCommand: driver 0 at a time after its seed row. */
export function entityRows(): Table {
  return arrowTable([
    ['driver_id', new Int64(), [0n]],
    ['event_timestamp', US_UTC, [BigInt(T0 + 60_000) * 1000n]],
  ]);
}

/** Every driver_id in a parquet file (or directory), in file order. */
export async function driverIds(location: string): Promise<number[]> {
  const ids: number[] = [];
  for await (const t of readRowGroups(location)) {
    const batch: RecordBatch = t.batches[0]!;
    for (const id of batch.getChild('driver_id')!.toArray() as BigInt64Array) ids.push(Number(id));
  }
  return ids;
}
