/**
 * Builds the conformance feature repo in a fresh temp dir, the way a Feast user would: copy the
 * definitions, generate the (deterministic) parquet data, `feast apply` with the server config.
 * Then writes the client configs that point at it. Nothing is written in the checkout.
 *
 *   <root>/server/  feature_store.yaml (offline_store: file), definitions.py, data/ incl. registry.db
 *   <root>/client/  feature_store.yaml (offline_store: remote → 127.0.0.1:<port>), same registry
 *   <root>/local/   feature_store.yaml (offline_store: file), same registry: the oracle, used with
 *                   repo_path = <root>/server so relative data paths resolve as on the server
 *
 * buildFeastPostgresRepo(pg) is the postgres variant: feature_repo_postgres/ (PostgreSQLSources),
 * its data loaded into the given cluster, `feast apply` with `offline_store: postgres`, and the
 * oracle being Feast's postgres store on the same cluster.
 *
 * `options.registry` puts the registry elsewhere than data/registry.db (a SQL registry, Feast's
 * registry server): the same `registry:` section goes into all three configs, and `feast apply`
 * writes it there.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { feastPython } from './feast-python.ts';
import type { PostgresServer } from './postgres-server.ts';

const run = promisify(execFile);

export const CONFORMANCE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'conformance');
export const PROJECT = 'larder_conformance';

export interface FeastRepo {
  readonly root: string;
  /** The server's offline store type (`file`, `duckdb`, `postgres`): which checks apply (checks.json `stores`). */
  readonly store: string;
  /** The server's feature repo: serve it with `-c serverRepo`. */
  readonly serverRepo: string;
  readonly registryPath: string;
  /** The oracle's feature_store.yaml (file store, or postgres for the postgres repo); load it with repo_path = serverRepo. */
  readonly localYaml: string;
  /** The environment to run Feast commands (checks.py, `feast serve_offline`) for this repo. */
  readonly env: NodeJS.ProcessEnv;
  /** Writes <root>/client/feature_store.yaml for a server on `port`; returns the client dir. */
  writeClient(port: number, host?: string): string;
  /**
   * Points the server's and the client's configs at another registry holding the same objects
   * (e.g. a `feast serve_registry` of this repo's registry.db); the oracle keeps reading the file.
   */
  useRegistry(section: Record<string, unknown>): void;
  /** Removes the temp dir (kept when LARDER_KEEP_CONFORMANCE is set, for post-mortems). */
  cleanup(): void;
}

/** The `registry:` section for a repo, given its server directory (for paths inside it). */
export type RegistrySection = (serverRepo: string) => Record<string, unknown>;

export interface RepoOptions {
  /** Default: the file registry data/registry.db. */
  readonly registry?: RegistrySection;
}

/**
 * Environment for every Feast command: no telemetry, no bytecode caches, UTF-8 output. With a
 * root, Feast's Prometheus scratch dir goes under it: Feast makes one per process in /tmp and only
 * removes it on a clean exit, which a SIGTERMed `feast serve_offline` never has.
 */
export function feastEnv(root?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, FEAST_USAGE: 'False', PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' };
  if (root) {
    const metrics = join(root, 'feast-metrics');
    mkdirSync(metrics, { recursive: true });
    env.PROMETHEUS_MULTIPROCESS_DIR = metrics;
    env.PROMETHEUS_MULTIPROC_DIR = metrics;
  }
  return env;
}

function yaml(lines: Record<string, unknown>): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(lines)) {
    if (value !== null && typeof value === 'object') {
      out.push(`${key}:`);
      for (const [k, v] of Object.entries(value)) out.push(`  ${k}: ${String(v)}`);
    } else {
      out.push(`${key}: ${String(value)}`);
    }
  }
  return out.join('\n') + '\n';
}

async function runOrExplain(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): Promise<void> {
  try {
    await run(file, args, { cwd, env, timeout: 300_000, maxBuffer: 32 << 20 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${what} failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 8000));
  }
}

/**
 * `serverOfflineStore` is the server's `offline_store` section. `feast apply` always runs with
 * Feast's file store (Feast's own duckdb store needs ibis, which the venv leaves out); the
 * section is swapped in afterwards, since the registry does not depend on it.
 */
export async function buildFeastRepo(
  serverOfflineStore: Record<string, unknown> = { type: 'file' },
  options: RepoOptions = {},
): Promise<FeastRepo> {
  const { python } = feastPython();
  const root = mkdtempSync(join(tmpdir(), 'larder-conformance-'));
  try {
    const env = feastEnv(root);
    const serverRepo = join(root, 'server');
    cpSync(join(CONFORMANCE_DIR, 'feature_repo'), serverRepo, {
      recursive: true,
      filter: (src) => !['__pycache__', 'data'].includes(basename(src)),
    });
    await runOrExplain(python, [join(serverRepo, 'gen_data.py'), serverRepo], serverRepo, env, 'generating the parquet data');

    return await applyRepo(
      root,
      serverRepo,
      env,
      {
        name: String(serverOfflineStore.type ?? 'file'),
        apply: { type: 'file' },
        server: serverOfflineStore,
        oracle: { type: 'file' },
      },
      options.registry,
    );
  } catch (error) {
    if (!process.env.LARDER_KEEP_CONFORMANCE) rmSync(root, { recursive: true, force: true });
    throw error;
  }
}

