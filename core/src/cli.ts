/**
 * The `larder` command line, Feast 0.67's `feast` for its global options and `serve_offline`
 * (same options, short and long, same meanings, click's help and usage errors):
 *   larder [-c DIR] [-f FEATURE_STORE_YAML] [--log-level LEVEL] serve_offline|serve
 *          [-h HOST] [-p PORT] [-k KEY] [-c CERT] [--metrics-port PORT] [--odfv-python PYTHON]
 *   larder [global options] example [DIR] [serve_offline options]   (writes the example repo, serves it)
 * Global options come before the command: as in Feast, `-c` is --chdir there and --cert after it.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import {
  formatDefinitions,
  formatParagraph,
  formatUsageError,
  type OptionSpec,
  optionLabel,
  optionRow,
  parseInteger,
  parseOptions,
  pyRepr,
  didYouMean,
  UsageError,
} from './cli/click-options.ts';
import { ConfigError } from './config/errors.ts';
import { createLogger, type LogLevel } from './logging/create-logger.ts';
import { DEFAULT_HOST, DEFAULT_PORT, startServer, type RunningServer } from './server.ts';

/** Where the command line writes, and the program name its messages use. */
export interface CliIo {
  /** The name in usage lines (`larder`; `feast` for an entry point that stands in for Feast's). */
  readonly prog?: string;
  /** Help goes here (click prints it to stdout). */
  readonly stdout?: { write(text: string): unknown };
  /** Usage errors and start-up failures go here. */
  readonly stderr?: { write(text: string): unknown };
  /** See ServeOptions.odfvPythonFromPath in server.ts (the `feast` entry sets it). */
  readonly odfvPythonFromPath?: boolean;
}

const HELP: OptionSpec = { name: 'help', long: '--help', flag: true, help: 'Show this message and exit.' };

/** Feast's global options (feast/cli/cli.py), in Feast's order. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'chdir',
    long: '--chdir',
    short: '-c',
    help: 'Switch to a different feature repository directory before executing the given subcommand. Can also be set via the FEATURE_REPO_DIR_ENV_VAR environment variable.',
  },
  {
    name: 'logLevel',
    long: '--log-level',
    help: 'The logging level. One of DEBUG, INFO, WARNING, ERROR, and CRITICAL (case-insensitive).  [default: INFO; Feast: WARNING]',
  },
  {
    name: 'featureStoreYaml',
    long: '--feature-store-yaml',
    short: '-f',
    help: 'Override the directory where the CLI should look for the feature_store.yaml file. Can also be set via the FEAST_FS_YAML_FILE_PATH environment variable.',
  },
  HELP,
];

/** Feast's `serve_offline` options (feast/cli/serve.py), then larder's own. */
const SERVE_OPTIONS: readonly OptionSpec[] = [
  { name: 'host', long: '--host', short: '-h', help: 'Specify a host for the server', defaultText: DEFAULT_HOST },
  {
    name: 'port',
    long: '--port',
    short: '-p',
    metavar: 'INTEGER',
    help: 'Specify a port for the server',
    defaultText: String(DEFAULT_PORT),
  },
  {
    name: 'key',
    long: '--key',
    short: '-k',
    help: 'path to TLS certificate private key. You need to pass --cert as well to start server in TLS mode',
  },
  {
    name: 'cert',
    long: '--cert',
    short: '-c',
    help: 'path to TLS certificate public key. You need to pass --key as well to start server in TLS mode',
  },
  {
    name: 'metricsPort',
    long: '--metrics-port',
    metavar: 'INTEGER',
    help: '(larder) Serve Prometheus metrics at http://HOST:PORT/metrics; must differ from --port (0 picks a free port).',
  },
  {
    name: 'odfvPython',
    long: '--odfv-python',
    help: '(larder) Compute on-demand feature views with this Python (feast installed); overrides larder.odfv_python. Without either, ODFVs are refused.',
  },
  HELP,
];

/** Feast's own log level names (attributes of Python's logging module), as larder's pino levels. */
const LEVELS: Record<string, LogLevel> = {
  NOTSET: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
  FATAL: 'fatal',
};

