/**
 * The store-level S3 settings: the `s3:` section of a file (or duckdb) store's `offline_store`
 * config. Credentials are not among them: they come from the AWS SDK's default provider chain
 * (environment, shared config and credentials files, web identity tokens, container and instance
 * metadata), so larder never holds a secret in its own config.
 */

/** The `s3:` section as written in feature_store.yaml. */
export interface S3ConfigSection {
  readonly endpoint_url?: string;
  readonly region?: string;
  readonly force_path_style?: boolean;
  readonly verify_tls?: boolean;
  readonly read_concurrency?: number;
  readonly request_timeout_seconds?: number;
  readonly footer_cache_mb?: number;
}

/** The settings the S3 clients are built from, defaults applied. */
export interface S3Settings {
  /** The endpoint for sources without `s3_endpoint_override`; undefined: the SDK's own (AWS, or `AWS_ENDPOINT_URL_S3`). */
  readonly endpointUrl?: string;
  /** Signing region; undefined: the SDK's chain (`AWS_REGION`, the shared config file). */
  readonly region?: string;
  /**
   * Path-style addressing (`endpoint/bucket/key`), which MinIO and most S3-compatible servers
   * need; undefined: on whenever an endpoint is given (store-level or the source's override), off
   * for AWS's own endpoints (virtual-hosted `bucket.endpoint/key`).
   */
  readonly forcePathStyle?: boolean;
  /** Verify the endpoint's TLS certificate (default true; turn off only for a self-signed test endpoint). */
  readonly verifyTls: boolean;
  /** At most this many S3 requests of one store in flight at once (default 8). */
  readonly readConcurrency: number;
  /** A request (connection included) that takes longer fails as UNAVAILABLE (default 30 s). */
  readonly requestTimeoutMs: number;
  /** Bytes of parquet footers kept between calls, keyed by ETag (default 32 MiB; 0: none). */
  readonly footerCacheBytes: number;
}

/** JSON Schema of the `s3:` section, for a store plugin's configSchema. */
export const s3ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    endpoint_url: { type: 'string', pattern: '^https?://' },
    region: { type: 'string', minLength: 1 },
    force_path_style: { type: 'boolean' },
    verify_tls: { type: 'boolean' },
    read_concurrency: { type: 'integer', minimum: 1, maximum: 256 },
    request_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
    footer_cache_mb: { type: 'number', minimum: 0 },
  },
} as const;

/** The settings of a validated `s3:` section (or of none: every default). */
export function s3SettingsFromConfig(section: S3ConfigSection | undefined): S3Settings {
  return {
    endpointUrl: section?.endpoint_url,
    region: section?.region,
    forcePathStyle: section?.force_path_style,
    verifyTls: section?.verify_tls ?? true,
    readConcurrency: section?.read_concurrency ?? 8,
    requestTimeoutMs: (section?.request_timeout_seconds ?? 30) * 1000,
    footerCacheBytes: Math.floor((section?.footer_cache_mb ?? 32) * 1024 * 1024),
  };
}
