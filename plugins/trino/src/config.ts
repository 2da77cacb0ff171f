/**
 * The `offline_store` section of a trino repo: Feast 0.67's TrinoOfflineStoreConfig, with its
 * keys exactly as Feast reads them (`http-scheme`, `ssl-verify` and
 * `x-trino-extra-credential-header` are pydantic aliases there: Feast accepts only those
 * spellings), plus larder's `session_properties`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@larder/core';

/** `auth.type` values Feast accepts; larder connects with `basic` only so far (see checkAuth). */
export type TrinoAuthType = 'kerberos' | 'basic' | 'jwt' | 'oauth2' | 'certificate';

export interface TrinoAuthConfig {
  readonly type: TrinoAuthType;
  /** Per type: basic `{username, password}`, jwt `{token}`, certificate `{cert-file, key-file}`, …; null only for oauth2. */
  readonly config?: Readonly<Record<string, unknown>> | null;
}

export interface TrinoStoreConfig {
  readonly type: string;
  readonly host: string;
  readonly port: number;
  /** The catalog statements run in (Trino's `X-Trino-Catalog`); unqualified tables resolve in it. */
  readonly catalog: string;
  readonly user: string;
  /** Trino's `X-Trino-Source`, shown in its query list; Feast's default names its Python client. */
  readonly source?: string | null;
  readonly 'http-scheme'?: 'http' | 'https';
  readonly 'ssl-verify'?: boolean;
  /** `X-Trino-Extra-Credential`, as Feast passes it: `name1=value1, name2=value2`. */
  readonly 'x-trino-extra-credential-header'?: string | null;
  /** Feast: `{type: hive|memory|…, …}`; how the entity table is uploaded (a later slice reads it). */
  readonly connector: Readonly<Record<string, string>>;
  /** Feast: the schema of temporary tables (entity uploads), default `feast`. */
  readonly dataset?: string;
  readonly auth?: TrinoAuthConfig | null;
  /** larder only: Trino session properties set on every statement (`X-Trino-Session`). */
  readonly session_properties?: Readonly<Record<string, string | number | boolean>>;
  /** larder only: where entity tables are staged as parquet files (see EntityStagingConfig). */
  readonly entity_staging?: EntityStagingConfig | null;
}

/**
 * larder only: how an uploaded entity table reaches Trino without INSERTs. larder writes it as a
 * parquet file under `location` and creates an external table over it in `catalog`.`schema` (a
 * Hive-connector catalog that reads that place); both are dropped when the call ends. Without
 * this section, entity rows go in as batched VALUES (see entity-upload.ts).
 */
export interface EntityStagingConfig {
  /** A Hive-connector catalog that reads parquet files at `trino_location` (larder only creates, reads and drops external tables there). */
  readonly catalog: string;
  /** An existing schema of that catalog where the staged tables are created. */
  readonly schema: string;
  /** Where larder writes the files: a local directory or `file://` URL (`s3://` comes later). */
  readonly location: string;
  /**
   * How the catalog names that same place, when it differs (for example `local:///staging` for
   * a catalog with `local.location` = the directory's parent); default: `location`.
   */
  readonly trino_location?: string | null;
}

/** Feast's defaults, where Feast has one. */
export const DEFAULTS = {
  source: 'trino-python-client',
  httpScheme: 'http',
  sslVerify: true,
  dataset: 'feast',
} as const;

const SESSION_PROPERTY_NAME = '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$';

/** JSON Schema of the section: Feast's fields (unknown keys are an error there too) and larder's one. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'host', 'port', 'catalog', 'user', 'connector'],
  properties: {
    type: { type: 'string' },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    catalog: { type: 'string', minLength: 1 },
    user: { type: 'string', minLength: 1 },
    source: { type: ['string', 'null'], default: DEFAULTS.source },
    'http-scheme': { enum: ['http', 'https'], default: DEFAULTS.httpScheme },
    'ssl-verify': { type: 'boolean', default: DEFAULTS.sslVerify },
    'x-trino-extra-credential-header': { type: ['string', 'null'] },
    connector: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string', minLength: 1 } },
      additionalProperties: { type: 'string' },
    },
    dataset: { type: 'string', minLength: 1, default: DEFAULTS.dataset },
    auth: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { enum: ['kerberos', 'basic', 'jwt', 'oauth2', 'certificate'] },
        config: { type: ['object', 'null'] },
      },
    },
    session_properties: {
      type: 'object',
      propertyNames: { pattern: SESSION_PROPERTY_NAME },
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    entity_staging: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['catalog', 'schema', 'location'],
      properties: {
        catalog: { type: 'string', minLength: 1 },
        schema: { type: 'string', minLength: 1 },
        location: { type: 'string', minLength: 1 },
        trino_location: { type: ['string', 'null'], minLength: 1 },
      },
    },
  },
} as const;

/** How the store reaches Trino: everything a statement needs, resolved from the config. */
export interface TrinoConnection {
  /** `http(s)://host:port`. */
  readonly server: string;
  readonly catalog: string;
  readonly user: string;
  readonly source: string;
  readonly rejectUnauthorized: boolean;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly extraCredential: Readonly<Record<string, string>>;
  readonly session: Readonly<Record<string, string>>;
}

