/**
 * What a bearer token must look like before larder spends an API call on it. Kubernetes tokens
 * (service-account JWTs, OIDC tokens, bootstrap and static tokens) are short printable ASCII; a
 * megabyte of bearer, control characters or non-ASCII bytes can only be an attack or a mistake,
 * and sending it to the API server would let any caller make larder post arbitrary payloads there.
 */
import { UnauthenticatedError } from '@larder/core';

const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

export function checkTokenShape(token: string, maxBytes: number): void {
  if (token.length === 0) throw new UnauthenticatedError('Invalid token: empty');
  // Length first: the character test below is then over a bounded string.
  if (token.length > maxBytes) throw new UnauthenticatedError(`Invalid token: longer than ${maxBytes} bytes`);
  if (!PRINTABLE_ASCII.test(token)) throw new UnauthenticatedError('Invalid token: only printable ASCII characters are allowed');
}
