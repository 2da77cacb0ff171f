/**
 * The `registry:` section for `registry_type: remote`: Feast's RemoteRegistryConfig, read the way
 * Feast's RemoteRegistry reads it, so one feature_store.yaml serves the Feast client and larder.
 *
 * - `path` is the registry server's gRPC target (`host:port`, or any gRPC target URI).
 * - TLS is on when `cert` is set or `is_tls: true`. The CA bundle is `cert`, else the file named by
 *   SSL_CERT_FILE, else REQUESTS_CA_BUNDLE; with none of them Feast refuses to start, and so does
 *   larder, with Feast's message. Feast never falls back to the system trust store here.
 * - `client_cert` and `client_key` (mutual TLS) come together or not at all.
 * - `authority` replaces the `:authority` header and the name the server's certificate must carry
 *   (Python grpc's `grpc.default_authority` does both; grpc-js needs the TLS name set separately).
 *
 * larder's own option sits under `larder:` so it never collides with a future Feast field; Feast's
 * RegistryConfig accepts unknown keys, so the Feast client still reads the same file.
 */
import { isAbsolute, resolve } from 'node:path';
import { commonRegistryProperties } from '@larder/core';

/** How long one Proto call may take unless `larder.timeout_seconds` says otherwise. */
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** Feast's EnvironmentError text (remote.py), kept word for word. */
export const NO_CA_MESSAGE =
  'SSL_CERT_FILE or REQUESTS_CA_BUNDLE environment variable must be set to use secure TLS or set the cert parameter in feature_Store.yaml file under remote registry configuration.';

/** Feast's ValueError text for half an mTLS pair (remote.py), kept word for word. */
export const MTLS_PAIR_MESSAGE =
  'Both client_cert and client_key must be provided for mTLS. Only one was set in the remote registry configuration.';

export const configSchema = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: {
    ...commonRegistryProperties,
    // RegistryConfig has it too; it means nothing for a remote registry.
    registry_store_type: { type: ['string', 'null'] },
    path: { type: 'string', minLength: 1 },
    cert: { type: 'string' },
    is_tls: { type: 'boolean' },
    client_cert: { type: 'string' },
    client_key: { type: 'string' },
    authority: { type: 'string' },
    larder: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeout_seconds: { type: 'number', exclusiveMinimum: 0 },
      },
    },
  },
} as const;

/** The section as written in feature_store.yaml (after schema validation). */
export interface RemoteRegistryConfig {
  readonly path: string;
  readonly cert?: string;
  readonly is_tls?: boolean;
  readonly client_cert?: string;
  readonly client_key?: string;
  readonly authority?: string;
  readonly larder?: { readonly timeout_seconds?: number };
}

export interface TlsFiles {
  /** The CA bundle the server's certificate must chain to. */
  readonly caPath: string;
  /** Where the CA path came from, for error messages. */
  readonly caFrom: 'cert' | 'SSL_CERT_FILE' | 'REQUESTS_CA_BUNDLE';
  /** The client certificate and key for mutual TLS, or null. */
  readonly client: { readonly certPath: string; readonly keyPath: string } | null;
}

export interface RemoteRegistrySettings {
  /** The gRPC target, exactly as `path` says. */
  readonly target: string;
  /** null: a plaintext channel. */
  readonly tls: TlsFiles | null;
  /** The `:authority` (and, with TLS, the certificate name) to use instead of the target's; or null. */
  readonly authority: string | null;
  readonly timeoutMs: number;
  /** Things in the config that work but are probably not what was meant; logged at start. */
  readonly warnings: readonly string[];
}

/**
 * Settings from a validated section. Relative file paths resolve against the feature repo; the
 * environment (SSL_CERT_FILE, REQUESTS_CA_BUNDLE) is read now, once. Empty strings mean unset, as
 * in Feast. Throws Feast's messages for a TLS config Feast would refuse.
 */
export function remoteSettingsFrom(
  config: RemoteRegistryConfig,
  repoPath: string,
  env: NodeJS.ProcessEnv = process.env,
): RemoteRegistrySettings {
  const target = config.path.trim();
  if (target === '') throw new Error("registry.path must be the registry server's gRPC address (host:port)");
  const warnings: string[] = [];
  const clientCert = config.client_cert || '';
  const clientKey = config.client_key || '';
  let tls: TlsFiles | null = null;
  if (config.cert || config.is_tls) {
    const [caPath, caFrom] = caBundle(config, env);
    if (Boolean(clientCert) !== Boolean(clientKey)) throw new Error(MTLS_PAIR_MESSAGE);
    const inRepo = (p: string) => (isAbsolute(p) ? p : resolve(repoPath, p));
    tls = {
      // A path from the environment is the process's, relative to its working directory.
      caPath: caFrom === 'cert' ? inRepo(caPath) : resolve(caPath),
      caFrom,
      client: clientCert ? { certPath: inRepo(clientCert), keyPath: inRepo(clientKey) } : null,
    };
  } else if (clientCert || clientKey) {
    // Feast ignores them too without TLS; a plaintext channel was probably not what was meant.
    warnings.push('registry.client_cert and client_key are ignored: TLS is off (set cert, or is_tls: true)');
  }
  return {
    target,
    tls,
    authority: config.authority || null,
    timeoutMs: (config.larder?.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000,
    warnings,
  };
}

function caBundle(config: RemoteRegistryConfig, env: NodeJS.ProcessEnv): [string, TlsFiles['caFrom']] {
  if (config.cert) return [config.cert, 'cert'];
  if (env.SSL_CERT_FILE) return [env.SSL_CERT_FILE, 'SSL_CERT_FILE'];
  if (env.REQUESTS_CA_BUNDLE) return [env.REQUESTS_CA_BUNDLE, 'REQUESTS_CA_BUNDLE'];
  throw new Error(NO_CA_MESSAGE);
}

/** The host part of an authority (`host`, `host:port`, `[v6]:port`): the name a certificate must carry. */
export function authorityHost(authority: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(authority);
  if (bracketed) return bracketed[1]!;
  const colon = authority.lastIndexOf(':');
  // One colon: host:port. More than one without brackets: a bare IPv6 address.
  if (colon > 0 && authority.indexOf(':') === colon && /^\d+$/.test(authority.slice(colon + 1))) return authority.slice(0, colon);
  return authority;
}
