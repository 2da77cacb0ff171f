/**
 * JSON Schema of the parts of feature_store.yaml that core itself reads. Like Feast's RepoConfig,
 * unknown top-level keys are allowed (online_store, batch_engine, … belong to other Feast
 * components); the `offline_store` and `auth` sections are validated by their plugins' schemas.
 */
export const repoConfigSchema = {
  type: 'object',
  required: ['project', 'registry'],
  properties: {
    project: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_]*$' },
    provider: { type: 'string' },
    registry: {
      anyOf: [
        { type: 'string' },
        {
          type: 'object',
          properties: {
            registry_type: { type: 'string', minLength: 1 },
            registry_store_type: { type: ['string', 'null'] },
            path: { type: 'string' },
            cache_ttl_seconds: { type: 'integer', minimum: 0 },
            cache_mode: { enum: ['sync', 'thread'] },
          },
        },
      ],
    },
    offline_store: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    auth: { type: 'object', required: ['type'], properties: { type: { type: 'string' } } },
    entity_key_serialization_version: { type: 'integer' },
    larder: {
      type: 'object',
      additionalProperties: false,
      properties: {
        data_roots: { type: 'array', items: { type: 'string' } },
        pending_ttl_seconds: { type: 'number', exclusiveMinimum: 0 },
        pending_max_bytes: { type: 'integer', minimum: 1 },
        pending_max_requests: { type: 'integer', minimum: 1 },
        max_concurrent_calls: { type: 'integer', minimum: 0 },
        max_queued_calls: { type: 'integer', minimum: 0 },
        queue_timeout_seconds: { type: 'number', minimum: 0 },
        call_timeout_seconds: { type: 'number', minimum: 0 },
        max_upload_bytes: { type: 'integer', minimum: 1 },
        max_command_bytes: { type: 'integer', minimum: 1 },
        max_concurrent_uploads: { type: 'integer', minimum: 0 },
        upload_idle_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
        upload_min_bytes_per_second: { type: 'integer', minimum: 0 },
        odfv_python: { type: 'string', minLength: 1 },
        odfv_timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
        write_lock_stale_seconds: { type: 'number', minimum: 2 },
      },
    },
  },
} as const;
