/**
 * The `auth:` section for `type: oidc`: Feast's server fields with Feast's defaults; Feast's
 * client fields, which say how this server gets its own token when it calls another Feast
 * service (service-token.ts), checked the way Feast checks them; and larder's own options nested
 * under `larder:` so they never collide with a future Feast field.
 */

/** Asymmetric JWS algorithms larder can verify. Symmetric (HS*) and `none` are never allowed. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type Algorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Feast verifies RS256 only; ES256 and PS256 cover the other common IdP defaults. */
export const DEFAULT_ALGORITHMS: readonly Algorithm[] = ['RS256', 'ES256', 'PS256'];

const optionalString = { type: ['string', 'null'] };

export const configSchema = {
  type: 'object',
  required: ['type', 'auth_discovery_url'],
  additionalProperties: false,
  properties: {
    type: { type: 'string' },
    // Feast's OidcAuthConfig (server side).
    auth_discovery_url: { type: 'string', minLength: 1 },
    client_id: optionalString,
    ui_client_id: optionalString,
    verify_ssl: { type: 'boolean', default: true },
    ca_cert_path: { type: 'string', default: '' },
    audience: optionalString,
    issuer: optionalString,
    jwks_cache_lifespan_seconds: { type: 'integer', exclusiveMinimum: 0, default: 300 },
    jwks_request_timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 10 },
    // Feast's OidcClientAuthConfig additions: how this server gets the token it presents when it
    // calls another Feast service (a remote registry). Verifying callers' tokens ignores them.
    username: optionalString,
    password: optionalString,
    client_secret: optionalString,
    token: optionalString,
    token_env_var: optionalString,
    token_refresh_margin_seconds: { type: 'number', exclusiveMinimum: 0 },
    larder: {
      type: 'object',
      additionalProperties: false,
      properties: {
        algorithms: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: [...ASYMMETRIC_ALGORITHMS] },
        },
        clock_tolerance_seconds: { type: 'number', minimum: 0 },
        require_exp: { type: 'boolean' },
        audience_from_client_id: { type: 'boolean' },
        issuer_from_discovery: { type: 'boolean' },
      },
    },
  },
} as const;

/** The section as written in feature_store.yaml (after schema validation). */
export interface OidcAuthConfig {
  readonly type: string;
  readonly auth_discovery_url: string;
  readonly client_id?: string | null;
  readonly verify_ssl?: boolean;
  readonly ca_cert_path?: string;
  readonly audience?: string | null;
  readonly issuer?: string | null;
  readonly jwks_cache_lifespan_seconds?: number;
  readonly jwks_request_timeout_seconds?: number;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly client_secret?: string | null;
  readonly token?: string | null;
  readonly token_env_var?: string | null;
  readonly token_refresh_margin_seconds?: number;
  readonly larder?: {
    readonly algorithms?: readonly Algorithm[];
    readonly clock_tolerance_seconds?: number;
    readonly require_exp?: boolean;
    readonly audience_from_client_id?: boolean;
    readonly issuer_from_discovery?: boolean;
  };
}

/** Everything the provider needs, defaults applied; empty strings treated as unset, as Feast does. */
export interface OidcSettings {
  readonly discoveryUrl: URL;
  readonly clientId: string | undefined;
  readonly verifySsl: boolean;
  readonly caCertPath: string | undefined;
  readonly audience: string | undefined;
  readonly issuer: string | undefined;
  readonly jwksLifespanMs: number;
  readonly requestTimeoutMs: number;
  readonly algorithms: readonly Algorithm[];
  readonly clockToleranceSeconds: number;
  readonly requireExp: boolean;
  readonly audienceFromClientId: boolean;
  readonly issuerFromDiscovery: boolean;
  /** How this server gets its own token (service-token.ts). */
  readonly client: OidcClientSettings;
}

/**
 * Feast's OidcClientAuthConfig fields, empty strings as unset. At most one source is configured
 * (see checkClientSources); the client id and the discovery URL are the server's own.
 */
