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
 *
 * `startTrinoCluster` starts a coordinator and separate worker processes on this machine instead,
 * for benches of the distributed path (bench/trino-vs-feast.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './larder-process.ts';
import { trinoQuery } from './trino-statement.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HOST = '127.0.0.1';
/** The plugins the default catalogs need. */
const DEFAULT_PLUGINS = ['hive', 'memory'];
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
  /**
   * The connector plugins (directories of the install's `plugin/`) the server loads (default `hive`
   * and `memory`, what the default catalogs need). Trino loads every plugin it is given at start-up:
   * all 60 of 476's take ~5 s of a ~17-19 s start here, these two ~2.5 s.
   */
  readonly plugins?: readonly string[];
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
  /** The last `lines` (default 60) lines of the server's output (stdout and stderr; 64 KiB are kept). */
  logTail(lines?: number): string;
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
 * JVM flags: a modest heap and few GC/JIT threads for a shared 2-core test machine, plus the flags
 * Trino's deployment docs recommend for jvm.config.
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

/**
 * What distinguishes one node from another. `startTrino` starts a single coordinator that also
 * runs tasks; `startTrinoCluster` adds workers: the same files with `coordinator: false` and the
 * coordinator's discovery URI, ready when the coordinator lists them as active in
 * `system.runtime.nodes`; their catalogs match the coordinator's (same warehouse path).
 */
interface NodeRole {
  readonly coordinator: boolean;
  /** For a coordinator: whether it also runs tasks (`node-scheduler.include-coordinator`; default true). */
  readonly schedulesTasks?: boolean;
  readonly port: number;
  /** The coordinator's URL, where nodes announce themselves. */
  readonly discoveryUri: string;
  /** The `hive` catalog's local root; shared by all nodes of a cluster (one machine here). */
  readonly warehouse: string;
}

/** Writes a node's etc/ (node, jvm, config, log levels, catalogs), data/ and plugin/ under `dir`. */
function writeNodeFiles(install: TrinoInstall, dir: string, role: NodeRole, options: TrinoServerOptions): { etc: string; data: string } {
  const etc = path.join(dir, 'etc');
  const data = path.join(dir, 'data');
  const plugins = path.join(dir, 'plugin');
  for (const d of [etc, path.join(etc, 'catalog'), data, plugins, role.warehouse]) mkdirSync(d, { recursive: true });
  for (const name of options.plugins ?? DEFAULT_PLUGINS) {
    const source = path.join(install.home, 'plugin', name);
    if (!existsSync(source)) throw new Error(`Trino has no plugin '${name}' in ${path.join(install.home, 'plugin')}`);
    symlinkSync(source, path.join(plugins, name));
  }
  const file = (name: string, text: string) => writeFileSync(path.join(etc, name), text);
  file(
    'node.properties',
    properties({
      'node.environment': 'larder_test',
      // Unique per node, so two nodes never look like one to the coordinator's discovery service.
      'node.id': `larder-test-${path.basename(dir)}`,
      'node.data-dir': data,
    }),
  );
  file('jvm.config', jvmConfig(options.maxHeap ?? '1G'));
  file(
    'config.properties',
    properties({
      coordinator: String(role.coordinator),
      ...(role.coordinator ? { 'node-scheduler.include-coordinator': String(role.schedulesTasks ?? true) } : {}),
      'http-server.http.port': String(role.port),
      'discovery.uri': role.discoveryUri,
      'node.internal-address': HOST,
      'plugin.dir': plugins,
      // The heartbeat failure detector takes nodes whose pings time out out of scheduling. This spec
      // once got "No nodes available to run query" seconds after start on a loaded 2-core machine,
      // most likely the coordinator failing its own pings while busy starting (not reproduced since).
      // A single node gains nothing from it; a multi-node bench may turn it back on, loosely.
      // It is a coordinator property: a worker refuses to start with it ("was not used").
      ...(role.coordinator ? { 'failure-detector.enabled': 'false' } : {}),
      'query.max-memory': '512MB',
      'query.max-memory-per-node': '512MB',
      ...options.config,
    }),
  );
  file('log.properties', 'io.trino=INFO\n');
  const catalogs: Record<string, Readonly<Record<string, string>>> = {
    memory: { 'connector.name': 'memory' },
    hive: {
      'connector.name': 'hive',
      'hive.metastore': 'file',
      // `local:///x` names <local.location>/x: the metastore's JSON and the data files both live in
      // the warehouse, schemas as <warehouse>/<schema>, tables as <warehouse>/<schema>/<table>.
      'hive.metastore.catalog.dir': 'local:///',
      'fs.native-local.enabled': 'true',
      'local.location': role.warehouse,
      // Lets tests (and a later staging path for entity tables) write to tables with an external_location.
      'hive.non-managed-table-writes-enabled': 'true',
    },
    ...options.catalogs,
  };
  for (const [name, props] of Object.entries(catalogs)) file(path.join('catalog', `${name}.properties`), properties(props));
  return { etc, data };
}

/** A running node process: its output, and a stop that kills its process group and waits for the exit. */
interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  logTail(lines?: number): string;
  kill(): Promise<void>;
}

/**
 * Runs `bin/launcher run` with the JDK from `install`: the launcher execs the JVM in the foreground
 * (same pid), and `detached` makes that pid a process group leader, so `kill()` takes down anything
 * it forks too.
 */
