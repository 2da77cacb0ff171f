/**
 * A complete auth plugin: each bearer token listed in its config is one user.
 *
 * feature_store.yaml:
 *
 *   auth:
 *     type: ./static-token-auth.js
 *     users:
 *       token-of-alice: {username: alice, roles: [reader]}
 *       token-of-bob: {username: bob, groups: [analysts]}
 *
 * A real provider verifies a signed token (see @larder/plugin-auth-oidc) or asks a server
 * (@larder/plugin-auth-k8s); the shape is the same.
 */
import { timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError, type AuthPlugin, type AuthProvider, type User } from '@larder/core';

interface UserEntry {
  readonly username: string;
  readonly roles?: readonly string[];
  readonly groups?: readonly string[];
  readonly namespaces?: readonly string[];
}

interface StaticAuthConfig {
  readonly type: string;
  readonly users: Readonly<Record<string, UserEntry>>;
}

/** Compares in constant time, so response times do not reveal how much of a token was right. */
function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

class StaticTokenAuth implements AuthProvider {
  constructor(private readonly users: ReadonlyArray<readonly [string, UserEntry]>) {}

  async authenticate(token: string): Promise<User> {
    const entry = this.users.find(([known]) => sameToken(known, token))?.[1];
    if (!entry) throw new UnauthenticatedError('Invalid token: it is not one of the tokens in auth.users');
    return { username: entry.username, roles: entry.roles ?? [], groups: entry.groups ?? [], namespaces: entry.namespaces ?? [] };
  }
}

const plugin: AuthPlugin = {
  kind: 'auth',
  name: 'static-token',
  configSchema: {
    type: 'object',
    required: ['type', 'users'],
    additionalProperties: false,
    properties: {
      type: { type: 'string' },
      users: {
        type: 'object',
        minProperties: 1,
        additionalProperties: {
          type: 'object',
          required: ['username'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 1 },
            roles: { type: 'array', items: { type: 'string' } },
            groups: { type: 'array', items: { type: 'string' } },
            namespaces: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
  create(config) {
    const { users } = config as unknown as StaticAuthConfig;
    return new StaticTokenAuth(Object.entries(users));
  },
};

export default plugin;
