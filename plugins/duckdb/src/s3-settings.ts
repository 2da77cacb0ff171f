/**
 * The store-level S3 settings of the duckdb store: the `s3:` section of its `offline_store`
 * config, with the same keys as the file store's (plugins/parquet-files `s3:` section), so one
 * feature_store.yaml reads the same under either store. Credentials are not among them: they come
 * from the AWS credential chain (s3-credentials.ts), never from larder's own config.
 */

/** The `s3:` section as written in feature_store.yaml. */
export interface S3ConfigSection {
  /** The endpoint for sources without `s3_endpoint_override`, e.g. `http://minio:9000`; default `AWS_ENDPOINT_URL_S3`, else AWS's. */
  readonly endpoint_url?: string;
  /** Signing region; default `AWS_REGION` / `AWS_DEFAULT_REGION`, else us-east-1. */
  readonly region?: string;
  /** Path-style addressing (MinIO and most S3-compatible servers); default on whenever an endpoint is given. */
  readonly force_path_style?: boolean;
  /** Verify the endpoint's TLS certificate (default true). */
  readonly verify_tls?: boolean;
  /** Accepted for the file store's sake; DuckDB bounds its own requests by `threads`. */
  readonly read_concurrency?: number;
  /** A request that takes longer fails (DuckDB's http_timeout; default 30 s). */
  readonly request_timeout_seconds?: number;
}

/**
 * The settings DuckDB's S3 access is built from, defaults applied: the same shape as the file
 * store's S3Settings (plugins/parquet-files/src/s3/settings.ts), so that this module can give way
 * to that one.
 */
export interface S3Settings {
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly forcePathStyle?: boolean;
  readonly verifyTls: boolean;
  /** Unused here (DuckDB bounds its requests by its threads). */
  readonly readConcurrency: number;
  readonly requestTimeoutMs: number;
}

/** JSON Schema of the `s3:` section, for the plugin's configSchema. */
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
  };
}
