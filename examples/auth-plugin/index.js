// @ts-check
'use strict';
/**
 * larder-auth-apikey: a larder auth provider that maps static API keys to users. Written in
 * CommonJS to show that CommonJS plugins load (larder requires Node >= 22.12, where `require`
 * can load the ES module @larder/core).
 *
 *   auth:
 *     type: larder-auth-apikey
 *     keys:
 *       - {token_env: RITA_API_KEY, user: rita, roles: [reader]}
 *       - {token_env: CI_API_KEY, user: ci, roles: [reader, writer], groups: [platform]}
 *
 * A client sends the key as its bearer token (Feast's `auth: {type: kubernetes, user_token: …}`
 * sends a fixed token). The keys themselves live in environment variables, never in
 * feature_store.yaml, which is usually committed.
 */
const { createHash, timingSafeEqual } = require('node:crypto');
const { UnauthenticatedError } = require('@larder/core');

/** Keys shorter than this are guessable; the server refuses to start with one. */
const MIN_KEY_LENGTH = 16;

const listOfStrings = { type: 'array', items: { type: 'string' } };

/** JSON Schema of the whole `auth` section: larder validates it before `create` runs. */
const configSchema = {
  type: 'object',
  required: ['type', 'keys'],
  additionalProperties: false,
  properties: {
    type: { type: 'string' },
    keys: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['token_env', 'user'],
        additionalProperties: false,
        properties: {
          token_env: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
          user: { type: 'string', minLength: 1 },
          roles: listOfStrings,
          groups: listOfStrings,
          namespaces: listOfStrings,
        },
      },
    },
  },
};

/**
 * Tokens are compared as SHA-256 digests with `timingSafeEqual`: equal-length inputs whatever the
 * token's length, so the time taken reveals neither how much of a key was right nor its length.
 */
/** @param {string} token */
const digest = (token) => createHash('sha256').update(token, 'utf8').digest();

/**
 * The `auth` section, once larder has validated it against configSchema.
 * @typedef {{ keys: Array<{ token_env: string, user: string, roles?: string[], groups?: string[], namespaces?: string[] }> }} ApiKeyConfig
 */

/**
 * Reads every key from its environment variable; a missing, short or repeated key stops the server.
 * @param {ApiKeyConfig} config
 * @returns {Array<{ digest: Buffer, user: import('@larder/core').User }>}
 */
function loadKeys(config) {
  /** @type {Map<string, string>} */
  const seen = new Map();
  return config.keys.map((key, i) => {
    const where = `auth.keys[${i}] (user ${key.user})`;
    const token = process.env[key.token_env];
    if (!token) {
      throw new Error(`${where}: environment variable ${key.token_env} is not set or empty; set it to the user's API key`);
    }
    if (token.length < MIN_KEY_LENGTH) {
      const advice = `use at least ${MIN_KEY_LENGTH} (e.g. \`openssl rand -hex 32\`)`;
      throw new Error(`${where}: the API key in ${key.token_env} has ${token.length} characters; ${advice}`);
    }
    if (seen.has(token)) {
      throw new Error(`${where}: ${key.token_env} holds the same API key as ${seen.get(token)}; give every user a key of their own`);
    }
    seen.set(token, key.token_env);
    const user = { username: key.user, roles: key.roles ?? [], groups: key.groups ?? [], namespaces: key.namespaces ?? [] };
    return { digest: digest(token), user };
  });
}

/** @type {import('@larder/core').AuthPlugin} */
const plugin = {
  kind: 'auth',
  name: 'larder-auth-apikey',
  configSchema,
  create(config, env) {
    const keys = loadKeys(/** @type {ApiKeyConfig} */ (/** @type {unknown} */ (config)));
    env.logger.info({ users: keys.map((k) => k.user.username) }, 'larder-auth-apikey: API keys loaded');
    return {
      async authenticate(token) {
        const presented = digest(token);
        // Every key is compared, match or not, so the time taken does not tell which key matched.
        /** @type {import('@larder/core').User | null} */
        let found = null;
        for (const key of keys) if (timingSafeEqual(presented, key.digest) && !found) found = key.user;
        if (!found) {
          throw new UnauthenticatedError('Invalid API key: it matches none of the keys configured in auth.keys (larder-auth-apikey)');
        }
        return found;
      },
    };
  },
};

module.exports = plugin;
