/**
 * The node_modules directories an npm `type:` is looked up in, in three tiers tried in order:
 *
 * 1. the feature repo's: `node_modules` of the repo directory and each of its parents, as Node
 *    walks them from a module in the repo (`npm install my-store` next to feature_store.yaml);
 * 2. larder's own install: walked up from this module's location (core, wherever it is installed)
 *    and from the real path of the running CLI entry (`process.argv[1]`, a symlink in `.bin`);
 * 3. the global install: `<prefix>/lib/node_modules` (`<prefix>/node_modules` on Windows) for the
 *    npm prefix (`npm_config_prefix`, set by npm and npx, else the prefix of the running node), and
 *    the NODE_PATH entries.
 *
 * A directory already listed by an earlier tier is left out of later ones.
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolveContext } from '../hooks.ts';
import { isDirectory } from './package-entry.ts';

/** One place plugins are installed, named for error messages. */
export interface SearchTier {
  /** What the tier is, as users know it: "the feature repo's node_modules", "larder's own install", … */
  readonly label: string;
  /** Candidate node_modules directories, in lookup order; they need not exist. */
  readonly dirs: readonly string[];
}

/** Every node_modules directory Node would search from a module in `dir`. */
export function nodeModulesChain(dir: string): string[] {
  const dirs: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (path.basename(current) !== 'node_modules') dirs.push(path.join(current, 'node_modules'));
    if (path.dirname(current) === current) return dirs;
  }
}

/** The node_modules directories of larder's own install (core's location and the CLI entry's). */
export function larderOwnDirs(argv1: string | undefined = process.argv[1]): string[] {
  const starts = [path.dirname(fileURLToPath(import.meta.url))];
  if (argv1) starts.push(path.dirname(realpathOr(path.resolve(argv1))));
  return unique(starts.flatMap(nodeModulesChain));
}

/** The global install's module directories for an environment. */
export function globalDirs(env: NodeJS.ProcessEnv): string[] {
  const prefixes = [env.npm_config_prefix, env.npm_config_global_prefix, path.dirname(path.dirname(process.execPath))];
  const modules = prefixes
    .filter((p): p is string => !!p)
    .map((p) => (process.platform === 'win32' ? path.join(p, 'node_modules') : path.join(p, 'lib', 'node_modules')));
  const nodePath = (env.NODE_PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((p) => path.resolve(p));
  return unique([...modules, ...nodePath]);
}

/**
 * The three tiers for a resolution, without duplicates across them. A globally installed larder's
 * walk up reaches the global directory itself (`<prefix>/lib/node_modules`): that directory is
 * left to the global tier, so messages name it as what it is.
 */
export function pluginSearchTiers(ctx: ResolveContext): SearchTier[] {
  const global = globalDirs(ctx.env ?? process.env);
  const seen = new Set<string>();
  const tier = (label: string, dirs: string[]): SearchTier => ({ label, dirs: dirs.filter((d) => !seen.has(d) && seen.add(d)) });
  return [
    tier("the feature repo's node_modules", nodeModulesChain(ctx.repoPath)),
    tier(
      "larder's own install",
      larderOwnDirs().filter((d) => !global.includes(d)),
    ),
    tier('the global install', global),
  ];
}

/** A tier for a message: the directories of it that exist, or where the search started. */
export function describeTier(tier: SearchTier): string {
  const existing = tier.dirs.filter(isDirectory);
  return `${tier.label} (${existing.length > 0 ? existing.join(', ') : 'no node_modules directory there'})`;
}

function realpathOr(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

function unique(items: string[]): string[] {
  return [...new Set(items)];
}
