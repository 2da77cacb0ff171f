/**
 * Verified claims → the User that Feast's permission policies see, read from the same claims as
 * Feast's OIDC parser so that policies written for Feast grant the same users.
 */
import { UnauthenticatedError, type User } from '@larder/core';
import type { Claims } from './claims-check.ts';

/** Feast's precedence: the first of these whose value is a string names the user. */
const USERNAME_CLAIMS = ['preferred_username', 'upn', 'azp', 'appid', 'sub'] as const;

export function userFromClaims(claims: Claims, clientId: string | undefined): User {
  const name = USERNAME_CLAIMS.map((claim) => claims[claim]).find((value) => typeof value === 'string') as string | undefined;
  if (name === undefined) {
    // Feast's text, word for word.
    throw new UnauthenticatedError('Missing username claim in access token: expected one of preferred_username, upn, azp, appid or sub.');
  }
  return {
    username: name,
    roles: distinct([...clientRoles(claims, clientId), ...arrayClaim(claims.roles)]),
    groups: arrayClaim(claims.groups),
    namespaces: [],
  };
}

/** Keycloak's client roles: resource_access.<client_id>.roles; nothing without a client_id. */
function clientRoles(claims: Claims, clientId: string | undefined): string[] {
  if (!clientId) return [];
  const access = objectClaim(claims.resource_access);
  const client = objectClaim(access?.[clientId]);
  return arrayClaim(client?.roles);
}

function objectClaim(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * An array claim's string items. Feast copies items unchecked; a non-string role could never
 * equal a policy's role name, so keeping only strings grants the same and keeps User well typed.
 */
function arrayClaim(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}
