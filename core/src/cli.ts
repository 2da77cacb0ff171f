/**
 * The `larder` command line, shaped like Feast's:
 *   larder [-c DIR | --chdir DIR] [-f YAML] [--log-level LEVEL] serve_offline|serve
 *          [-h HOST] [-p PORT] [-k KEY] [--cert CERT] [--metrics-port PORT]
 *   larder example [DIR] [serve options]   (writes the example repo, then serves it)
 * Global options come before the subcommand (as in Feast, where `-c` means --chdir there and
 * --cert after `serve_offline`).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { ConfigError } from './config/errors.ts';
import { createLogger, type LogLevel } from './logging/create-logger.ts';
import { DEFAULT_HOST, DEFAULT_PORT, startServer, type RunningServer } from './server.ts';

const USAGE = `usage: larder [-c DIR] [-f FEATURE_STORE_YAML] [--log-level LEVEL] <command> [options]

commands:
  serve_offline (alias: serve)   serve the feature repo's offline store over Arrow Flight
      -h, --host HOST     address to bind (default ${DEFAULT_HOST})
      -p, --port PORT     port (default ${DEFAULT_PORT}; 0 picks a free one)
      -k, --key FILE      TLS private key (with --cert)
          --cert FILE     TLS certificate (with --key)
          --metrics-port PORT
                          serve Prometheus metrics at http://HOST:PORT/metrics
          --odfv-python PYTHON
                          compute on-demand feature views with this Python (feast installed);
                          overrides larder.odfv_python; without either, ODFVs are refused
      The gRPC health service (grpc.health.v1) answers on the Flight port itself.
  example [DIR] [serve options]  write the bundled example feature repo to DIR (default ./larder-example) and serve it

global options:
  -c, --chdir DIR                 feature repo directory (default: the current directory)
  -f, --feature-store-yaml FILE   feature_store.yaml to use (default: <repo>/feature_store.yaml)
      --log-level LEVEL           debug, info, warning, error, critical (default info)
`;

const LEVELS: Record<string, LogLevel> = { debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', critical: 'fatal' };

/**
 * The `larder` executable: `larder example [DIR] [serve options]` writes the bundled example repo
 * and serves it; everything else is `main`. Resolves with the process exit code.
 */
export async function run(argv: readonly string[]): Promise<number> {
  if (argv[0] !== 'example') return main([...argv]);
  // Imported here, not at the top: writing parquet loads parquet-wasm, whose WebAssembly module
  // takes ~100 ms to compile, a cost `serve_offline` should not pay.
  const { writeExampleRepo } = await import('./example/write-example-repo.ts');
  const hasDir = argv[1] !== undefined && !argv[1].startsWith('-');
  const dir = await writeExampleRepo(hasDir ? argv[1]! : 'larder-example');
  process.stderr.write(`larder: example feature repo written to ${dir}\n`);
  return main(['-c', dir, 'serve_offline', ...argv.slice(hasDir ? 2 : 1)]);
}

