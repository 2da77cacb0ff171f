/**
 * Finding and reading feature_store.yaml the way Feast's CLI does:
 * - the repo directory is `--chdir`/`-c`, else env FEATURE_REPO_DIR_ENV_VAR, else the cwd;
 * - the file is `-f/--feature-store-yaml`, else env FEAST_FS_YAML_FILE_PATH, else
 *   `<repo>/feature_store.yaml`;
 * - env FEATURE_STORE_YAML_BASE64, when set, wins: its content is written to a fresh temporary
 *   directory, which becomes the repo directory (so relative paths resolve inside it, as in Feast).
 * The text goes through `$VAR`/`${VAR}` expansion before YAML parsing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.ts';
import { expandVars } from './expand.ts';
import { repoConfigSchema } from './schema.ts';
import { validateSection } from './validate.ts';

export interface LocateOptions {
  readonly chdir?: string;
  readonly featureStoreYaml?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** A section of feature_store.yaml selected by its `type:` key. */
export interface TypedSection {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface RepoConfig {
  /** Absolute path of the feature_store.yaml that was read. */
  readonly configPath: string;
  /** The feature repo directory: relative FileSource and registry paths resolve against it. */
  readonly repoPath: string;
  readonly project: string;
  /** The `registry` key as written (a path string or a mapping). */
  readonly registry: string | Readonly<Record<string, unknown>>;
  /** `offline_store`; Feast's default is the file (dask) store. */
  readonly offlineStore: TypedSection;
  /** `auth`; Feast's default is no_auth. */
  readonly auth: TypedSection;
  /** larder's own optional section. */
  readonly larder: Readonly<Record<string, unknown>>;
  /** The whole parsed file, after variable expansion. */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface LocatedConfig {
  readonly repoPath: string;
  readonly configPath: string;
}

export function locateConfig(options: LocateOptions = {}): LocatedConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const base64 = env.FEATURE_STORE_YAML_BASE64;
  if (base64) {
    const dir = mkdtempSync(path.join(tmpdir(), 'larder-repo-'));
    const configPath = path.join(dir, 'feature_store.yaml');
    writeFileSync(configPath, Buffer.from(base64, 'base64'));
    return { repoPath: dir, configPath };
  }
  const repoDir = options.chdir ?? env.FEATURE_REPO_DIR_ENV_VAR;
  const repoPath = repoDir ? path.resolve(cwd, repoDir) : cwd;
  const yamlFile = options.featureStoreYaml ?? env.FEAST_FS_YAML_FILE_PATH;
  const configPath = yamlFile ? path.resolve(cwd, yamlFile) : path.join(repoPath, 'feature_store.yaml');
  return { repoPath, configPath };
}

/** Reads, expands, parses and validates the core keys of feature_store.yaml. */
export async function loadRepoConfig(options: LocateOptions = {}): Promise<RepoConfig> {
  const env = options.env ?? process.env;
  const { repoPath, configPath } = locateConfig(options);
  const raw = parseYamlOrThrow(configPath, expandVars(await readConfigText(configPath), env));
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(configPath, '', 'must be a YAML mapping of keys to values');
  }
  if (!('registry' in raw)) {
    // Feast: FeastRegistryNotSetError.
    throw new ConfigError(configPath, 'registry', 'Registry is not set, but is required');
  }
  validateSection(repoConfigSchema, raw, configPath, '');
  const config = raw as Record<string, unknown>;
  return Object.freeze({
    configPath,
    repoPath,
    project: config.project as string,
    registry: config.registry as RepoConfig['registry'],
    offlineStore: (config.offline_store as TypedSection | undefined) ?? { type: 'dask' },
    auth: (config.auth as TypedSection | undefined) ?? { type: 'no_auth' },
    larder: (config.larder as Record<string, unknown> | undefined) ?? {},
    raw: config,
  });
}

/** The file's text; a missing file gets Feast's message, any other read failure its own. */
async function readConfigText(configPath: string): Promise<string> {
  try {
    return await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ConfigError(
        configPath,
        '',
        "Can't find feature repo configuration file here. Make sure you're running larder from an initialized feature repository (or pass -c/--chdir or -f/--feature-store-yaml).",
      );
    }
    throw new ConfigError(configPath, '', (error as Error).message);
  }
}

function parseYamlOrThrow(filepath: string, text: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const e = error as Error & { linePos?: Array<{ line: number; col: number }> };
    const where = e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '';
    throw new ConfigError(filepath, where, `is not valid YAML: ${e.message.split('\n')[0]}`);
  }
}
