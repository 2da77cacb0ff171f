/**
 * The provider's OIDC discovery document. Fetched on the first token (to verify, or to request
 * for this server's own calls), not at start-up, so the server starts even while the IdP is down
 * (as Feast). Once fetched it is kept for the life of the process; a failed fetch is not kept, so
 * the next token tries again.
 */
import type { JsonGetter } from './http-json.ts';

export interface DiscoveryDocument {
  /** The issuer the IdP announces; tokens it signs carry it as `iss`. */
  readonly issuer: string | undefined;
  readonly jwksUri: URL;
  /**
   * Where this server requests its own tokens (service-token.ts), as written: checked only when a
   * token is requested, so a bad value never stops tokens from being verified.
   */
  readonly tokenEndpoint: string | undefined;
}

export class Discovery {
  private document: DiscoveryDocument | undefined;
  private pending: Promise<DiscoveryDocument> | undefined;

  constructor(
    readonly url: URL,
    private readonly getJson: JsonGetter,
  ) {}

  /** The document, fetching it if needed; concurrent first calls share one fetch. */
  get(): Promise<DiscoveryDocument> {
    if (this.document) return Promise.resolve(this.document);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetch(): Promise<DiscoveryDocument> {
    const body = await this.getJson(this.url);
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new Error('the discovery document is not a JSON object');
    const { issuer, jwks_uri: jwksUri, token_endpoint: tokenEndpoint } = body as Record<string, unknown>;
    if (typeof jwksUri !== 'string') throw new Error('the discovery document has no jwks_uri');
    let parsed: URL;
    try {
      parsed = new URL(jwksUri, this.url);
    } catch {
      throw new Error("the discovery document's jwks_uri is not a URL");
    }
    this.document = {
      issuer: typeof issuer === 'string' && issuer ? issuer : undefined,
      jwksUri: parsed,
      tokenEndpoint: typeof tokenEndpoint === 'string' && tokenEndpoint ? tokenEndpoint : undefined,
    };
    return this.document;
  }
}
