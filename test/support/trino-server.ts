/**
 * A throwaway Trino server for tests: a single-node coordinator (which also runs tasks) on a free
 * port, with its own temporary `etc/`, data dir and warehouse, stopped by killing its process group
 * and deleting the directory.
 *
 * The server and the JDK come from scripts/ensure-trino.sh (Trino 476 from Maven Central, cached in
 * `~/.cache/larder`; a JDK >= 24); `npm test` runs that script first. `LARDER_TRINO_HOME` and
 * `LARDER_TRINO_JAVA_HOME` override both (the script is then not run).
 *
 * Catalogs: `memory` (connector.name=memory) and `hive`, writable, with a file metastore and the
 * data files on the local file system under the server's temporary directory.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './larder-process.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
/** How many characters of the server's output are kept for error messages. */
const LOG_KEEP = 64 * 1024;

export interface TrinoInstall {
  /** The unpacked trino-server directory (bin/launcher, lib/, plugin/). */
  readonly home: string;
  /** A JDK >= 24 to run it with. */
  readonly javaHome: string;
}

export interface TrinoServerOptions {
  /** Start-up deadline in milliseconds (default 120 000): `/v1/info` must report `starting: false` by then. */
  readonly startTimeoutMs?: number;
  /** The JVM's maximum heap (default `1G`). */
  readonly maxHeap?: string;
  /** Extra catalogs: file name (without `.properties`) → properties. Overrides the defaults of the same name. */
  readonly catalogs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Extra lines of `config.properties` (for example session or memory limits). */
  readonly config?: Readonly<Record<string, string>>;
}

export interface TrinoServer {
  /** `http://127.0.0.1:<port>`, the coordinator's HTTP endpoint (statement protocol, `/v1/info`). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The server's JVM process id (its process group leader). */
  readonly pid: number;
  /** The temporary directory holding etc/, data/ and the warehouse; deleted by `stop()`. */
  readonly dir: string;
  /** Local directory under which the `hive` catalog keeps its schemas and tables. */
  readonly warehouse: string;
  /** The server's output so far (stdout and stderr, the last 64 KiB). */
  logTail(): string;
  /** Kills the server (its process group), waits for it to exit, and removes its directory. */
  stop(): Promise<void>;
}

let cachedInstall: TrinoInstall | undefined;

/** Finds (installing on first use, via scripts/ensure-trino.sh) the Trino server and its JDK. */
export function trinoInstall(): TrinoInstall {
  if (cachedInstall) return cachedInstall;
  const { LARDER_TRINO_HOME: home, LARDER_TRINO_JAVA_HOME: javaHome } = process.env;
  if (home && javaHome) {
    cachedInstall = { home, javaHome };
    return cachedInstall;
  }
  let out: string;
  try {
    out = execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ensure-trino.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(
      `scripts/ensure-trino.sh failed; run it by hand to see why, or set LARDER_TRINO_HOME and LARDER_TRINO_JAVA_HOME:\n${stderr}`,
    );
  }
  const [installDir, java] = out.trim().split('\n');
  if (!installDir || !java)
    throw new Error(`scripts/ensure-trino.sh printed ${JSON.stringify(out)}, expected two lines (Trino dir, JAVA_HOME)`);
  cachedInstall = { home: installDir, javaHome: java };
  return cachedInstall;
}

