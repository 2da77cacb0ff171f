/**
 * Feast's own registry server, `feast serve_registry` from the test venv, serving a registry that
 * `feast apply` wrote: the other end of larder's `registry_type: remote`.
 *
 * Each server gets a directory of its own holding only a feature_store.yaml (the registry by
 * absolute path, and the `auth:` section it should enforce), so several can serve one registry.db
 * with different settings. The server is spawned asynchronously in its own process group (larder
 * may run in the test's process and must keep answering), and is ready when its port accepts a
 * TCP connection: Python's grpc binds the port only after Feast has imported and built
 * everything. stop() kills the whole group, so nothing Feast started outlives the test.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { feastPython } from './feast-python.ts';
import { feastEnv } from './feast-repo.ts';
import { freePort } from './larder-process.ts';

const run = promisify(execFile);
const LOG_LIMIT = 256 * 1024;

/**
 * `feast serve_registry` needs Feast's `grpcio` extra (grpcio, grpcio-reflection,
 * grpcio-health-checking), which test/conformance/requirements.txt does not list: the client
 * side of the conformance suite never imports grpc. Pinned to the versions pip resolved next to
 * feast 0.67.0 and protobuf 7.36.2 (adding them changes nothing else in the venv). They belong in
 * requirements.txt; until they are there, the first registry server installs them into the venv.
 */
const GRPC_EXTRA = ['grpcio==1.85.3', 'grpcio-reflection==1.85.1', 'grpcio-health-checking==1.85.1'];
let grpcExtraReady: Promise<void> | null = null;

function ensureGrpcExtra(): Promise<void> {
  grpcExtraReady ??= (async () => {
    const { python } = feastPython();
    try {
      await run(python, ['-c', 'import grpc, grpc_health.v1.health, grpc_reflection.v1alpha.reflection']);
      return;
    } catch {
      // not installed yet
    }
    try {
      await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...GRPC_EXTRA], { timeout: 300_000, maxBuffer: 8 << 20 });
    } catch (error) {
      const e = error as { stderr?: string; message: string };
      throw new Error(`installing ${GRPC_EXTRA.join(' ')} into the Feast venv failed: ${e.message}\n${e.stderr ?? ''}`);
    }
  })();
  return grpcExtraReady;
}

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
  await ensureGrpcExtra();
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
  const child = spawn(feastPython().feast, ['-c', repoPath, 'serve_registry', '--port', String(port), ...tlsArgs], {
    cwd: repoPath,
    env: { ...feastEnv(repoPath), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return waitUntilServing(child, port, repoPath, options.readyTimeoutMs ?? 60_000);
}

async function waitUntilServing(child: ChildProcess, port: number, repoPath: string, timeoutMs: number): Promise<FeastRegistryServer> {
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (error) => {
      append(Buffer.from(`\n[feast serve_registry could not start: ${error.message}]\n`));
      resolve();
    });
  });
  void exit.then(() => (exited = true));

  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // the group is gone already
    }
  };
  const server: FeastRegistryServer = {
    port,
    target: `127.0.0.1:${port}`,
    repoPath,
    logs: () => log,
    async stop(graceMs = 5_000) {
      if (exited) return;
      killGroup('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`feast serve_registry exited before serving on port ${port}:\n${log}`);
    if (await canConnect(port)) return server;
    if (Date.now() > deadline) {
      await server.stop(1_000);
      throw new Error(`feast serve_registry did not open port ${port} within ${timeoutMs} ms:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
