/**
 * The ODFV worker a server runs, if any: `--odfv-python` (ServeOptions.odfvPython) or
 * `larder.odfv_python` in feature_store.yaml names the interpreter; neither means no worker, and
 * on-demand feature views are refused, unless the caller asks for PATH's Python (the `feast`
 * entry does, as Feast's server computes them in its own Python).
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.ts';
import type { RepoConfig } from '../config/load.ts';
import { OdfvWorker } from './odfv-worker.ts';

const DEFAULT_ODFV_TIMEOUT_SECONDS = 300;

/**
 * Throws when a named interpreter path does not exist, so a typo stops the server at start-up
 * rather than failing every ODFV call. (Whether it has `feast` shows when the worker starts.)
 */
export function odfvWorkerFor(config: RepoConfig, odfvPython: string | undefined, logger: Logger, fromPath = false): OdfvWorker | null {
  const fromYaml = config.larder.odfv_python as string | undefined;
  // A flag is read against the working directory (by the CLI); a yaml path against the repo, as
  // Feast reads the yaml's paths. A bare name ("python3") is looked up on PATH.
  const named = odfvPython ?? (fromYaml?.includes(path.sep) ? path.resolve(config.repoPath, fromYaml) : fromYaml);
  const python = named ?? (fromPath ? pythonOnPath() : undefined);
  if (!python) return null;
  if (!named) logger.info({ python }, "on-demand feature views will be computed by the Python on PATH, as by Feast's server");
  if (python.includes(path.sep) && !existsSync(python)) {
    const problem = `${python} does not exist; it must name a Python interpreter with feast installed`;
    if (odfvPython !== undefined) throw new ConfigError('--odfv-python', '', problem);
    throw new ConfigError(config.configPath, 'larder.odfv_python', problem);
  }
  const timeoutSeconds = (config.larder.odfv_timeout_seconds as number | undefined) ?? DEFAULT_ODFV_TIMEOUT_SECONDS;
  return new OdfvWorker({ python, repoPath: config.repoPath, logger, requestTimeoutMs: timeoutSeconds * 1000, onDemandOnly: !named });
}

/** `python3`, else `python`, in the first PATH directory that has it as an executable file. */
export function pythonOnPath(searchPath = process.env.PATH ?? ''): string | undefined {
  const dirs = searchPath.split(path.delimiter).filter((dir) => dir !== '');
  for (const name of ['python3', 'python']) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}