/**
 * `feast apply` in `serverRepo` with the `apply` offline store, then the server's section swapped
 * for `server` (the registry does not depend on it), and the oracle's config (`local/`) written
 * with `oracle`.
 */
async function applyRepo(
  root: string,
  serverRepo: string,
  env: NodeJS.ProcessEnv,
  stores: {
    readonly name: string;
    readonly apply: Record<string, unknown>;
    readonly server: Record<string, unknown>;
    readonly oracle: Record<string, unknown>;
  },
  registrySection?: RegistrySection,
): Promise<FeastRepo> {
  const registryPath = join(serverRepo, 'data', 'registry.db');
  const registry = registrySection?.(serverRepo);
  const serverYaml = join(serverRepo, 'feature_store.yaml');
  const repoYaml = (offlineStore: Record<string, unknown>) =>
    yaml({
      project: PROJECT,
      registry: registry ?? 'data/registry.db',
      provider: 'local',
      offline_store: offlineStore,
      online_store: { type: 'sqlite', path: 'data/online_store.db' },
      entity_key_serialization_version: 3,
    });
  writeFileSync(serverYaml, repoYaml(stores.apply));
  await runOrExplain(feastPython().feast, ['-c', serverRepo, 'apply'], serverRepo, env, 'feast apply');
  writeFileSync(serverYaml, repoYaml(stores.server));

  const localDir = join(root, 'local');
  mkdirSync(localDir);
  const localYaml = join(localDir, 'feature_store.yaml');
  writeFileSync(
    localYaml,
    yaml({
      project: PROJECT,
      provider: 'local',
      entity_key_serialization_version: 3,
      registry: registry ?? registryPath,
      offline_store: stores.oracle,
      online_store: { type: 'sqlite', path: join(localDir, 'online_store.db') },
    }),
  );
  return repoHandle(root, stores.name, serverRepo, registryPath, localYaml, env, registry);
}

function repoHandle(
  root: string,
  store: string,
  serverRepo: string,
  registryPath: string,
  localYaml: string,
  env: NodeJS.ProcessEnv,
  registry: Record<string, unknown> | undefined,
): FeastRepo {
  let clientRegistry: Record<string, unknown> | string = registry ?? registryPath;
  const common = { project: PROJECT, provider: 'local', entity_key_serialization_version: 3 };
  return {
    root,
    store,
    serverRepo,
    registryPath,
    localYaml,
    env,
    writeClient(port: number, host = '127.0.0.1'): string {
      const clientDir = join(root, 'client');
      mkdirSync(clientDir, { recursive: true });
      writeFileSync(
        join(clientDir, 'feature_store.yaml'),
        yaml({
          ...common,
          registry: clientRegistry,
          offline_store: { type: 'remote', host, port },
          online_store: { type: 'sqlite', path: join(clientDir, 'online_store.db') },
        }),
      );
      return clientDir;
    },
    useRegistry(section: Record<string, unknown>): void {
      const serverYaml = join(serverRepo, 'feature_store.yaml');
      const config = YAML.parse(readFileSync(serverYaml, 'utf8')) as Record<string, unknown>;
      writeFileSync(serverYaml, YAML.stringify({ ...config, registry: section }));
      clientRegistry = section;
    },
    cleanup(): void {
      if (!process.env.LARDER_KEEP_CONFORMANCE) rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The postgres variant: copies feature_repo_postgres/ (with gen_data.py beside it), loads the data
 * into `pg` (load_data.py; every table recreated), and runs `feast apply` with Feast's postgres
 * offline store on that cluster, so the registry holds PostgreSQLSources written by Feast itself.
 * The server and the oracle (localYaml) both get `offline_store: postgres` on the same cluster;
 * `serverOfflineStore` overrides the server's section (default: `pg.offlineStoreConfig()`).
 */
export async function buildFeastPostgresRepo(
  pg: PostgresServer,
  serverOfflineStore: Record<string, unknown> = pg.offlineStoreConfig(),
  options: RepoOptions = {},
): Promise<FeastRepo> {
  const { python } = feastPython();
  const root = mkdtempSync(join(tmpdir(), 'larder-conformance-pg-'));
  try {
    const env: NodeJS.ProcessEnv = {
      ...feastEnv(root),
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: pg.database,
      PGSSLMODE: 'disable',
    };
    const serverRepo = join(root, 'server');
    cpSync(join(CONFORMANCE_DIR, 'feature_repo_postgres'), serverRepo, {
      recursive: true,
      filter: (src) => !['__pycache__', 'data'].includes(basename(src)),
    });
    for (const shared of ['gen_data.py', 'quickstart_odfvs.py'])
      cpSync(join(CONFORMANCE_DIR, 'feature_repo', shared), join(serverRepo, shared));
    await runOrExplain(python, [join(serverRepo, 'load_data.py'), serverRepo], serverRepo, env, 'loading the data into PostgreSQL');

    // gen_data.py and load_data.py sit in the repo; `feast apply` must not import them.
    writeFileSync(join(serverRepo, '.feastignore'), 'gen_data.py\nload_data.py\n');
    return await applyRepo(
      root,
      serverRepo,
      env,
      { name: 'postgres', apply: pg.offlineStoreConfig(), server: serverOfflineStore, oracle: pg.offlineStoreConfig() },
      options.registry,
    );
  } catch (error) {
    if (!process.env.LARDER_KEEP_CONFORMANCE) rmSync(root, { recursive: true, force: true });
    throw error;
  }
}
