/**
 * The `auth` section for `type: kubernetes`: Feast's one field (`user_token`) plus larder's own
 * options, with their defaults.
 */

export interface KubernetesAuthConfig {
  readonly type: string;
  /**
   * The token a Feast client sends. Verifying callers ignores it; larder presents it when it calls
   * another Feast service (a remote registry), before its own service account token.
   */
  readonly user_token?: string | null;
  /** Seconds a verified token's user is reused before the next TokenReview. 0 disables caching. */
  readonly cache_ttl_seconds: number;
  /** At most this many verified tokens are remembered; the oldest is dropped first. */
  readonly cache_max_entries: number;
  /** A kubeconfig file to reach the API server with; relative paths resolve against the feature repo. */
  readonly kubeconfig?: string;
  /** The namespace whose RoleBindings give service accounts their roles (Feast: the server's own namespace). */
  readonly namespace?: string;
  /**
   * How long one API request may take, from sending it to the last byte of the answer, before the
   * call fails as UNAVAILABLE; also the longest a token check waits for a free review slot.
   */
  readonly request_timeout_seconds: number;
  /** Sent as the TokenReview's spec.audiences, and one of them required in status.audiences. */
  readonly audiences?: readonly string[];
  /** Bearer tokens longer than this are refused without asking the API server. */
  readonly max_token_bytes: number;
  /** Token checks that may talk to the API server at once (cached tokens do not count). */
  readonly max_concurrent_reviews: number;
  /** Token checks that may wait for one of those slots; more are refused at once as UNAVAILABLE. */
  readonly max_pending_reviews: number;
}

/** The keys larder reads; Feast accepts and ignores any other key, so larder only warns about them. */
export const KNOWN_KEYS = [
  'type',
  'user_token',
  'cache_ttl_seconds',
  'cache_max_entries',
  'kubeconfig',
  'namespace',
  'request_timeout_seconds',
  'audiences',
  'max_token_bytes',
  'max_concurrent_reviews',
  'max_pending_reviews',
];

export const configSchema = {
  type: 'object',
  required: ['type'],
  // Feast's KubernetesAuthConfig allows extra keys; so does larder (index.ts logs them).
  additionalProperties: true,
  properties: {
    type: { type: 'string' },
    user_token: { type: ['string', 'null'] },
    cache_ttl_seconds: { type: 'number', minimum: 0, default: 60 },
    cache_max_entries: { type: 'integer', minimum: 1, default: 10_000 },
    kubeconfig: { type: 'string', minLength: 1 },
    namespace: { type: 'string', minLength: 1 },
    request_timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 5 },
    audiences: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    max_token_bytes: { type: 'integer', minimum: 256, default: 16_384 },
    max_concurrent_reviews: { type: 'integer', minimum: 1, default: 8 },
    max_pending_reviews: { type: 'integer', minimum: 0, default: 256 },
  },
} as const;