function properties(values: Readonly<Record<string, string>>): string {
  return `${Object.entries(values)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

/**
 * JVM flags: a modest heap for a shared 2-core test machine, plus the flags Trino's deployment docs
 * list for jvm.config (the launcher refuses none of them; Trino checks a few at start-up).
 */
function jvmConfig(maxHeap: string): string {
  return `${[
    '-server',
    `-Xmx${maxHeap}`,
    '-XX:+UseG1GC',
    '-XX:G1HeapRegionSize=32M',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:ReservedCodeCacheSize=256M',
    '-XX:PerMethodRecompilationCutoff=10000',
    '-XX:PerBytecodeRecompilationCutoff=10000',
    '-Djdk.attach.allowAttachSelf=true',
    '-Djdk.nio.maxCachedBufferSize=2000000',
    '-Dfile.encoding=UTF-8',
    '-XX:+EnableDynamicAgentLoading',
    // Few cores here: keep the JIT and GC from taking both while the test also runs.
    '-XX:CICompilerCount=2',
    '-XX:ParallelGCThreads=2',
    '-XX:ConcGCThreads=1',
  ].join('\n')}\n`;
}

/** The state a node needs on disk: etc/ (node, jvm, config, log levels, catalogs), data/, warehouse/. */
function writeNodeFiles(dir: string, port: number, options: TrinoServerOptions): { etc: string; data: string; warehouse: string } {
  const etc = path.join(dir, 'etc');
  const data = path.join(dir, 'data');
  const warehouse = path.join(dir, 'warehouse');
  for (const d of [etc, path.join(etc, 'catalog'), data, warehouse]) mkdirSync(d, { recursive: true });
  const file = (name: string, text: string) => writeFileSync(path.join(etc, name), text);
  file(
    'node.properties',
    properties({
      'node.environment': 'larder_test',
      // Unique per server, so two test servers never look like one node to a discovery service.
      'node.id': `larder-test-${path.basename(dir)}`,
      'node.data-dir': data,
    }),
  );
  file('jvm.config', jvmConfig(options.maxHeap ?? '1G'));
  file(
    'config.properties',
    properties({
      coordinator: 'true',
      'node-scheduler.include-coordinator': 'true',
      'http-server.http.port': String(port),
      'discovery.uri': `http://${HOST}:${port}`,
      'node.internal-address': HOST,
      'query.max-memory': '512MB',
      'query.max-memory-per-node': '512MB',
      // Seam for a later worker process: it would get coordinator=false and this discovery.uri.
      ...options.config,
    }),
  );
  file('log.properties', 'io.trino=INFO\n');
  const catalogs: Record<string, Readonly<Record<string, string>>> = {
    memory: { 'connector.name': 'memory' },
    hive: {
      'connector.name': 'hive',
      'hive.metastore': 'file',
      // `local:///x` names <local.location>/x: metadata and data files both live in the warehouse.
      'hive.metastore.catalog.dir': 'local:///',
      'fs.native-local.enabled': 'true',
      'local.location': warehouse,
      'hive.non-managed-table-writes-enabled': 'true',
    },
    ...options.catalogs,
  };
  for (const [name, props] of Object.entries(catalogs)) file(path.join('catalog', `${name}.properties`), properties(props));
  return { etc, data, warehouse };
}

/** Resolves when `/v1/info` says the server has finished starting; rejects when it exits first or the deadline passes. */
async function waitUntilStarted(url: string, child: ChildProcess, timeoutMs: number, logTail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Trino exited (${child.exitCode ?? child.signalCode}) while starting; its output ends:\n${logTail()}`);
    }
    try {
      const response = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(2000) });
      const info = (await response.json()) as { starting?: boolean };
      if (response.ok && info.starting === false) return;
      last = `HTTP ${response.status}, starting=${info.starting}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Trino did not finish starting within ${timeoutMs} ms (last /v1/info: ${last}); its output ends:\n${logTail()}`);
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

/** Starts a single-node Trino (coordinator that also runs tasks) and waits until it accepts queries. */
export async function startTrino(options: TrinoServerOptions = {}): Promise<TrinoServer> {
  const install = trinoInstall();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-trino-'));
  const port = await freePort();
  const url = `http://${HOST}:${port}`;
  const { etc, data, warehouse } = writeNodeFiles(dir, port, options);

  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-LOG_KEEP);
  };
  const logTail = () => log.split('\n').slice(-60).join('\n');
  // `launcher run` execs the JVM in the foreground (same pid); detached makes it a process group
  // leader, so stop() can kill everything it forks.
  const child = spawn(path.join(install.home, 'bin', 'launcher'), ['run', `--etc-dir=${etc}`, `--data-dir=${data}`], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, JAVA_HOME: install.javaHome, PATH: `${path.join(install.javaHome, 'bin')}:${process.env.PATH}` },
  });
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${install.home}/bin/launcher`);

  const stop = async () => {
    try {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    await waitUntilStarted(url, child, options.startTimeoutMs ?? 120_000, logTail);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, host: HOST, port, pid, dir, warehouse, logTail, stop };
}

/** True when no process has the pid any more (for tests asserting a clean stop). */
export const trinoProcessGone = processGone;