export interface OidcClientSettings {
  /** A fixed token. */
  readonly token: string | undefined;
  /** The name of an environment variable holding the token, read on every call. */
  readonly tokenEnvVar: string | undefined;
  /** Set: tokens are requested from the IdP's token endpoint with the client_id and this secret. */
  readonly clientSecret: string | undefined;
  /** Both set (with clientSecret): the password grant instead of client_credentials. */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** A token from the IdP is reused until this many seconds before it expires (Feast: 30). */
  readonly refreshMarginSeconds: number;
}

export function settingsFrom(config: OidcAuthConfig): OidcSettings {
  let discoveryUrl: URL;
  try {
    discoveryUrl = new URL(config.auth_discovery_url);
  } catch {
    throw new Error(`auth.auth_discovery_url is not a URL: ${config.auth_discovery_url}`);
  }
  if (discoveryUrl.protocol !== 'https:' && discoveryUrl.protocol !== 'http:') {
    throw new Error(`auth.auth_discovery_url must be an http(s) URL, not ${discoveryUrl.protocol}`);
  }
  const larder = config.larder ?? {};
  return {
    discoveryUrl,
    clientId: config.client_id || undefined,
    verifySsl: config.verify_ssl ?? true,
    caCertPath: config.ca_cert_path || undefined,
    audience: config.audience || undefined,
    issuer: config.issuer || undefined,
    jwksLifespanMs: (config.jwks_cache_lifespan_seconds ?? 300) * 1000,
    requestTimeoutMs: (config.jwks_request_timeout_seconds ?? 10) * 1000,
    algorithms: larder.algorithms ?? DEFAULT_ALGORITHMS,
    clockToleranceSeconds: larder.clock_tolerance_seconds ?? 10,
    requireExp: larder.require_exp ?? true,
    audienceFromClientId: larder.audience_from_client_id ?? true,
    issuerFromDiscovery: larder.issuer_from_discovery ?? true,
    client: clientSettingsFrom(config),
  };
}

/**
 * Feast reads an `oidc` section as its client config (and validates it) when any of these keys is
 * present, even with a null value; without them it is a server-only config.
 */
const CLIENT_KEYS = ['client_secret', 'token', 'token_env_var', 'username', 'password'] as const;

function clientSettingsFrom(config: OidcAuthConfig): OidcClientSettings {
  if (CLIENT_KEYS.some((key) => key in config)) checkClientSources(config);
  return {
    token: config.token || undefined,
    tokenEnvVar: config.token_env_var || undefined,
    clientSecret: config.client_secret || undefined,
    username: config.username || undefined,
    password: config.password || undefined,
    refreshMarginSeconds: config.token_refresh_margin_seconds ?? 30,
  };
}

/**
 * Feast's rule for its client config (auth_model.py): `token`, `token_env_var` and the client
 * credentials are alternatives, and the client credentials are all-or-nothing: client_secret,
 * auth_discovery_url and client_id, plus username and password when either is given. Because a
 * server always has auth_discovery_url, `token` and `token_env_var` can never pass this rule in a
 * server's section — in Feast as here; FEAST_OIDC_TOKEN is the way to hand a server a fixed token.
 */
export function checkClientSources(config: OidcAuthConfig): void {
  const credentials: unknown[] = [config.client_secret, config.auth_discovery_url, config.client_id];
  if (config.username || config.password) credentials.push(config.username, config.password);
  const groups: Record<string, readonly unknown[]> = {
    token: [config.token],
    token_env_var: [config.token_env_var],
    client_credentials: credentials,
  };
  // Feast's truthiness: null, undefined and '' are all unset.
  const partial = Object.keys(groups).filter((name) => groups[name].some(Boolean) && !groups[name].every(Boolean));
  if (partial.length > 0) {
    throw new Error(
      `auth: Incomplete configuration for '${partial[0]}': configure all of these fields together, or none at all. ` +
        'Check the documentation for valid credential combinations.',
    );
  }
  const active = Object.keys(groups).filter((name) => groups[name].every(Boolean));
  if (active.length > 1) {
    throw new Error(`auth: Only one of [${Object.keys(groups).join(', ')}] may be set, but got: ${active.join(', ')}`);
  }
}
