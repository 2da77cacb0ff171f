/**
 * Turning a `type:` string into a plugin module, through the tapable resolve hooks. Core taps
 * three resolvers, tried in order: the built-in aliases, an npm package name (resolved from the
 * feature repo first, then from larder's own install), and a path relative to the feature repo.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuthPlugin } from '../auth.ts';
import type { LarderHooks, ResolveContext } from '../hooks.ts';
import fileRegistryPlugin from '../registry/file-plugin.ts';
import type { RegistryPlugin } from '../registry/plugin.ts';
import type { OfflineStorePlugin } from '../store.ts';
import { FILE_REGISTRY_TYPES, UNSUPPORTED_REGISTRIES, builtinAuthProviders, builtinOfflineStores, builtinRegistries } from './builtin.ts';

type PluginKind = 'offline_store' | 'auth' | 'registry';
type PluginOf<K extends PluginKind> = K extends 'offline_store' ? OfflineStorePlugin : K extends 'auth' ? AuthPlugin : RegistryPlugin;

/** Where each kind's `type:` string is written in feature_store.yaml, for error messages. */
const SECTION_OF: Record<PluginKind, string> = {
  offline_store: 'offline_store.type',
  auth: 'auth.type',
  registry: 'registry.registry_type',
};

/** A `type:` that names no plugin, or a module that is not a valid plugin. */
export class PluginResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginResolutionError';
  }
}

export function tapDefaultResolvers(hooks: LarderHooks): void {
  hooks.resolveOfflineStore.tapPromise('builtin', (type) => loadBuiltin('offline_store', builtinOfflineStores, type));
  hooks.resolveOfflineStore.tapPromise('npm', (type, ctx) => loadFromPackage('offline_store', type, ctx));
  hooks.resolveOfflineStore.tapPromise('path', (type, ctx) => loadFromPath('offline_store', type, ctx));
  hooks.resolveAuth.tapPromise('builtin', (type) => loadBuiltin('auth', builtinAuthProviders, type));
  hooks.resolveAuth.tapPromise('npm', (type, ctx) => loadFromPackage('auth', type, ctx));
  hooks.resolveAuth.tapPromise('path', (type, ctx) => loadFromPath('auth', type, ctx));
  hooks.resolveRegistry.tapPromise('file', async (type) => (FILE_REGISTRY_TYPES.includes(type) ? fileRegistryPlugin : undefined));
  hooks.resolveRegistry.tapPromise('builtin', (type) => loadBuiltin('registry', builtinRegistries, type));
  hooks.resolveRegistry.tapPromise('unsupported', async (type) => {
    const advice = UNSUPPORTED_REGISTRIES[type];
    if (advice) throw new PluginResolutionError(`registry.registry_type "${type}": ${advice}`);
    return undefined;
  });
  hooks.resolveRegistry.tapPromise('npm', (type, ctx) => loadFromPackage('registry', type, ctx));
  hooks.resolveRegistry.tapPromise('path', (type, ctx) => loadFromPath('registry', type, ctx));
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
  if (!plugin) {
    throw new PluginResolutionError(
      `${SECTION_OF[kind]} "${type}" names no plugin: it is not a built-in alias, not an installed npm package, and not a path to a module in ${ctx.repoPath}`,
    );
  }
  return plugin;
}

async function loadBuiltin<K extends PluginKind>(kind: K, aliases: Readonly<Record<string, string>>, type: string) {
  const pkg = aliases[type];
  if (!pkg) return undefined;
  let mod: unknown;
  try {
    mod = await import(pkg);
  } catch (error) {
    if (isModuleNotFound(error, pkg)) {
      throw new PluginResolutionError(`"${type}" is a built-in larder plugin (${pkg}) that is not installed in this build`);
    }
    throw error;
  }
  return checkPlugin(kind, mod, pkg);
}

async function loadFromPackage<K extends PluginKind>(kind: K, type: string, ctx: ResolveContext) {
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(type)) return undefined;
  const resolved = resolveFrom(path.join(ctx.repoPath, 'noop.js'), type) ?? resolveFrom(import.meta.url, type);
  if (!resolved) return undefined;
  return checkPlugin(kind, await import(pathToFileURL(resolved).href), type);
}

async function loadFromPath<K extends PluginKind>(kind: K, type: string, ctx: ResolveContext) {
  if (!(type.startsWith('./') || type.startsWith('../') || path.isAbsolute(type))) return undefined;
  const file = path.resolve(ctx.repoPath, type);
  let mod: unknown;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new PluginResolutionError(`plugin module ${file} (from "${type}") does not exist`);
    }
    throw error;
  }
  return checkPlugin(kind, mod, file);
}

function resolveFrom(from: string, specifier: string): string | undefined {
  try {
    return createRequire(from).resolve(specifier);
  } catch {
    return undefined;
  }
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(specifier);
}

function checkPlugin<K extends PluginKind>(kind: K, mod: unknown, where: string): PluginOf<K> {
  const plugin = (mod as { default?: unknown })?.default ?? mod;
  const p = plugin as { kind?: unknown; create?: unknown; configSchema?: unknown } | null;
  if (!p || typeof p !== 'object' || p.kind !== kind || typeof p.create !== 'function' || typeof p.configSchema !== 'object') {
    throw new PluginResolutionError(
      `${where} is not a larder ${kind} plugin: its default export must be an object with kind: "${kind}", a configSchema and a create() function`,
    );
  }
  return plugin as PluginOf<K>;
}
