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
  trino: '@larder/plugin-trino',
  'feast.infra.offline_stores.contrib.trino_offline_store.trino.TrinoOfflineStore': '@larder/plugin-trino',
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

/** A type Feast knows and larder ships no plugin for: Feast's class, and advice beyond the usual. */
export interface FeastOnlyType {
  readonly feastClass: string;
  readonly advice?: string;
}

/** Feast 0.67's offline store types (repo_config.py OFFLINE_STORE_CLASS_FOR_TYPE) larder has no plugin for. */
const FEAST_ONLY_OFFLINE_STORES: Readonly<Record<string, FeastOnlyType>> = {
  bigquery: { feastClass: 'feast.infra.offline_stores.bigquery.BigQueryOfflineStore' },
  redshift: { feastClass: 'feast.infra.offline_stores.redshift.RedshiftOfflineStore' },
  'snowflake.offline': { feastClass: 'feast.infra.offline_stores.snowflake.SnowflakeOfflineStore' },
  spark: { feastClass: 'feast.infra.offline_stores.contrib.spark_offline_store.spark.SparkOfflineStore' },
  athena: { feastClass: 'feast.infra.offline_stores.contrib.athena_offline_store.athena.AthenaOfflineStore' },
  mssql: { feastClass: 'feast.infra.offline_stores.contrib.mssql_offline_store.mssql.MsSqlServerOfflineStore' },
  'couchbase.offline': { feastClass: 'feast.infra.offline_stores.contrib.couchbase_offline_store.couchbase.CouchbaseColumnarOfflineStore' },
  clickhouse: { feastClass: 'feast.infra.offline_stores.contrib.clickhouse_offline_store.clickhouse.ClickhouseOfflineStore' },
  ray: { feastClass: 'feast.infra.offline_stores.contrib.ray_offline_store.ray.RayOfflineStore' },
  oracle: { feastClass: 'feast.infra.offline_stores.contrib.oracle_offline_store.oracle.OracleOfflineStore' },
  chronon: { feastClass: 'feast.infra.offline_stores.contrib.chronon_offline_store.chronon.ChrononOfflineStore' },
  hybrid: { feastClass: 'feast.infra.offline_stores.hybrid_offline_store.HybridOfflineStore' },
  ibis: { feastClass: 'feast.infra.offline_stores.ibis (a base for other stores)' },
  remote: {
    feastClass: 'feast.infra.offline_stores.remote.RemoteOfflineStore',
    advice:
      "it is the client side of an offline server such as larder itself (the Feast SDK's setting for talking to larder), not a store larder can serve from",
  },
};

/** Feast auth types larder has no server-side plugin for. */
const FEAST_ONLY_AUTH: Readonly<Record<string, FeastOnlyType>> = {
  oidc_client: {
    feastClass: 'feast.permissions.auth_model.OidcClientAuthConfig',
    advice: 'it holds the client-side OIDC credentials; a server takes type: oidc with auth_discovery_url and client_id',
  },
};

/** Feast registry types larder has no plugin for. */
const FEAST_ONLY_REGISTRIES: Readonly<Record<string, FeastOnlyType>> = {
  'snowflake.registry': {
    feastClass: 'feast.infra.registry.snowflake.SnowflakeRegistry',
    advice: 'serve the registry through `feast serve_registry` and use registry_type: remote, or install a third-party registry plugin',
  },
};

/** Each table keyed by Feast's short name and by its class path too (both are valid `type:` values in Feast). */
function withClassPaths(table: Readonly<Record<string, FeastOnlyType>>): Readonly<Record<string, FeastOnlyType>> {
  return Object.fromEntries(
    Object.entries(table).flatMap(([type, info]) => [[type, info], ...(info.feastClass.includes(' ') ? [] : [[info.feastClass, info]])]),
  );
}

/** Per section: Feast types (short names and class paths) that larder ships no plugin for. */
export const FEAST_ONLY_TYPES: Readonly<Record<'offline_store' | 'auth' | 'registry', Readonly<Record<string, FeastOnlyType>>>> = {
  offline_store: withClassPaths(FEAST_ONLY_OFFLINE_STORES),
  auth: withClassPaths(FEAST_ONLY_AUTH),
  registry: withClassPaths(FEAST_ONLY_REGISTRIES),
};

/** `auth.type` values that mean "no authentication". */
export const NO_AUTH = 'no_auth';

/** The short `type:` names larder serves itself, per section, in the order users meet them. */
export const BUILTIN_TYPE_NAMES: Readonly<Record<'offline_store' | 'auth' | 'registry', readonly string[]>> = {
  offline_store: Object.keys(builtinOfflineStores).filter((t) => !t.includes('.')),
  auth: [NO_AUTH, ...Object.keys(builtinAuthProviders)],
  registry: [FILE_REGISTRY_TYPES[0], ...Object.keys(builtinRegistries).filter((t) => !t.includes('.'))],
};