function launchNode(install: TrinoInstall, dir: string, etc: string, data: string): NodeProcess {
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-LOG_KEEP);
  };
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
  return {
    child,
    pid,
    logTail: (lines = 60) => log.split('\n').slice(-lines).join('\n'),
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

/** Resolves when `/v1/info` says the server has finished starting; rejects when it exits first or the deadline passes. */
async function waitUntilStarted(url: string, node: NodeProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) {
      throw new Error(`Trino exited (${node.child.exitCode ?? node.child.signalCode}) while starting; its output ends:\n${node.logTail()}`);
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
  throw new Error(`Trino did not finish starting within ${timeoutMs} ms (last /v1/info: ${last}); its output ends:\n${node.logTail()}`);
}

/**
 * Starts a single-node Trino (a coordinator that also runs tasks) on a free port and waits until
 * `/v1/info` reports it started (~17 s on a loaded 2-core machine). Always `stop()` it.
 */
export async function startTrino(options: TrinoServerOptions = {}): Promise<TrinoServer> {
  const install = trinoInstall();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-trino-'));
  let node: NodeProcess | undefined;
  const stop = async () => {
    try {
      await node?.kill();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const port = await freePort();
    const url = `http://${HOST}:${port}`;
    const warehouse = path.join(dir, 'warehouse');
    const { etc, data } = writeNodeFiles(
      install,
      path.join(dir, 'coordinator'),
      { coordinator: true, port, discoveryUri: url, warehouse },
      options,
    );
    node = launchNode(install, dir, etc, data);
    await waitUntilStarted(url, node, options.startTimeoutMs ?? 120_000);
    const { pid, logTail } = node;
    return { url, host: HOST, port, pid, dir, warehouse, logTail, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface TrinoClusterOptions extends TrinoServerOptions {
  /** How many worker processes (default 1). */
  readonly workers?: number;
  /** Each worker's maximum heap (default: `maxHeap`, else `1G`); `maxHeap` is the coordinator's. */
  readonly workerHeap?: string;
  /** Lines of the workers' `config.properties` on top of `config` (for example their per-node memory). */
  readonly workerConfig?: Readonly<Record<string, string>>;
}

export interface TrinoCluster extends TrinoServer {
  /** The workers' JVM process ids (each its process group leader), in start order. */
  readonly workerPids: readonly number[];
  /** The last `lines` lines of worker `index`'s output. */
  workerLogTail(index: number, lines?: number): string;
}

/** `count` ports that were free a moment ago, all different. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Resolves when the coordinator at `url` lists `count` active workers; rejects at the deadline or when a node exits. */
async function waitForWorkers(url: string, count: number, nodes: readonly NodeProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const sql = "SELECT count(*) FROM system.runtime.nodes WHERE coordinator = false AND state = 'active'";
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    const gone = nodes.find((n) => n.child.exitCode !== null || n.child.signalCode !== null);
    if (gone) throw new Error(`a Trino node exited while the cluster was starting; its output ends:\n${gone.logTail()}`);
    try {
      const { rows } = await trinoQuery(url, sql, { timeoutMs: 10_000 });
      if (Number(rows[0]?.[0]) >= count) return;
      last = `${String(rows[0]?.[0])} active`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the coordinator did not list ${count} active worker(s) within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Starts a Trino cluster on this machine: a coordinator that schedules no tasks on itself
 * (`node-scheduler.include-coordinator=false`, so every split runs in a worker process and the
 * data crosses the exchange between processes, as in a real cluster) and `workers` worker
 * processes, each on a free port with its own etc/ and data/, sharing the `hive` warehouse
 * directory. Resolves when the coordinator has started and lists every worker as active
 * (~30-40 s here for one worker). `stop()` kills every node. For benches: tests use `startTrino`.
 */
export async function startTrinoCluster(options: TrinoClusterOptions = {}): Promise<TrinoCluster> {
  const install = trinoInstall();
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-trino-cluster-'));
  const nodes: NodeProcess[] = [];
  const stop = async () => {
    try {
      for (const node of [...nodes].reverse()) await node.kill();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    const workers = options.workers ?? 1;
    const [port, ...workerPorts] = await freePorts(1 + workers);
    const url = `http://${HOST}:${port}`;
    const warehouse = path.join(dir, 'warehouse');
    const coordinator = writeNodeFiles(
      install,
      path.join(dir, 'coordinator'),
      { coordinator: true, schedulesTasks: false, port: port!, discoveryUri: url, warehouse },
      options,
    );
    nodes.push(launchNode(install, dir, coordinator.etc, coordinator.data));
    for (const [index, workerPort] of workerPorts.entries()) {
      const files = writeNodeFiles(
        install,
        path.join(dir, `worker-${index}`),
        { coordinator: false, port: workerPort, discoveryUri: url, warehouse },
        { ...options, maxHeap: options.workerHeap ?? options.maxHeap, config: { ...options.config, ...options.workerConfig } },
      );
      nodes.push(launchNode(install, dir, files.etc, files.data));
    }
    const timeoutMs = options.startTimeoutMs ?? 180_000;
    await waitUntilStarted(url, nodes[0]!, timeoutMs);
    await Promise.all(workerPorts.map((p, i) => waitUntilStarted(`http://${HOST}:${p}`, nodes[i + 1]!, timeoutMs)));
    await waitForWorkers(url, workers, nodes, timeoutMs);
    const [head, ...rest] = nodes;
    return {
      url,
      host: HOST,
      port: port!,
      pid: head!.pid,
      dir,
      warehouse,
      logTail: head!.logTail,
      workerPids: rest.map((n) => n.pid),
      workerLogTail: (index, lines) => rest[index]?.logTail(lines) ?? '',
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** True when no process has the pid any more (for tests asserting a clean stop). */
export function trinoProcessGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}