export async function main(argv: string[]): Promise<number> {
  const commandIndex = findCommand(argv);
  const globalArgs = commandIndex < 0 ? argv : argv.slice(0, commandIndex);
  const command = commandIndex < 0 ? undefined : argv[commandIndex];
  const commandArgs = commandIndex < 0 ? [] : argv.slice(commandIndex + 1);
  let globals;
  try {
    globals = parseArgs({
      args: globalArgs,
      options: {
        chdir: { type: 'string', short: 'c' },
        'feature-store-yaml': { type: 'string', short: 'f' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  if (globals.help) return usageError('');
  if (!command) return usageError('no command given');
  const level = LEVELS[String(globals['log-level']).toLowerCase()];
  if (!level) return usageError(`unknown --log-level ${globals['log-level']}`);
  const logger = createLogger(level, undefined, { pid: process.pid });

  switch (command) {
    case 'serve_offline':
    case 'serve':
      return serve(commandArgs, { chdir: globals.chdir, featureStoreYaml: globals['feature-store-yaml'] }, logger);
    default:
      return usageError(`unknown command "${command}"`);
  }
}

const GLOBALS_WITH_VALUE = new Set(['-c', '--chdir', '-f', '--feature-store-yaml', '--log-level']);

/** Index of the subcommand: the first word that is neither a global option nor its value. */
function findCommand(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) return i;
    if (GLOBALS_WITH_VALUE.has(arg)) i++;
  }
  return -1;
}

async function serve(args: string[], repo: { chdir?: string; featureStoreYaml?: string }, logger: Logger): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        host: { type: 'string', short: 'h', default: DEFAULT_HOST },
        port: { type: 'string', short: 'p', default: String(DEFAULT_PORT) },
        key: { type: 'string', short: 'k' },
        cert: { type: 'string' },
        'metrics-port': { type: 'string' },
        'odfv-python': { type: 'string' },
      },
    }).values;
  } catch (error) {
    return usageError((error as Error).message);
  }
  const port = Number(values.port);
  if (!isPort(port)) return usageError(`--port must be a port number, not "${values.port}"`);
  if (Boolean(values.key) !== Boolean(values.cert)) return usageError('--key and --cert must be given together');
  const metricsPort = values['metrics-port'] === undefined ? undefined : Number(values['metrics-port']);
  if (metricsPort !== undefined && !isPort(metricsPort))
    return usageError(`--metrics-port must be a port number, not "${values['metrics-port']}"`);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) return usageError('--metrics-port must differ from --port');
  if (values['odfv-python'] === '') return usageError('--odfv-python needs the path of a Python interpreter');
  const odfvPython = pythonFromFlag(values['odfv-python']);
  return runUntilSignal(
    () =>
      startServer({ ...repo, host: values.host, port, tlsKeyPath: values.key, tlsCertPath: values.cert, metricsPort, odfvPython, logger }),
    logger,
  );
}

/** A path on the command line is read against the working directory (a yaml path, against the repo); a bare name is looked up on PATH. */
function pythonFromFlag(value: string | undefined): string | undefined {
  return value?.includes(path.sep) ? path.resolve(value) : value;
}

/**
 * Serves until SIGTERM/SIGINT, then drains in-flight calls and exits 0. The handlers are installed
 * before the server starts: its port opens before start() resolves, so a signal in between (an
 * orchestrator stopping a pod that has just passed a TCP probe) would otherwise kill the process
 * with 143; it now stops the server as soon as it is up.
 */
async function runUntilSignal(start: () => Promise<RunningServer>, logger: Logger): Promise<number> {
  // The handlers stay installed until the drain ends: a library that hooks signals itself
  // (signal-exit, loaded with proper-lockfile on the first write) re-raises a signal it sees no
  // other listener for, which killed larder mid-drain (exit 143) once this handler removed itself.
  // A second signal while draining stops at once, without waiting for in-flight calls.
  let draining = false;
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    onSignal = (signal) => {
      if (draining) {
        logger.warn({ signal }, 'second signal while draining: stopping without waiting for in-flight calls');
        process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      }
      draining = true;
      logger.info({ signal }, 'draining in-flight calls, then stopping');
      resolve();
    };
  });
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    let server: RunningServer;
    try {
      server = await start();
    } catch (error) {
      const message = error instanceof ConfigError ? error.message : (error as Error).message;
      logger.fatal({ err: message }, 'larder could not start');
      process.stderr.write(`larder: ${message}\n`);
      return 1;
    }
    await stopRequested;
    await server.stop();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  logger.info('larder stopped');
  return 0;
}

function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 65535;
}

function usageError(message: string): number {
  if (message) process.stderr.write(`larder: ${message}\n\n`);
  process.stderr.write(USAGE);
  return message ? 2 : 0;
}