const SERVE_DESCRIPTION =
  'Start a remote server locally on a given host, port. (larder: the Arrow Flight offline server; the gRPC health service answers on the same port.)';
const COMMANDS: readonly (readonly [string, string])[] = [
  ['example', 'Write the bundled example feature repo to DIR (default ./larder-example) and serve it.'],
  ['serve', 'The same as serve_offline (in Feast, `serve` is the online server).'],
  ['serve_offline', 'Start a remote server locally on a given host, port.'],
];

/** Feast 0.67's other commands: larder names them as Feast's, served by Feast, not by larder. */
const FEAST_COMMANDS = new Set(
  'apply configuration data-sources dbt delete demo-notebooks endpoint entities feature-services feature-views features get-historical-features get-online-features init label-views listen materialize materialize-incremental mcp mlflow monitor on-demand-feature-views permissions plan projects registry registry-dump saved-datasets serve_lineage serve_registry serve_transformations stream-feature-views teardown ui validate validation-references version'.split(
    ' ',
  ),
);

/** The `larder` executable. Resolves with the process exit code. */
export function run(argv: readonly string[], io: CliIo = {}): Promise<number> {
  return main([...argv], io);
}

/**
 * Parses the command line as Feast's click group would and runs the command: help on stdout with
 * exit 0, usage errors on stderr with exit 2, 1 when the server cannot start, 0 after a clean stop.
 */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const prog = io.prog ?? 'larder';
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  const groupUsage = `${prog} [OPTIONS] COMMAND [ARGS]...`;
  const groupHelp = () =>
    `Usage: ${groupUsage}\n\n${formatParagraph(`${prog}: Feast's offline feature server (feast serve_offline) over Arrow Flight.`)}\n` +
    `Options:\n${formatDefinitions(GLOBAL_OPTIONS.map(optionRow))}\nCommands:\n${formatDefinitions(COMMANDS)}`;

  let globals;
  try {
    globals = parseOptions(argv, GLOBAL_OPTIONS, false);
  } catch (error) {
    return usageError(error, groupUsage, prog);
  }
  if (globals.values.help) {
    out.write(groupHelp());
    return 0;
  }
  // click's no_args_is_help: the help, on stderr, as a usage error.
  if (argv.length === 0) {
    err.write(groupHelp());
    return 2;
  }
  const [command, ...commandArgs] = globals.positionals;
  if (command === undefined) return usageError(new UsageError('Missing command.'), groupUsage, prog);
  if (!['serve_offline', 'serve', 'example'].includes(command)) {
    const feastHint = FEAST_COMMANDS.has(command)
      ? ` larder serves only serve_offline (Feast's offline server); run '${command}' with Feast's own feast CLI.`
      : didYouMean(command, ['serve_offline', 'serve', 'example']);
    return usageError(new UsageError(`No such command ${pyRepr(command)}.${feastHint}`), groupUsage, prog);
  }
  // Feast reads --log-level in the group's callback, before the command parses its options.
  const levelName = typeof globals.values.logLevel === 'string' ? globals.values.logLevel : 'INFO';
  const level = LEVELS[levelName.toUpperCase()];
  if (!level) {
    const choices = 'DEBUG, INFO, WARNING, ERROR, CRITICAL (any case; also WARN, FATAL, NOTSET)';
    return usageError(new UsageError(`Invalid value for '--log-level': ${pyRepr(levelName)} is not one of ${choices}.`), groupUsage, prog);
  }

  const isExample = command === 'example';
  // `example [DIR]`: DIR is the first word when it is not an option.
  const dirArg = isExample && commandArgs[0] !== undefined && !commandArgs[0].startsWith('-') ? commandArgs[0] : undefined;
  const serveArgs = dirArg === undefined ? commandArgs : commandArgs.slice(1);
  const commandPath = `${prog} ${command}`;
  const commandUsage = `${commandPath} [OPTIONS]${isExample ? ' [DIR]' : ''}`;
  let serveOptions;
  try {
    serveOptions = parseServeOptions(serveArgs);
  } catch (error) {
    return usageError(error, commandUsage, commandPath);
  }
  if (serveOptions === 'help') {
    const description = isExample ? COMMANDS[0]![1] : SERVE_DESCRIPTION;
    out.write(
      `Usage: ${commandPath === `${prog} serve` ? `${prog} serve_offline` : commandPath} [OPTIONS]${isExample ? ' [DIR]' : ''}\n\n` +
        `${formatParagraph(description)}\nOptions:\n${formatDefinitions(SERVE_OPTIONS.map(optionRow))}`,
    );
    return 0;
  }

  const logger = createLogger(level, undefined, { pid: process.pid });
  let repo: { chdir?: string; featureStoreYaml?: string } = {
    chdir: globals.values.chdir as string | undefined,
    featureStoreYaml: globals.values.featureStoreYaml as string | undefined,
  };
  if (isExample) {
    // Imported here, not at the top: writing parquet loads parquet-wasm, whose WebAssembly module
    // takes ~100 ms to compile, a cost `serve_offline` should not pay.
    const { writeExampleRepo } = await import('./example/write-example-repo.ts');
    const dir = await writeExampleRepo(dirArg ?? 'larder-example');
    err.write(`larder: example feature repo written to ${dir}\n`);
    repo = { chdir: dir };
  }
  const { host, port, key, cert, metricsPort, odfvPython } = serveOptions;
  return runUntilSignal(
    () =>
      startServer({
        ...repo,
        host,
        port,
        tlsKeyPath: key,
        tlsCertPath: cert,
        metricsPort,
        odfvPython,
        odfvPythonFromPath: io.odfvPythonFromPath,
        logger,
      }),
    logger,
    err,
  );

  function usageError(error: unknown, usage: string, helpCommand: string): number {
    if (!(error instanceof UsageError)) throw error;
    err.write(formatUsageError(error, usage, helpCommand));
    return 2;
  }
}

interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly key?: string;
  readonly cert?: string;
  readonly metricsPort?: number;
  readonly odfvPython?: string;
}

/**
 * `serve_offline`'s options, checked in click's order: unknown options and missing values first,
 * then --help (eager: before any value is converted), then the values, extra words last.
 */
function parseServeOptions(args: readonly string[]): ServeOptions | 'help' {
  const { values, positionals } = parseOptions(args, SERVE_OPTIONS, true);
  if (values.help) return 'help';
  const text = (name: string) => values[name] as string | undefined;
  const spec = (name: string) => SERVE_OPTIONS.find((s) => s.name === name)!;
  const port = text('port') === undefined ? DEFAULT_PORT : parseInteger(text('port')!, optionLabel(spec('port')));
  const metricsPort = text('metricsPort') === undefined ? undefined : parseInteger(text('metricsPort')!, optionLabel(spec('metricsPort')));
  // Feast's check (an empty path counts as not given, as Feast's default is "").
  if (Boolean(text('key')) !== Boolean(text('cert'))) {
    throw new UsageError('Invalid value: Please pass --cert and --key args to start the offline server in TLS mode.');
  }
  if (positionals.length > 0) {
    const plural = positionals.length > 1 ? 'arguments' : 'argument';
    throw new UsageError(`Got unexpected extra ${plural} (${positionals.join(' ')})`);
  }
  // larder's own checks: Feast would fail later, binding the port.
  if (!isPort(port)) throw new UsageError(`Invalid value for '--port' / '-p': ${port} is not a port number (0 to 65535).`);
  if (metricsPort !== undefined && !isPort(metricsPort))
    throw new UsageError(`Invalid value for '--metrics-port': ${metricsPort} is not a port number (0 to 65535).`);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port)
    throw new UsageError(`Invalid value for '--metrics-port': ${metricsPort} must differ from --port.`);
  if (text('odfvPython') === '') throw new UsageError("Invalid value for '--odfv-python': give the path of a Python interpreter.");
  return {
    host: text('host') ?? DEFAULT_HOST,
    port,
    key: text('key') || undefined,
    cert: text('cert') || undefined,
    metricsPort,
    odfvPython: pythonFromFlag(text('odfvPython')),
  };
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
async function runUntilSignal(start: () => Promise<RunningServer>, logger: Logger, err: { write(text: string): unknown }): Promise<number> {
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
      err.write(`larder: ${message}\n`);
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
