/**
 * Starts an offline server as a child process and waits until it accepts TCP connections (the
 * same readiness probe Feast's own harness and the Feast operator use).
 *
 *   startLarder({ repoPath })       node scripts/larder-dev.js -c <repo> serve_offline --host 127.0.0.1 --port <p>
 *   startFeastServer({ repoPath })  feast -c <repo> serve_offline --host 127.0.0.1 --port <p> (from the venv)
 *
 * Both run with the repo as working directory unless `cwd` says otherwise, as the Feast operator
 * does (Feast's file store resolves one path, persist's existence check, against the CWD). stop() sends SIGTERM and
 * resolves with the exit code (128 + signal number when killed by a signal).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { feastPython } from './feast-python.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Node arguments that run larder from its sources: the `larder-source` condition for `import` and
 * `require` alike (a CommonJS plugin's require('@larder/core') must find the sources too), then
 * the dev launcher.
 */
export const LARDER_DEV: readonly string[] = ['--conditions=larder-source', resolve(REPO_ROOT, 'scripts', 'larder-dev.js')];
const HOST = '127.0.0.1';
const LOG_LIMIT = 256 * 1024;

export interface StartOptions {
  /** The feature repo to serve (holds feature_store.yaml). */
  readonly repoPath: string;
  /** Port to bind; a free one is picked when omitted. */
  readonly port?: number;
  /** Extra arguments after `serve_offline`. */
  readonly args?: readonly string[];
  /** Extra environment variables. */
  readonly env?: NodeJS.ProcessEnv;
  /** `--log-level` (Feast's names: debug, info, warning, error, critical). */
  readonly logLevel?: string;
  /** How long to wait for the port to open (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** The working directory (default: the repo, as the Feast operator runs the server). */
  readonly cwd?: string;
}

export interface ServerProcess {
  readonly port: number;
  readonly pid: number;
  /** SIGTERM, then the exit code; SIGKILL after `graceMs` (default 20 s). */
  stop(graceMs?: number): Promise<number>;
  /** Everything the process wrote to stdout and stderr so far (the last 256 KiB). */
  logs(): string;
}

/** A port that was free a moment ago: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

export async function startLarder(options: StartOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const globals = ['-c', options.repoPath, ...(options.logLevel ? ['--log-level', options.logLevel] : [])];
  return launch(
    process.execPath,
    [...LARDER_DEV, ...globals, 'serve_offline', '--host', HOST, '--port', String(port), ...(options.args ?? [])],
    port,
    options,
    'larder',
  );
}

export async function startFeastServer(options: StartOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const globals = ['-c', options.repoPath, ...(options.logLevel ? ['--log-level', options.logLevel] : [])];
  return launch(
    feastPython().feast,
    [...globals, 'serve_offline', '--host', HOST, '--port', String(port), ...(options.args ?? [])],
    port,
    { ...options, env: { FEAST_USAGE: 'False', PYTHONDONTWRITEBYTECODE: '1', ...options.env } },
    'feast serve_offline',
  );
}

function exitCode(child: ChildProcess): number {
  if (child.exitCode !== null) return child.exitCode;
  const signal = child.signalCode;
  return signal ? 128 + (constants.signals[signal] ?? 0) : -1;
}

/**
 * Spawns a server process in `options.repoPath` and resolves once `port` accepts connections
 * (rejecting with its logs if it exits first or does not open the port in time). With
 * `processGroup`, it leads a process group of its own and stop() signals the whole group, for
 * servers that start children of their own (Python's gRPC servers).
 */
export function launch(
  file: string,
  args: string[],
  port: number,
  options: StartOptions & { readonly processGroup?: boolean },
  name: string,
): Promise<ServerProcess> {
  const child = spawn(file, args, {
    cwd: options.cwd ?? options.repoPath,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.processGroup ?? false,
  });
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (options.processGroup && child.pid) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  let log = '';
  const append = (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number>((done) => {
    child.once('exit', () => done(exitCode(child)));
    child.once('error', (error) => {
      append(Buffer.from(`\n[${name} could not start: ${error.message}]\n`));
      done(-1);
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const handle: ServerProcess = {
    port,
    pid: child.pid ?? -1,
    logs: () => log,
    async stop(graceMs = 20_000): Promise<number> {
      if (hasExited) return exited;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };

  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  return (async () => {
    for (;;) {
      if (hasExited) {
        throw new Error(`${name} exited (code ${await exited}) before serving on port ${port}:\n${log}`);
      }
      if (await canConnect(port)) return handle;
      if (Date.now() > deadline) {
        await handle.stop(2_000);
        throw new Error(`${name} did not open port ${port} within ${options.readyTimeoutMs ?? 30_000} ms:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: HOST, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
