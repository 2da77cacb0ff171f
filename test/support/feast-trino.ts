/**
 * Feast's own Trino offline store (`feast[trino]`: TrinoOfflineStore, TrinoSource) over a test
 * Trino, as the reference larder's trino store is compared with: a feature repo whose
 * `offline_store` is `type: trino` with Feast's TrinoOfflineStoreConfig keys, its definitions
 * (TrinoSources over tables the caller created) applied with the real `feast apply`, served by
 * the real `feast serve_offline`, and asked by the unchanged Feast client
 * (test/support/feast_trino_client.py).
 *
 *   <root>/server/  feature_store.yaml (offline_store: trino), definitions.py, data/registry.db
 *   <root>/client/  feature_store.yaml (offline_store: remote → 127.0.0.1:<port>), same registry
 *
 * The same server directory serves larder too (`startLarder({ repoPath: repo.serverRepo })`): its
 * trino store reads the same keys, so a differential test asks both with one client config each.
 *
 * The venv must have Feast's trino extra (the `trino` package; test/conformance/requirements.txt
 * pins it, scripts/ensure-feast-venv.sh installs it).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { feastPython } from './feast-python.ts';
import { feastEnv } from './feast-repo.ts';
import { startFeastServer, type ServerProcess, type StartOptions } from './larder-process.ts';
import { trinoQuery } from './trino-statement.ts';

const run = promisify(execFile);
const CLIENT_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'feast_trino_client.py');

/** Where a Trino coordinator answers: test/support/trino-server.ts's TrinoServer is one. */
export interface TrinoEndpoint {
  /** `http://host:port`, for the statement protocol. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

export interface FeastTrinoOptions {
  /** The feature repo's project (default `larder_trino`). */
  readonly project?: string;
  /**
   * `offline_store.catalog`: where statements run, unqualified tables resolve and Feast creates its
   * temporary entity tables (default `memory`, as Feast's own Trino tests run; name the sources'
   * tables with their catalog). Not `hive`: Feast creates the entity table with the dataframe's
   * types, and the Feast client's timestamps are timezone-aware, which the hive connector refuses
   * ("Unsupported Hive type: timestamp(3) with time zone").
   */
  readonly catalog?: string;
  /**
   * `offline_store.dataset`: the schema of the catalog where Feast creates its temporary entity
   * tables (default `feast`, Feast's default). Created here if missing: Feast does not create it.
   */
  readonly dataset?: string;
  /** `offline_store.user` (default `feast`). */
  readonly user?: string;
  /** `offline_store.connector`: the catalog's connector, how Feast writes its CREATE TABLE (default `{type: memory}`). */
  readonly connector?: Readonly<Record<string, string>>;
}

/** Feast's TrinoOfflineStoreConfig for `trino`, as the `offline_store` section of feature_store.yaml. */
export function feastTrinoStoreConfig(trino: TrinoEndpoint, options: FeastTrinoOptions = {}): Record<string, unknown> {
  return {
    type: 'trino',
    host: trino.host,
    port: trino.port,
    catalog: options.catalog ?? 'memory',
    user: options.user ?? 'feast',
    connector: { ...(options.connector ?? { type: 'memory' }) },
    dataset: options.dataset ?? 'feast',
  };
}

/** Throws, saying how to get it, when the venv lacks Feast's trino extra (the `trino` package). */
export function requireFeastTrino(): void {
  try {
    execFileSync(feastPython().python, ['-c', 'import trino, feast.infra.offline_stores.contrib.trino_offline_store.trino'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: feastEnv(),
    });
  } catch (error) {
    throw new Error(
      `The Feast venv cannot import Feast's TrinoOfflineStore (feast[trino]): ${String((error as { stderr?: Buffer }).stderr ?? error)
        .trim()
        .slice(-500)}\n` +
        'Run scripts/ensure-feast-venv.sh (test/conformance/requirements.txt pins the trino package), or point LARDER_FEAST_VENV at a venv with feast[trino]==0.67.0.',
    );
  }
}

/** A request the Feast client makes (see feast_trino_client.py for the fields). */
export type FeastTrinoRequest =
  | {
      readonly call: 'historical';
      readonly features: readonly string[];
      readonly entities?: { readonly driver_id: readonly number[]; readonly event_timestamp: readonly string[] };
      readonly entity_sql?: string;
      /** With `end` and neither `entities` nor `entity_sql`: the start/end-date mode. */
      readonly start?: string;
      readonly end?: string;
    }
  | {
      readonly call: 'pull_latest' | 'pull_all';
      readonly source: string;
      readonly join_keys: readonly string[];
      readonly features: readonly string[];
      readonly timestamp_field: string;
      readonly created?: string | null;
      readonly start: string;
      readonly end: string;
    };

/**
 * The client's answer: columns in the frame's order, rows sorted, timestamps as UTC ISO strings,
 * NaN as null, and each column's pandas dtype as the client's `to_df()` gives it.
 */
export type FeastTrinoAnswer =
  | { readonly columns: string[]; readonly rows: unknown[][]; readonly dtypes: Record<string, string> }
  | { readonly error: { readonly class: string; readonly message: string } };

