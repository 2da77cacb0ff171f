/**
 * The duckdb store's `s3:` section is the file store's (plugins/parquet-files/src/s3/settings.ts):
 * the same keys and defaults, so one feature_store.yaml reads the same under either store. DuckDB
 * uses the endpoint, region, path-style addressing, TLS verification and request timeout; it
 * bounds its requests by `threads`, and keeps no footer cache of larder's, so `read_concurrency`
 * and `footer_cache_mb` are accepted and unused. Credentials are never in the config: they come
 * from the AWS credential chain (s3-credentials.ts).
 */
export { s3ConfigSchema, s3SettingsFromConfig, type S3ConfigSection, type S3Settings } from '@larder/plugin-parquet-files/shared';
