/**
 * Checks on the claims of a token whose signature has been verified: validity window, audience,
 * issuer, and the claim types Feast's JWT library insists on. Done here rather than by jose's
 * jwtVerify because the audience rule (aud or azp) is not one jose can express, and because each
 * refusal should say exactly which check failed.
 */
import { invalidToken } from './refusal.ts';

export type Claims = Readonly<Record<string, unknown>>;

export interface ClaimExpectations {
  /** Seconds of clock skew forgiven on exp, nbf and iat (Feast: 10). */
  readonly clockToleranceSeconds: number;
  readonly requireExp: boolean;
  /** `aud` must contain it. */
  readonly audience: string | undefined;
  /** `aud` must contain it, or `azp` (the client the token was issued to) must equal it. */
  readonly clientId: string | undefined;
  /** `iss` must equal it exactly. */
  readonly issuer: string | undefined;
}

export function checkClaims(claims: Claims, expect: ClaimExpectations, nowSeconds: number): void {
  checkValidityWindow(claims, expect, nowSeconds);
  checkAudience(claims, expect);
  if (expect.issuer !== undefined && claims.iss !== expect.issuer) {
    throw invalidToken(`wrong issuer (expected "${expect.issuer}")`);
  }
  for (const name of ['sub', 'jti'] as const) {
    if (claims[name] !== undefined && typeof claims[name] !== 'string') throw invalidToken(`malformed: the ${name} claim is not a string`);
  }
}

function checkValidityWindow(claims: Claims, expect: ClaimExpectations, now: number): void {
  const leeway = expect.clockToleranceSeconds;
  const exp = numericDate(claims, 'exp');
  const nbf = numericDate(claims, 'nbf');
  const iat = numericDate(claims, 'iat');
  if (exp === undefined && expect.requireExp) throw invalidToken('the token has no exp claim, so it would never expire');
  if (exp !== undefined && exp <= now - leeway) throw invalidToken('expired');
  if (nbf !== undefined && nbf > now + leeway) throw invalidToken('not yet valid (nbf is in the future)');
  if (iat !== undefined && iat > now + leeway) throw invalidToken('not yet valid (issued in the future)');
}

function numericDate(claims: Claims, name: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidToken(`malformed: the ${name} claim is not a number`);
  return value;
}

function checkAudience(claims: Claims, expect: ClaimExpectations): void {
  const aud = claims.aud;
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (expect.audience !== undefined) {
    if (!audiences.includes(expect.audience)) throw invalidToken(`wrong audience (expected aud "${expect.audience}")`);
    return;
  }
  if (expect.clientId !== undefined) {
    // Keycloak issues access tokens with aud "account" and the requesting client in azp; other
    // IdPs put the client in aud. Either shows the token was issued for this client.
    if (!audiences.includes(expect.clientId) && claims.azp !== expect.clientId) {
      throw invalidToken(`wrong audience (expected aud or azp "${expect.clientId}")`);
    }
  }
}
