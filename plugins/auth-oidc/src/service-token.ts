/**
 * The token this server presents when it calls another Feast service (the registry server of
 * `registry_type: remote`). Feast's offline server does not forward its caller's token there; it
 * authenticates as itself, with the token its OIDC client manager finds. The same sources, in
 * Feast's order:
 *
 * 1. `token` from the config;
 * 2. `token_env_var`: that environment variable, which must then be set and non-empty;
 * 3. `client_secret`: a token requested from the IdP's token endpoint (grant client_credentials,
 *    or password when username and password are set), reused until shortly before it expires;
 * 4. the FEAST_OIDC_TOKEN environment variable;
 * 5. the pod's Kubernetes service account token, for IdPs that trust the cluster's tokens.
 *
 * (Feast's rule on the config, config.ts, rejects 1 and 2 in a section that has
 * auth_discovery_url, which a server's always has; they are kept so that the order is Feast's.)
 * INTRA_COMMUNICATION_BASE64, which comes before all of these in Feast, is handled by larder's
 * core before it asks this plugin.
 */
import { readFile } from 'node:fs/promises';
import { decodeJwt } from 'jose';
import type { OidcClientSettings } from './config.ts';
import type { Discovery } from './discovery.ts';
import type { FormPoster } from './http-json.ts';

/** Where Kubernetes mounts a pod's service account token. */
export const SERVICE_ACCOUNT_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface OidcServiceTokenOptions {
  /** The IdP's discovery document, shared with token verification so it is fetched once. */
  readonly discovery: Discovery;
  /** POSTs the token request, with the same TLS options (verify_ssl, ca_cert_path) as discovery. */
  readonly postForm: FormPoster;
  /** The server's client_id: the client the token is requested for. */
  readonly clientId: string | undefined;
  /** Where environment variables are read, on every call. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The service account token file. Default: SERVICE_ACCOUNT_TOKEN_FILE. */
  readonly serviceAccountTokenFile?: string;
  /** Milliseconds since the epoch. Default: Date.now. */
  readonly now?: () => number;
}

interface IssuedToken {
  readonly token: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

export class OidcServiceToken {
  /** The last token the IdP issued, with its true expiry; the margin is applied when reading it. */
  private issued: IssuedToken | undefined;
  /** A token request under way: concurrent callers share it instead of each asking the IdP. */
  private pending: Promise<string> | undefined;

  constructor(
    private readonly settings: OidcClientSettings,
    private readonly options: OidcServiceTokenOptions,
  ) {}

  async get(): Promise<string> {
    const { settings } = this;
    const env = this.options.env ?? process.env;
    if (settings.token) return settings.token;
    if (settings.tokenEnvVar) {
      const value = env[settings.tokenEnvVar];
      if (value) return value;
      // Feast's text.
      throw new Error(`token_env_var='${settings.tokenEnvVar}' is configured but the environment variable is not set or is empty.`);
    }
    if (settings.clientSecret) return this.fromIdentityProvider();
    if (env.FEAST_OIDC_TOKEN) return env.FEAST_OIDC_TOKEN;
    const serviceAccount = await this.serviceAccountToken();
    if (serviceAccount) return serviceAccount;
    // Feast's text.
    throw new Error(
      "No OIDC token source configured. Provide one of: 'token', 'token_env_var', 'client_secret' (with " +
        "'auth_discovery_url' and 'client_id'), set the FEAST_OIDC_TOKEN environment variable, or run inside " +
        'a Kubernetes pod with a mounted service account token.',
    );
  }

  private async fromIdentityProvider(): Promise<string> {
    const issued = this.issued;
    const nowSeconds = this.nowMs() / 1000;
    if (issued && nowSeconds < issued.expiresAt - this.settings.refreshMarginSeconds) return issued.token;
    this.pending ??= this.request().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** One token request; the token is kept when its expiry is known (a token that may never expire is not reused). */
  private async request(): Promise<string> {
    const endpoint = await this.tokenEndpoint();
    const { clientId } = this.options;
    const { clientSecret, username, password } = this.settings;
    const fields =
      username && password
        ? { grant_type: 'password', client_id: clientId, client_secret: clientSecret, username, password }
        : { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret };
    const requestedAt = this.nowMs() / 1000;
    const response = await this.options.postForm(endpoint, fields);
    if (response.status !== 200) {
      // Feast's text. The body is the IdP's error (e.g. {"error":"invalid_client"}), never a token.
      throw new Error(`Failed to obtain oidc access token:url=[${endpoint.href}] ${response.status} - ${response.text}`);
    }
    const { token, expiresIn } = tokenResponse(response.text, endpoint);
    const expiresAt = expiryOf(token) ?? (expiresIn === undefined ? undefined : requestedAt + expiresIn);
    this.issued = expiresAt === undefined ? undefined : { token, expiresAt };
    return token;
  }

  private async tokenEndpoint(): Promise<URL> {
    const { discovery } = this.options;
    let endpoint: string | undefined;
    try {
      endpoint = (await discovery.get()).tokenEndpoint;
    } catch (error) {
      // Feast's wording.
      throw new Error(
        `Error fetching OIDC discovery response, discovery url - ${discovery.url.href}, exception - ${(error as Error).message}`,
      );
    }
    if (!endpoint)
      throw new Error(`The OIDC discovery document ${discovery.url.href} names no token_endpoint, so no token can be requested`);
    try {
      return new URL(endpoint, discovery.url);
    } catch {
      throw new Error(`The OIDC discovery document ${discovery.url.href} has a token_endpoint that is not a URL`);
    }
  }

  /** The pod's token, re-read on every call (kubelet rotates projected tokens); undefined when there is none. */
  private async serviceAccountToken(): Promise<string | undefined> {
    const file = this.options.serviceAccountTokenFile ?? SERVICE_ACCOUNT_TOKEN_FILE;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw new Error(`Cannot read the service account token ${file}: ${(error as Error).message}`);
    }
    return text.trim() || undefined;
  }

  private nowMs(): number {
    return (this.options.now ?? Date.now)();
  }
}

function tokenResponse(text: string, endpoint: URL): { token: string; expiresIn: number | undefined } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`Failed to obtain oidc access token:url=[${endpoint.href}] the response is not JSON`);
  }
  const fields = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const token = fields.access_token;
  // Feast's text for an empty token.
  if (typeof token !== 'string' || token === '') throw new Error('access token is empty');
  const expiresIn = fields.expires_in;
  return { token, expiresIn: typeof expiresIn === 'number' && Number.isFinite(expiresIn) ? expiresIn : undefined };
}

/** The token's own `exp` (authoritative, as in Feast), read without verifying: it is our token, not a caller's. */
function expiryOf(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined; // an opaque token
  }
}
