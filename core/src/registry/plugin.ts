/**
 * The registry plugin contract. `registry.registry_type` in feature_store.yaml names a registry
 * plugin (as `offline_store.type` names a store plugin): `file` is built into core, `sql` and
 * `remote` are the built-in plugins `@larder/plugin-registry-sql` and
 * `@larder/plugin-registry-remote`, and anything else is resolved as an npm package or a path
 * (for example a registry kept in object storage).
 *
 * A plugin opens a RegistrySource: it must read the registry once before `create` resolves, so
 * that a registry that cannot be read stops the server at start with a clear error, and it must
 * keep serving its last good copy when the backing store fails later (`openCachedRegistry` does
 * both for sources that load whole snapshots).
 */
import type { Logger } from 'pino';
import type { RegistrySource } from './model.ts';

export interface RegistryEnvironment {
  /** The feature repo directory: relative paths in the registry config resolve against it. */
  readonly repoPath: string;
  /** The project of feature_store.yaml. */
  readonly project: string;
  readonly logger: Logger;
  /**
   * The bearer token this server presents to other Feast services (a registry server), found the
   * way Feast's own clients find theirs (see service-token.ts); null with `auth: no_auth`.
   */
  serviceToken(): Promise<string | null>;
}

/** The default export of a registry plugin module. */
export interface RegistryPlugin {
  readonly kind: 'registry';
  readonly name: string;
  /** JSON Schema of the `registry` mapping (a bare path string arrives as `{registry_type: file, path}`). */
  readonly configSchema: Readonly<Record<string, unknown>>;
  /** Opens the registry, reading it once; rejects when it cannot be read now. */
  create(config: Readonly<Record<string, unknown>>, env: RegistryEnvironment): Promise<RegistrySource>;
}

/** Thrown by `create` when the registry cannot be read at start: the server does not start. */
export class RegistryUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RegistryUnavailableError';
  }
}

/** Feast's `cache_ttl_seconds` and `cache_mode` (shared by every registry type). */
export interface RegistryCachePolicy {
  /** Seconds a loaded registry is served before the backing store is asked again; 0 = never expires. */
  readonly ttlSeconds: number;
  /** `sync`: the first call after expiry refreshes; `thread`: a timer refreshes every ttl. */
  readonly mode: 'sync' | 'thread';
}

/** Feast's defaults: 600 s, `sync`. */
export function cachePolicyOf(config: Readonly<Record<string, unknown>>): RegistryCachePolicy {
  const ttl = config.cache_ttl_seconds;
  return {
    ttlSeconds: typeof ttl === 'number' ? ttl : 600,
    mode: config.cache_mode === 'thread' ? 'thread' : 'sync',
  };
}

/** Schema properties every registry type accepts (RegistryConfig's common keys). */
export const commonRegistryProperties = {
  registry_type: { type: 'string' },
  path: { type: 'string' },
  cache_ttl_seconds: { type: 'integer', minimum: 0 },
  cache_mode: { enum: ['sync', 'thread'] },
  s3_additional_kwargs: {},
  purge_feast_metadata: { type: 'boolean' },
  enable_online_feature_view_versioning: { type: 'boolean' },
  mcp: {},
} as const;
