/**
 * The registries bench/registry-reads.ts compares, each written by the real `feast apply` of the
 * example repo: a file registry, Feast's SQL registry in SQLite and in PostgreSQL, and
 * `feast serve_registry` over the file registry (the remote registry).
 */
import path from 'node:path';
import pg from 'pg';
import { applyExampleRepo, EXAMPLE_PROJECT, writeExampleYaml } from '../../test/support/applied-example-repo.ts';
import { startFeastRegistryServer, type FeastRegistryServer } from '../../test/support/feast-registry-server.ts';
import type { PostgresServer } from '../../test/support/postgres-server.ts';

export const KINDS = ['file', 'sqlite', 'postgres', 'remote'] as const;
export type Kind = (typeof KINDS)[number];

/** The cache_ttl_seconds of the sql and remote registries: long enough that no call refreshes. */
export const CACHE_TTL_SECONDS = 600;

/** Generated definitions: `n` feature views, each over a FileSource of its own (appended to the example's). */
export function scaleDefinitions(n: number): string {
  return `
def _scale_objects(n):
    objects = {}
    for i in range(n):
        source = FileSource(
            name=f"scale_source_{i:04d}",
            path="data/driver_stats.parquet",
            timestamp_field="event_timestamp",
            created_timestamp_column="created",
            description=f"Driver statistics, copy {i}",
        )
        objects[f"scale_source_{i:04d}"] = source
        objects[f"scale_view_{i:04d}"] = FeatureView(
            name=f"scale_view_{i:04d}",
            entities=[driver],
            ttl=timedelta(days=1),
            schema=[
                Field(name="conv_rate", dtype=Float32),
                Field(name="acc_rate", dtype=Float32),
                Field(name="avg_daily_trips", dtype=Int64),
            ],
            source=source,
            online=False,
            tags={"team": "scale", "index": str(i)},
            description=f"Generated view {i} of ${n}",
        )
    return objects

globals().update(_scale_objects(${n}))
`;
}

/** Where each kind's registry is, and the feature_store.yaml that serves from it. */
export interface Registries {
  readonly repo: Record<Kind, string>;
  readonly yaml: Record<Kind, string>;
  /** The file registry (also what feast serve_registry serves). */
  readonly registryDb: string;
  readonly sqliteFile: string;
  readonly postgresUrl: string;
  readonly remoteTarget: string;
}

const registryLines = (kind: Kind, location: string) =>
  kind === 'file'
    ? [`path: ${location}`]
    : [`registry_type: ${kind === 'remote' ? 'remote' : 'sql'}`, `path: ${location}`, `cache_ttl_seconds: ${CACHE_TTL_SECONDS}`];

/**
 * Applies the example repo (plus `extra` definitions) into a file registry, an SQLite one and a
 * PostgreSQL one (database `database` of `pgServer`), then starts feast serve_registry over the
 * file registry. The three applies run side by side.
 */
export async function buildRegistries(
  dir: string,
  pgServer: PostgresServer,
  database: string,
  extra: string,
  onExit: (what: string, close: () => unknown) => void,
): Promise<Registries> {
  const postgresUrl = `postgresql+psycopg://${pgServer.user}:${pgServer.password}@${pgServer.host}:${pgServer.port}/${database}?sslmode=disable`;
  const sqliteUrl = 'sqlite:///data/registry.sqlite';
  const [fileRepo, sqliteRepo, postgresRepo] = await Promise.all([
    applyExampleRepo(path.join(dir, 'file'), registryLines('file', 'data/registry.db'), extra),
    applyExampleRepo(path.join(dir, 'sqlite'), registryLines('sqlite', sqliteUrl), extra),
    applyExampleRepo(path.join(dir, 'postgres'), registryLines('postgres', postgresUrl), extra),
  ]);
  const registryDb = path.join(fileRepo, 'data', 'registry.db');
  const server: FeastRegistryServer = await startFeastRegistryServer({
    registryPath: registryDb,
    project: EXAMPLE_PROJECT,
    workdir: dir,
    readyTimeoutMs: 120_000,
  });
  onExit('feast serve_registry', () => server.stop(5_000));
  // larder with the remote registry runs in the file repo (its data files), with a yaml of its own.
  const remoteYaml = writeExampleYaml(fileRepo, registryLines('remote', server.target), [], 'feature_store.remote.yaml');
  const yamlOf = (repo: string) => path.join(repo, 'feature_store.yaml');
  return {
    repo: { file: fileRepo, sqlite: sqliteRepo, postgres: postgresRepo, remote: fileRepo },
    yaml: { file: yamlOf(fileRepo), sqlite: yamlOf(sqliteRepo), postgres: yamlOf(postgresRepo), remote: remoteYaml },
    registryDb,
    sqliteFile: path.join(sqliteRepo, 'data', 'registry.sqlite'),
    postgresUrl,
    remoteTarget: server.target,
  };
}

export async function createDatabase(server: PostgresServer, name: string): Promise<void> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}
