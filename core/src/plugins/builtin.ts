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

/** `auth.type` values that mean "no authentication". */
export const NO_AUTH = 'no_auth';
