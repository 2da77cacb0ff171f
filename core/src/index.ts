/**
 * @larder/core — the public API for plugin authors and embedders.
 *
 * A store plugin implements `OfflineStorePlugin` (store.ts); an auth plugin implements `AuthPlugin`
 * (auth.ts); a registry plugin implements `RegistryPlugin` (registry/plugin.ts). Both receive registry objects shaped as in registry/model.ts and report failures
 * with the error classes of errors.ts, which reach the Feast client as the same Python exceptions.
 */
export * from './errors.ts';
export * from './store.ts';
export * from './auth.ts';
export * from './hooks.ts';
export * from './registry/model.ts';
export * from './registry/plugin.ts';
export { openCachedRegistry } from './registry/cached-registry.ts';
export type { RegistryLoader, CachedRegistryOptions } from './registry/cached-registry.ts';
export { decodeRegistryRows, REGISTRY_TABLES } from './registry/rows.ts';
export type { RegistryRow, RegistryTable } from './registry/rows.ts';
export { decodeRegistry } from './registry/decode.ts';
export type { DecodedRegistry } from './registry/decode.ts';
export * from './arrow/pyarrow-types.ts';
export * from './arrow/result-streams.ts';
export * from './retrieval.ts';
export * from './permissions/index.ts';
export { startServer, DEFAULT_HOST, DEFAULT_PORT } from './server.ts';
export type { ServeOptions, RunningServer } from './server.ts';
export { createLogger, loggerOptions } from './logging/create-logger.ts';
export type { LogLevel } from './logging/create-logger.ts';
export { LogDestination } from './logging/log-destination.ts';
export type { LogDestinationOptions } from './logging/log-destination.ts';
export { PluginResolutionError } from './plugins/errors.ts';
export { ConfigError } from './config/errors.ts';
