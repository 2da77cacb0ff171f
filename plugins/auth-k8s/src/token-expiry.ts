/**
 * The `exp` of a JWT, used only to stop caching a token once it has expired. It is read after the
 * TokenReview accepted the token, so the claims are the ones Kubernetes verified; a token that is
 * not a JWT simply has no known expiry.
 */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
