/**
 * The OIDC auth provider: bearer token → User. Discovery, then the IdP's keys, then signature,
 * then claims, then the Feast user mapping. Nothing is cached per token: every call is verified,
 * as in Feast, so a token stops working the moment it expires. It also finds this server's own
 * token for calling other Feast services (service-token.ts), sharing the discovery document.
 */
import { UnavailableError, type AuthEnvironment, type AuthProvider, type User } from '@larder/core';
import { checkClaims, type ClaimExpectations } from './claims-check.ts';
import type { OidcSettings } from './config.ts';
import { Discovery, type DiscoveryDocument } from './discovery.ts';
import { formPoster, jsonGetter, type HttpJsonOptions, type JsonGetter } from './http-json.ts';
import { JwksCache } from './jwks-cache.ts';
import { OidcServiceToken, type OidcServiceTokenOptions } from './service-token.ts';
import { verifiedClaims } from './signature.ts';
import { userFromClaims } from './user-claims.ts';

export class OidcAuthProvider implements AuthProvider {
  private readonly getJson: JsonGetter;
  private readonly discovery: Discovery;
  /** Built from the discovery document's jwks_uri, on the first token. */
  private jwks: JwksCache | undefined;
  private readonly ownToken: OidcServiceToken;

  /** `serviceTokenOptions` exist for tests (a token file, a clock); create() passes none. */
  constructor(
    private readonly settings: OidcSettings,
    private readonly env: AuthEnvironment,
    serviceTokenOptions: Pick<OidcServiceTokenOptions, 'env' | 'serviceAccountTokenFile' | 'now'> = {},
  ) {
    // jwks_request_timeout_seconds bounds every request to the IdP here, the token request too
    // (Feast's token request has no timeout).
    const http: HttpJsonOptions = { verifySsl: settings.verifySsl, caCertPath: settings.caCertPath, timeoutMs: settings.requestTimeoutMs };
    this.getJson = jsonGetter(http);
    this.discovery = new Discovery(settings.discoveryUrl, this.getJson);
    this.ownToken = new OidcServiceToken(settings.client, {
      ...serviceTokenOptions,
      discovery: this.discovery,
      postForm: formPoster(http),
      clientId: settings.clientId,
    });
  }

  async authenticate(token: string): Promise<User> {
    const document = await this.discoveryDocument();
    this.jwks ??= new JwksCache(document.jwksUri, this.getJson, this.settings.jwksLifespanMs);
    const claims = await verifiedClaims(token, { algorithms: this.settings.algorithms, jwks: this.jwks });
    checkClaims(claims, this.expectations(document), Date.now() / 1000);
    return userFromClaims(claims, this.settings.clientId);
  }

  /** The token this server presents to other Feast services (a remote registry). */
  serviceToken(): Promise<string> {
    return this.ownToken.get();
  }

  private async discoveryDocument(): Promise<DiscoveryDocument> {
    try {
      return await this.discovery.get();
    } catch (error) {
      const reason = (error as Error).message;
      // The IdP's fault, not the caller's: worth a line in the server's log, and UNAVAILABLE (the
      // Feast client retries it) rather than a refusal of a token that may well be valid.
      this.env.logger.warn({ url: this.discovery.url.href, reason }, 'OIDC discovery failed');
      throw new UnavailableError(
        `Cannot check tokens: the OIDC discovery document ${this.discovery.url.href} could not be fetched (${reason})`,
      );
    }
  }

  private expectations(document: DiscoveryDocument): ClaimExpectations {
    const { settings } = this;
    return {
      clockToleranceSeconds: settings.clockToleranceSeconds,
      requireExp: settings.requireExp,
      audience: settings.audience,
      clientId: settings.audienceFromClientId ? settings.clientId : undefined,
      issuer: settings.issuer ?? (settings.issuerFromDiscovery ? document.issuer : undefined),
    };
  }
}
