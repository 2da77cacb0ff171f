/**
 * Feast's own registry server, `feast serve_registry` from the test venv, serving a registry that
 * `feast apply` wrote: the other end of larder's `registry_type: remote`.
 *
 * Each server gets a directory of its own holding only a feature_store.yaml (the registry by
 * absolute path, and the `auth:` section it should enforce), so several can serve one registry.db
 * with different settings. The server is spawned asynchronously in its own process group (larder
 * may run in the test's process and must keep answering), and is ready when its port accepts a
 * TCP connection: Python's grpc binds the port only after Feast has imported and built
 * everything. stop() signals the whole group, so nothing Feast started outlives the test.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { feastPython } from './feast-python.ts';
import { feastEnv } from './feast-repo.ts';
import { freePort, launch } from './larder-process.ts';

export interface RegistryServerOptions {
  /** The registry.db to serve (absolute path). */
  readonly registryPath: string;
  readonly project: string;
  /** Where the server's own directory is made. */
  readonly workdir: string;
  /** The port to bind (e.g. to restart on the same one); a free one is picked when omitted. */
  readonly port?: number;
  /** The server's `auth:` section (default no_auth). */
  readonly auth?: Record<string, unknown>;
  /** TLS: `--key` and `--cert`. */
  readonly tls?: { readonly keyPath: string; readonly certPath: string };
  /** Extra environment (e.g. INTRA_COMMUNICATION_BASE64). */
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for the port (default 60 s: importing Feast alone takes seconds). */
  readonly readyTimeoutMs?: number;
}

export interface FeastRegistryServer {
  readonly port: number;
  /** host:port, as `registry.path` of a remote registry. */
  readonly target: string;
  /** The directory holding this server's feature_store.yaml. */
  readonly repoPath: string;
  /** Everything the process wrote so far (the last 256 KiB). */
  logs(): string;
  /** Kills the process group (SIGKILL after `graceMs` of SIGTERM) and waits for the exit. */
  stop(graceMs?: number): Promise<void>;
}

export async function startFeastRegistryServer(options: RegistryServerOptions): Promise<FeastRegistryServer> {
  const port = options.port ?? (await freePort());
  const repoPath = mkdtempSync(join(options.workdir, 'registry-server-'));
  writeFileSync(
    join(repoPath, 'feature_store.yaml'),
    YAML.stringify({
      project: options.project,
      registry: options.registryPath,
      provider: 'local',
      offline_store: { type: 'file' },
      online_store: { type: 'sqlite', path: join(repoPath, 'online_store.db') },
      entity_key_serialization_version: 3,
      ...(options.auth ? { auth: options.auth } : {}),
    }),
  );
  const tlsArgs = options.tls ? ['--key', options.tls.keyPath, '--cert', options.tls.certPath] : [];
  // `-c` before the command is the repo; after it, serve_registry's `-c` would be --cert.
  const child = await launch(
    feastPython().feast,
    ['-c', repoPath, 'serve_registry', '--port', String(port), ...tlsArgs],
    port,
    { repoPath, env: { ...feastEnv(repoPath), ...options.env }, readyTimeoutMs: options.readyTimeoutMs ?? 60_000, processGroup: true },
    'feast serve_registry',
  );
  return {
    port,
    target: `127.0.0.1:${port}`,
    repoPath,
    logs: () => child.logs(),
    async stop(graceMs = 5_000) {
      await child.stop(graceMs);
    },
  };
}
