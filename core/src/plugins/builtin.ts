/**
 * Built-in `type:` aliases: Feast's short names and Python class paths for the stores and auth
 * providers larder ships, mapped to the workspace package that implements them.
 */
export const builtinOfflineStores: Readonly<Record<string, string>> = {
  file: '@larder/plugin-parquet-files',
  dask: '@larder/plugin-parquet-files',
  'feast.infra.offline_stores.dask.DaskOfflineStore': '@larder/plugin-parquet-files',
  'feast.infra.offline_stores.file.FileOfflineStore': '@larder/plugin-parquet-files',
  duckdb: '@larder/plugin-duckdb',
  'feast.infra.offline_stores.duckdb.DuckDBOfflineStore': '@larder/plugin-duckdb',
  postgres: '@larder/plugin-postgres',
  'feast.infra.offline_stores.contrib.postgres_offline_store.postgres.PostgreSQLOfflineStore': '@larder/plugin-postgres',
};

export const builtinAuthProviders: Readonly<Record<string, string>> = {
  oidc: '@larder/plugin-auth-oidc',
  kubernetes: '@larder/plugin-auth-k8s',
};

/**
 * `registry.registry_type` values (Feast's names and class paths). `file` is core's own
 * (registry/file-plugin.ts), so it never depends on a workspace package being installed.
 */
export const builtinRegistries: Readonly<Record<string, string>> = {
  sql: '@larder/plugin-registry-sql',
  'feast.infra.registry.sql.SqlRegistry': '@larder/plugin-registry-sql',
  remote: '@larder/plugin-registry-remote',
  'feast.infra.registry.remote.RemoteRegistry': '@larder/plugin-registry-remote',
};

/** `registry_type` values served by core's own file registry plugin. */
export const FILE_REGISTRY_TYPES: readonly string[] = ['file', 'feast.infra.registry.registry.Registry'];

/** Feast registry types larder has no plugin for, with what to do instead. */
export const UNSUPPORTED_REGISTRIES: Readonly<Record<string, string>> = {
  'snowflake.registry':
    'larder has no Snowflake registry plugin; serve the registry through `feast serve_registry` and use registry_type: remote, or install a third-party registry plugin',
};

/** `auth.type` values that mean "no authentication". */
export const NO_AUTH = 'no_auth';
