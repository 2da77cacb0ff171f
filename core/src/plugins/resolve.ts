/**
 * Turning a `type:` string into a plugin module, through the tapable resolve hooks. Core taps the
 * resolvers below, tried in order; the first to return a plugin wins, and one that throws stops
 * the search with its error:
 *
 * 1. `builtin`: larder's aliases (`duckdb`, `oidc`, Feast's class paths of the same stores, …);
 * 2. `feast-only`: a type Feast knows and larder ships no plugin for (`bigquery`) is refused with
 *    advice before any unrelated npm package of the same name can be picked up;
 * 3. `npm`: a package name, looked up in the feature repo's node_modules, then larder's own
 *    install, then the global install (search-paths.ts), ESM and CommonJS alike;
 * 4. `path`: `./x.js`, `../x.mjs`, `/abs/x.cjs` or a package directory, relative to the feature repo.
 *
 * When nothing answers, resolvePlugin says where it looked and what the nearest known type is.
 * Missing modules ("no such module") are decided by looking for files, never by an import's error
 * code: an import error always means the module exists and failed to load (load-module.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthPlugin } from '../auth.ts';
import type { LarderHooks, ResolveContext } from '../hooks.ts';
import fileRegistryPlugin from '../registry/file-plugin.ts';
import type { RegistryPlugin } from '../registry/plugin.ts';
import type { OfflineStorePlugin } from '../store.ts';
import {
  BUILTIN_TYPE_NAMES,
  FEAST_ONLY_TYPES,
  FILE_REGISTRY_TYPES,
  builtinAuthProviders,
  builtinOfflineStores,
  builtinRegistries,
} from './builtin.ts';
import { pluginConditionSets } from './conditions.ts';
import { PluginResolutionError } from './errors.ts';
import { importPluginModule, pluginExport } from './load-module.ts';
import { shareHostPackages } from './shared-packages.ts';
import { isDirectory, isFile, packageEntry, readManifest } from './package-entry.ts';
import { locatePackage, parsePackageSpecifier } from './package-locator.ts';
import { describeTier, larderOwnDirs, pluginSearchTiers } from './search-paths.ts';
import { nearest } from './suggest.ts';

export { PluginResolutionError } from './errors.ts';

/** The three sections whose `type:` names a plugin. */
export type PluginKind = 'offline_store' | 'auth' | 'registry';
type PluginOf<K extends PluginKind> = K extends 'offline_store' ? OfflineStorePlugin : K extends 'auth' ? AuthPlugin : RegistryPlugin;

/** Where each kind's `type:` string is written in feature_store.yaml, for error messages. */
const SECTION_OF: Record<PluginKind, string> = {
  offline_store: 'offline_store.type',
  auth: 'auth.type',
  registry: 'registry.registry_type',
};

const NOUN_OF: Record<PluginKind, string> = { offline_store: 'store', auth: 'auth provider', registry: 'registry' };

const ALIASES_OF: Record<PluginKind, Readonly<Record<string, string>>> = {
  offline_store: builtinOfflineStores,
  auth: builtinAuthProviders,
  registry: builtinRegistries,
};

/** Taps core's resolvers on the three resolve hooks, after any a caller tapped before. */
export function tapDefaultResolvers(hooks: LarderHooks): void {
  hooks.resolveRegistry.tapPromise('file', async (type) => (FILE_REGISTRY_TYPES.includes(type) ? fileRegistryPlugin : undefined));
  const tapAll = <K extends PluginKind>(
    kind: K,
    hook: { tapPromise(name: string, fn: (type: string, ctx: ResolveContext) => Promise<PluginOf<K> | undefined>): void },
  ) => {
    hook.tapPromise('builtin', (type) => loadBuiltin(kind, type));
    hook.tapPromise('feast-only', async (type) => refuseFeastOnly(kind, type));
    hook.tapPromise('npm', (type, ctx) => loadFromPackage(kind, type, ctx));
    hook.tapPromise('path', (type, ctx) => loadFromPath(kind, type, ctx));
  };
  tapAll('offline_store', hooks.resolveOfflineStore);
  tapAll('auth', hooks.resolveAuth);
  tapAll('registry', hooks.resolveRegistry);
}

/** Resolves `type` through the hook, or throws a PluginResolutionError naming what was tried. */
export async function resolvePlugin<K extends PluginKind>(
  hooks: LarderHooks,
  kind: K,
  type: string,
  ctx: ResolveContext,
): Promise<PluginOf<K>> {
  const hook = { offline_store: hooks.resolveOfflineStore, auth: hooks.resolveAuth, registry: hooks.resolveRegistry }[kind];
  const plugin = (await hook.promise(type, ctx)) as PluginOf<K> | undefined;
  if (!plugin) throw new PluginResolutionError(namesNothing(kind, type, ctx));
  return plugin;
}