/**
 * The connection of a config, or a ConfigError naming the key that larder cannot honour yet.
 * Feast's other auth methods (kerberos, jwt, oauth2, certificate) are accepted by the schema, so a
 * Feast repo's file still parses, but refused here, at start-up, rather than failing every call.
 */
export function connectionOf(config: TrinoStoreConfig, repoPath: string): TrinoConnection {
  const file = path.join(repoPath, 'feature_store.yaml');
  const scheme = config['http-scheme'] ?? DEFAULTS.httpScheme;
  return {
    server: `${scheme}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
    catalog: config.catalog,
    user: config.user,
    source: config.source ?? DEFAULTS.source,
    rejectUnauthorized: config['ssl-verify'] ?? DEFAULTS.sslVerify,
    ...checkAuth(config.auth ?? null, file),
    extraCredential: parseExtraCredential(config['x-trino-extra-credential-header'] ?? null, file),
    session: Object.fromEntries(Object.entries(config.session_properties ?? {}).map(([k, v]) => [k, String(v)])),
  };
}

function checkAuth(auth: TrinoAuthConfig | null, file: string): { basicAuth?: TrinoConnection['basicAuth'] } {
  if (!auth) return {};
  if (auth.type !== 'basic') {
    throw new ConfigError(
      file,
      'offline_store.auth.type',
      `'${auth.type}' is a Trino authentication Feast supports that larder's trino store does not yet; use 'basic' (over https), or none`,
    );
  }
  const { username, password } = (auth.config ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new ConfigError(file, 'offline_store.auth.config', "basic authentication needs 'username' and 'password' strings");
  }
  const extra = Object.keys(auth.config ?? {}).filter((k) => k !== 'username' && k !== 'password');
  if (extra.length > 0) {
    throw new ConfigError(file, `offline_store.auth.config.${extra[0]}`, 'is not a field of basic authentication (username, password)');
  }
  return { basicAuth: { username, password } };
}

/** Where entity tables are staged, resolved: a local directory larder writes, and Trino's name for it. */
export interface EntityStaging {
  readonly catalog: string;
  readonly schema: string;
  /** The absolute local directory larder writes the files under. */
  readonly dir: string;
  /** The same place as the catalog names it (no trailing slash). */
  readonly trinoLocation: string;
}

/**
 * The staging of a config, or null when it has none (entity rows then go in as VALUES). A
 * relative `location` resolves against the repo; `s3://` is refused for now, naming the key.
 */
export function stagingOf(config: TrinoStoreConfig, repoPath: string): EntityStaging | null {
  const staging = config.entity_staging;
  if (!staging) return null;
  const file = path.join(repoPath, 'feature_store.yaml');
  const location = staging.location;
  let dir: string;
  if (location.startsWith('file://')) dir = fileURLToPath(location);
  else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) {
    throw new ConfigError(
      file,
      'offline_store.entity_staging.location',
      `${JSON.stringify(location)}: larder stages entity tables in a local directory or file:// URL so far (object storage such as s3:// comes later)`,
    );
  } else dir = path.resolve(repoPath, location);
  const trinoLocation = (staging.trino_location ?? (location.startsWith('file://') ? location : `file://${dir}`)).replace(/\/+$/, '');
  return { catalog: staging.catalog, schema: staging.schema, dir, trinoLocation };
}

/** Feast passes the header's text through; the client library wants its `name=value` pairs. */
function parseExtraCredential(header: string | null, file: string): Record<string, string> {
  if (!header) return {};
  const pairs: Record<string, string> = {};
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError(file, 'offline_store.x-trino-extra-credential-header', 'must be name=value pairs separated by commas');
    }
    pairs[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return pairs;
}
