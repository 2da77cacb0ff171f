/**
 * A real OpenID Connect provider for tests: oauth2-mock-server's issuer and endpoints (discovery,
 * JWKS, token with the password grant), served on 127.0.0.1 by an HTTP server of ours so the tests
 * can count how often each endpoint is fetched.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Issuer, OAuth2Service, type MutableToken, type TokenRequestIncomingMessage } from 'oauth2-mock-server';

export interface OidcTestProvider {
  /** http://127.0.0.1:<port>: the `issuer` of the discovery document and the `iss` of its tokens. */
  readonly url: string;
  readonly discoveryUrl: string;
  /** Signs tokens with its keys; `issuer.keys.generate(alg, {kid})` adds (rotates in) a key. */
  readonly issuer: OAuth2Issuer;
  /** Requests per path, e.g. requests('/jwks'). */
  requests(path: string): number;
  /** Claims to add to tokens issued by the token endpoint, by the requesting username. */
  claimsForUser(username: string, claims: Record<string, unknown>): void;
  /** Signs a token with key `kid`, with the default claims (iss, iat, nbf, exp in 1 h) overlaid by `claims`. */
  sign(kid: string, claims: Record<string, unknown>): Promise<string>;
  stop(): Promise<void>;
}

export async function startOidcProvider(): Promise<OidcTestProvider> {
  const issuer = new OAuth2Issuer();
  const service = new OAuth2Service(issuer);
  const counts = new Map<string, number>();
  const userClaims = new Map<string, Record<string, unknown>>();
  service.on('beforeTokenSigning', (token: MutableToken, req: TokenRequestIncomingMessage) => {
    const claims = userClaims.get(String(req.body.username));
    if (claims) Object.assign(token.payload, claims);
  });
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    service.requestHandler(req, res);
  });
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Set explicitly: the mock would say "localhost", which may resolve to ::1 where nothing listens.
  issuer.url = url;
  return {
    url,
    discoveryUrl: `${url}/.well-known/openid-configuration`,
    issuer,
    requests: (path) => counts.get(path) ?? 0,
    claimsForUser: (username, claims) => userClaims.set(username, claims),
    sign: (kid, claims) =>
      issuer.buildToken({
        kid,
        scopesOrTransform: (_header, payload) => {
          Object.assign(payload, claims);
          // undefined means "leave this claim out".
          for (const [name, value] of Object.entries(claims)) if (value === undefined) delete payload[name];
        },
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
