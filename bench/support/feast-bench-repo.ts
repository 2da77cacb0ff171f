/**
 * The feature repo bench/feast-vs-larder.ts serves, built as a Feast user builds one: a
 * definitions.py, a feature_store.yaml with the real store config, and `feast apply` from the
 * bench venv, so larder and `feast serve_offline` serve the same registry.db written by Feast.
 *
 *   <root>/server/  feature_store.yaml (the store under test), definitions.py, data/registry.db
 *   <root>/client/  feature_store.yaml (offline_store: remote → 127.0.0.1:<port>), same registry
 *
 * One source, `driver_stats` (the cached parquet for `file`/`duckdb`, table driver_stats for
 * `postgres`), and three feature views over it with different ttls. Every ttl is at least three
 * hours, longer than the widest gap between a driver's hourly rows, so every entity row finds a row
 * and Feast's stores, which drop or blank rows differently on a miss, answer the same as larder.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { feastPython } from '../../test/support/feast-python.ts';
import { feastEnv } from '../../test/support/feast-repo.ts';
import type { PostgresServer } from '../../test/support/postgres-server.ts';

const run = promisify(execFile);

export const PROJECT = 'larder_bench';
export const SOURCE = 'driver_stats';

/** The views: one feature each, ttls of a day, three hours and a week. */
const VIEWS = [
  { name: 'driver_conv', feature: 'conv_rate', dtype: 'Float32', ttl: 'timedelta(days=1)' },
  { name: 'driver_acc', feature: 'acc_rate', dtype: 'Float64', ttl: 'timedelta(hours=3)' },
  { name: 'driver_trips', feature: 'trips', dtype: 'Int64', ttl: 'timedelta(days=7)' },
] as const;

export const FEATURE_REFS = VIEWS.map((v) => `${v.name}:${v.feature}`);
export const PULL_COLUMNS = VIEWS.map((v) => v.feature);

export interface BenchRepo {
  readonly root: string;
  /** Serve this with `-c serverRepo` (both servers run with it as working directory). */
  readonly serverRepo: string;
  /** Environment for Feast processes (no telemetry; Prometheus scratch dir under root). */
  readonly env: NodeJS.ProcessEnv;
  /** Writes <root>/client/feature_store.yaml for a server on `port`; returns the client dir. */
  writeClient(port: number): string;
  cleanup(): void;
}

function sourceDefinition(parquet: string, postgres: boolean): string {
  const common = `name="${SOURCE}",\n    timestamp_field="event_timestamp",\n    created_timestamp_column="created",`;
  return postgres
    ? 'from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource\n\n' +
        `source = PostgreSQLSource(\n    ${common}\n    table="${SOURCE}",\n)\n`
    : `from feast import FileSource\n\nsource = FileSource(\n    ${common}\n    path=${JSON.stringify(parquet)},\n)\n`;
}

function definitions(parquet: string, postgres: boolean): string {
  const views = VIEWS.map(
    (v) =>
      `${v.name} = FeatureView(\n    name="${v.name}",\n    entities=[driver],\n    ttl=${v.ttl},\n` +
      `    schema=[Field(name="${v.feature}", dtype=${v.dtype})],\n    source=source,\n    online=False,\n)\n`,
  );
  return [
    '# Written by bench/support/feast-bench-repo.ts.',
    'from datetime import timedelta\n',
    'from feast import Entity, FeatureView, Field, ValueType',
    'from feast.types import Float32, Float64, Int64',
    sourceDefinition(parquet, postgres),
    'driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)\n',
    ...views,
  ].join('\n');
}

function yaml(registry: string, offlineStore: Record<string, unknown>, onlinePath: string): string {
  const store = Object.entries(offlineStore)
    .map(([k, v]) => `  ${k}: ${String(v)}`)
    .join('\n');
  return (
    `project: ${PROJECT}\nregistry: ${registry}\nprovider: local\nentity_key_serialization_version: 3\n` +
    `offline_store:\n${store}\nonline_store:\n  type: sqlite\n  path: ${onlinePath}\n`
  );
}

/**
 * The repo for `store` (`file`, `duckdb` or `postgres`; postgres needs the cluster holding table
 * driver_stats). `feast apply` runs with the store's own config: the bench venv has every extra.
 */
export async function buildBenchRepo(store: string, parquet: string, postgres?: PostgresServer): Promise<BenchRepo> {
  const root = mkdtempSync(join(tmpdir(), `larder-feast-bench-${store}-`));
  const cleanup = () => rmSync(root, { recursive: true, force: true });
  try {
    const env = feastEnv(root);
    const serverRepo = join(root, 'server');
    mkdirSync(join(serverRepo, 'data'), { recursive: true });
    const offlineStore = store === 'postgres' ? postgres!.offlineStoreConfig() : { type: store };
    writeFileSync(join(serverRepo, 'definitions.py'), definitions(parquet, store === 'postgres'));
    writeFileSync(join(serverRepo, 'feature_store.yaml'), yaml('data/registry.db', offlineStore, 'data/online_store.db'));
    try {
      await run(feastPython().feast, ['-c', serverRepo, 'apply'], { cwd: serverRepo, env, timeout: 300_000, maxBuffer: 32 << 20 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`feast apply failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 8000));
    }
    const registryPath = join(serverRepo, 'data', 'registry.db');
    return {
      root,
      serverRepo,
      env,
      writeClient(port: number): string {
        const client = join(root, 'client');
        mkdirSync(client, { recursive: true });
        writeFileSync(
          join(client, 'feature_store.yaml'),
          yaml(registryPath, { type: 'remote', host: '127.0.0.1', port }, join(client, 'online_store.db')),
        );
        return client;
      },
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
