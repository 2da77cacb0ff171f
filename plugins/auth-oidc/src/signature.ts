/**
 * A compact JWT → its claims, once its signature is verified with one of the IdP's keys. Each
 * step that can fail has its own refusal, checked in an order that names the real problem: shape,
 * algorithm (before any key is looked up, so `none` and HS* never reach a key), key id, key,
 * signature, payload.
 */
import { UnavailableError } from '@larder/core';
import { compactVerify, decodeProtectedHeader, errors, type CryptoKey, type ProtectedHeaderParameters } from 'jose';
import type { Claims } from './claims-check.ts';
import type { JwksCache, KeySet } from './jwks-cache.ts';
import { invalidToken } from './refusal.ts';

export interface SignatureOptions {
  readonly algorithms: readonly string[];
  readonly jwks: JwksCache;
}

export async function verifiedClaims(token: string, options: SignatureOptions): Promise<Claims> {
  const header = protectedHeader(token);
  const alg = header.alg;
  if (typeof alg !== 'string' || !options.algorithms.includes(alg)) {
    throw invalidToken(`signing algorithm ${describeAlg(alg)} is not accepted (allowed: ${options.algorithms.join(', ')})`);
  }
  // Feast's JWKS client matches keys by kid only; a token without one never validates there.
  if (typeof header.kid !== 'string' || header.kid === '') throw invalidToken('malformed: the header names no signing key (kid)');
  const key = await signingKey(header, options.jwks);
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(token, key, { algorithms: [alg] }));
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) throw invalidToken('bad signature');
    throw invalidToken('malformed: not a valid signed JWT');
  }
  return claimsOf(payload);
}

function protectedHeader(token: string): ProtectedHeaderParameters {
  // Three parts: header.payload.signature. Five would be an encrypted JWT, which IdPs do not
  // issue as access tokens.
  if (token.split('.').length !== 3) throw invalidToken('malformed: a JWT has three dot-separated parts');
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw invalidToken('malformed: the header is not base64url-encoded JSON');
  }
}

/** The algorithm named in the refusal only when it looks like one; anything else is attacker text. */
function describeAlg(alg: unknown): string {
  return typeof alg === 'string' && /^[A-Za-z0-9]{1,16}$/.test(alg) ? `"${alg}"` : '(missing or unreadable)';
}

/** The key the token names; when the cached set lacks it, one refetch in case the IdP rotated keys. */
async function signingKey(header: ProtectedHeaderParameters, jwks: JwksCache): Promise<CryptoKey> {
  const cached = await keySet(() => jwks.current());
  try {
    return await cached(header);
  } catch (error) {
    if (!(error instanceof errors.JWKSNoMatchingKey)) throw keyFailure(error);
  }
  const refreshed = await keySet(() => jwks.refreshAfter(cached));
  try {
    return await refreshed(header);
  } catch (error) {
    if (error instanceof errors.JWKSNoMatchingKey) {
      throw invalidToken("unknown signing key (no key in the identity provider's JWKS has the token's kid and algorithm)");
    }
    throw keyFailure(error);
  }
}

async function keySet(load: () => Promise<KeySet>): Promise<KeySet> {
  try {
    return await load();
  } catch (error) {
    // An outage of the identity provider, not a bad token: UNAVAILABLE, which clients retry.
    throw new UnavailableError(
      `Cannot check the signature: the identity provider's JWKS could not be fetched (${(error as Error).message})`,
    );
  }
}

function keyFailure(error: unknown): Error {
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return invalidToken("ambiguous signing key (several keys in the identity provider's JWKS have the token's kid)");
  return invalidToken("unusable signing key (the identity provider's key for the token's kid could not be imported)");
}

function claimsOf(payload: Uint8Array): Claims {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw invalidToken('malformed: the payload is not JSON');
  }
  if (claims === null || typeof claims !== 'object' || Array.isArray(claims))
    throw invalidToken('malformed: the payload is not a JSON object');
  return claims as Claims;
}