/** The message for a `type:` no resolver answered: nearest known type, built-in types, where npm names were looked up. */
function namesNothing(kind: PluginKind, type: string, ctx: ResolveContext): string {
  const known = [...BUILTIN_TYPE_NAMES[kind], ...Object.keys(ALIASES_OF[kind]), ...Object.keys(FEAST_ONLY_TYPES[kind])];
  const guess = nearest(type, [...new Set(known)]);
  const lines = [`${SECTION_OF[kind]} "${type}" names no plugin${guess ? ` (did you mean "${guess}"?)` : ''}.`];
  const classPaths = Object.keys(ALIASES_OF[kind]).some((alias) => alias.includes('.')) ? ", and Feast's class paths for them" : '';
  lines.push(`It is not a built-in type (built-in ${kind} types: ${BUILTIN_TYPE_NAMES[kind].join(', ')}${classPaths}).`);
  if (parsePackageSpecifier(type)) {
    lines.push(`No npm package of that name is installed in ${pluginSearchTiers(ctx).map(describeTier).join('; nor in ')}.`);
  }
  lines.push(
    `A third-party plugin is named by its npm package (installed in the feature repo, e.g. \`npm install my-larder-store\` next to feature_store.yaml) or by a path starting with ./ or / relative to ${ctx.repoPath}.`,
  );
  return lines.join('\n  ');
}

function refuseFeastOnly(kind: PluginKind, type: string): undefined {
  const known = FEAST_ONLY_TYPES[kind][type];
  if (!known) return undefined;
  throw new PluginResolutionError(
    `${SECTION_OF[kind]} "${type}" is a Feast ${NOUN_OF[kind]} larder has no plugin for (Feast's ${known.feastClass})${known.advice ? `: ${known.advice}` : ''}. ` +
      `larder's built-in ${kind} types are ${BUILTIN_TYPE_NAMES[kind].join(', ')}; for another, install a larder plugin package for it and set ${SECTION_OF[kind]} to its npm package name (or to ./path/to/plugin.js).`,
  );
}

async function loadBuiltin<K extends PluginKind>(kind: K, type: string): Promise<PluginOf<K> | undefined> {
  const pkg = ALIASES_OF[kind][type];
  if (!pkg) return undefined;
  const url = builtinLocation(pkg);
  if (!url)
    throw new PluginResolutionError(
      `"${type}" is a built-in larder plugin (${pkg}) that is not installed in this build; reinstall larder, or install ${pkg} beside it`,
    );
  return checkPlugin(kind, await importPluginModule(url, `built-in plugin ${pkg}`), pkg);
}

/**
 * Where a built-in plugin package is: Node's own resolution from core (right in development and in
 * a flat install), else larder's own install as the CLI sees it (a CLI whose dependencies were not
 * hoisted next to core).
 */
function builtinLocation(pkg: string): string | undefined {
  try {
    return fileURLToPath(import.meta.resolve(pkg));
  } catch {
    const spec = parsePackageSpecifier(pkg);
    return spec && locatePackage(spec, [{ label: "larder's own install", dirs: larderOwnDirs() }], pluginConditionSets())?.file;
  }
}

async function loadFromPackage<K extends PluginKind>(kind: K, type: string, ctx: ResolveContext): Promise<PluginOf<K> | undefined> {
  const spec = parsePackageSpecifier(type);
  if (!spec) return undefined;
  const found = locatePackage(spec, pluginSearchTiers(ctx), pluginConditionSets());
  if (!found) return undefined;
  shareHostPackages();
  return checkPlugin(kind, await importPluginModule(found.file, `plugin package ${type} (${found.file}, from ${found.tier.label})`), type);
}

async function loadFromPath<K extends PluginKind>(kind: K, type: string, ctx: ResolveContext): Promise<PluginOf<K> | undefined> {
  if (!(type.startsWith('./') || type.startsWith('../') || path.isAbsolute(type))) return undefined;
  const target = path.resolve(ctx.repoPath, type);
  let file = target;
  if (isDirectory(target)) {
    const entry = packageEntry(target, readManifest(target), '.', pluginConditionSets());
    if (!entry)
      throw new PluginResolutionError(
        `no such module: ${target} (from "${type}") is a directory whose package.json names no entry file (exports or main), and it has no index.js`,
      );
    file = entry;
  } else if (!isFile(target)) {
    throw new PluginResolutionError(
      `no such module: ${target} (from "${type}") does not exist; paths in ${SECTION_OF[kind]} are relative to the feature repo ${ctx.repoPath}`,
    );
  }
  shareHostPackages();
  return checkPlugin(kind, await importPluginModule(file, `plugin module ${file} (from "${type}")`), file);
}

function checkPlugin<K extends PluginKind>(kind: K, mod: unknown, where: string): PluginOf<K> {
  const plugin = pluginExport(mod);
  const p = plugin as { kind?: unknown; create?: unknown; configSchema?: unknown } | null;
  if (!p || typeof p !== 'object' || p.kind !== kind || typeof p.create !== 'function' || typeof p.configSchema !== 'object') {
    throw new PluginResolutionError(
      `${where} is not a larder ${kind} plugin: its default export (module.exports for CommonJS) must be an object with kind: "${kind}", a configSchema and a create() function`,
    );
  }
  return plugin as PluginOf<K>;
}