export interface FeastTrinoRepo {
  readonly root: string;
  /** The server's feature repo (offline_store: trino): serve it with `-c serverRepo`. */
  readonly serverRepo: string;
  readonly registryPath: string;
  /** The `offline_store` section in the server's feature_store.yaml. */
  readonly offlineStore: Record<string, unknown>;
  /** The environment for Feast processes of this repo (no telemetry; Prometheus scratch dir under root). */
  readonly env: NodeJS.ProcessEnv;
  /** Writes <root>/<name>/feature_store.yaml (default name `client`) for a server on `port`; returns that dir. */
  writeClient(port: number, host?: string, name?: string): string;
  /** `feast serve_offline` of the server repo: Feast's own server with its TrinoOfflineStore. Always stop() it. */
  serveFeast(options?: Omit<StartOptions, 'repoPath'>): Promise<ServerProcess>;
  /** The Feast client in `clientDir` (from writeClient) makes `request`. */
  ask(clientDir: string, request: FeastTrinoRequest): Promise<FeastTrinoAnswer>;
  /** The Feast client in `clientDir` makes each of `requests` in turn, in one Python process (Feast's import takes seconds). */
  askMany(clientDir: string, requests: readonly FeastTrinoRequest[]): Promise<FeastTrinoAnswer[]>;
  /** Removes the temp dir (kept when LARDER_KEEP_CONFORMANCE is set). */
  cleanup(): void;
}

const repoYaml = (project: string, registry: string, offlineStore: Record<string, unknown>, onlinePath: string): string =>
  YAML.stringify({
    project,
    registry,
    provider: 'local',
    offline_store: offlineStore,
    online_store: { type: 'sqlite', path: onlinePath },
    entity_key_serialization_version: 3,
  });

/**
 * Writes a repo with `definitions` (a definitions.py declaring TrinoSources over existing tables,
 * and views over them), creates the catalog's `dataset` schema for Feast's temporary tables, and
 * runs `feast apply` with Feast's TrinoOfflineStore on `trino` (apply lists each source's columns
 * in Trino, so its tables must exist).
 */
export async function buildFeastTrinoRepo(
  trino: TrinoEndpoint,
  definitions: string,
  options: FeastTrinoOptions = {},
): Promise<FeastTrinoRepo> {
  requireFeastTrino();
  const project = options.project ?? 'larder_trino';
  const offlineStore = feastTrinoStoreConfig(trino, options);
  await trinoQuery(trino.url, `CREATE SCHEMA IF NOT EXISTS ${String(offlineStore.catalog)}.${String(offlineStore.dataset)}`);

  const root = mkdtempSync(path.join(tmpdir(), 'larder-feast-trino-'));
  const cleanup = () => {
    if (!process.env.LARDER_KEEP_CONFORMANCE) rmSync(root, { recursive: true, force: true });
  };
  try {
    const env = feastEnv(root);
    const serverRepo = path.join(root, 'server');
    mkdirSync(path.join(serverRepo, 'data'), { recursive: true });
    writeFileSync(path.join(serverRepo, 'definitions.py'), definitions);
    writeFileSync(path.join(serverRepo, 'feature_store.yaml'), repoYaml(project, 'data/registry.db', offlineStore, 'data/online_store.db'));
    try {
      await run(feastPython().feast, ['-c', serverRepo, 'apply'], { cwd: serverRepo, env, timeout: 300_000, maxBuffer: 32 << 20 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(`feast apply (TrinoOfflineStore) failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 8000));
    }
    const registryPath = path.join(serverRepo, 'data', 'registry.db');
    return {
      root,
      serverRepo,
      registryPath,
      offlineStore,
      env,
      writeClient(port: number, host = '127.0.0.1', name = 'client'): string {
        const client = path.join(root, name);
        mkdirSync(client, { recursive: true });
        writeFileSync(
          path.join(client, 'feature_store.yaml'),
          repoYaml(project, registryPath, { type: 'remote', host, port }, path.join(client, 'online_store.db')),
        );
        return client;
      },
      serveFeast(startOptions = {}) {
        return startFeastServer({ readyTimeoutMs: 120_000, ...startOptions, repoPath: serverRepo, env: { ...env, ...startOptions.env } });
      },
      async ask(clientDir: string, request: FeastTrinoRequest): Promise<FeastTrinoAnswer> {
        const { stdout, stderr } = await run(feastPython().python, [CLIENT_SCRIPT, clientDir, JSON.stringify(request)], {
          cwd: clientDir,
          env,
          timeout: 300_000,
          maxBuffer: 256 << 20,
        });
        const line = stdout
          .trim()
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('RESULT ') || l.startsWith('ERROR '));
        if (!line) throw new Error(`feast_trino_client.py printed no RESULT or ERROR line:\n${stdout}\n${stderr}`.slice(0, 8000));
        return line.startsWith('RESULT ')
          ? (JSON.parse(line.slice('RESULT '.length)) as FeastTrinoAnswer)
          : { error: JSON.parse(line.slice('ERROR '.length)) as { class: string; message: string } };
      },
      async askMany(clientDir: string, requests: readonly FeastTrinoRequest[]): Promise<FeastTrinoAnswer[]> {
        const { stdout, stderr } = await run(feastPython().python, [CLIENT_SCRIPT, clientDir, JSON.stringify(requests)], {
          cwd: clientDir,
          env,
          timeout: 600_000,
          maxBuffer: 256 << 20,
        });
        const line = stdout
          .trim()
          .split('\n')
          .reverse()
          .find((l) => l.startsWith('RESULTS '));
        if (!line) throw new Error(`feast_trino_client.py printed no RESULTS line:\n${stdout}\n${stderr}`.slice(0, 8000));
        return JSON.parse(line.slice('RESULTS '.length)) as FeastTrinoAnswer[];
      },
      cleanup,
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
