/**
 * The one way this plugin refuses a token. Every message starts with "Invalid token: " (as
 * Feast's do) and then says what was wrong; callers pass fixed text or configuration values,
 * never the token or claim values taken from it, since those are credentials or attacker input.
 */
import { UnauthenticatedError } from '@larder/core';

export function invalidToken(reason: string): UnauthenticatedError {
  return new UnauthenticatedError(`Invalid token: ${reason}`);
}
