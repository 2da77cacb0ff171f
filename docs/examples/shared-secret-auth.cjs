// @ts-check
// A CommonJS auth plugin (Node >= 22.12 lets CommonJS require() the ESM @larder/core): one
// shared secret, read from an environment variable named in the config, is one user.
//
//   auth:
//     type: ./shared-secret-auth.cjs
//     secret_env: LARDER_SHARED_SECRET
//     username: pipeline
const { timingSafeEqual } = require('node:crypto');
const { UnauthenticatedError } = require('@larder/core');

/** @type {import('@larder/core').AuthPlugin} */
const plugin = {
  kind: 'auth',
  name: 'shared-secret',
  configSchema: {
    type: 'object',
    required: ['type', 'secret_env', 'username'],
    additionalProperties: false,
    properties: { type: { type: 'string' }, secret_env: { type: 'string' }, username: { type: 'string' } },
  },
  create(config) {
    const secret = process.env[String(config.secret_env)];
    // Refused at start, not at the first call: the server must not run with no way in.
    if (!secret) throw new Error(`auth.secret_env names ${String(config.secret_env)}, which is not set`);
    const expected = Buffer.from(secret);
    const user = { username: String(config.username), roles: [], groups: [], namespaces: [] };
    return {
      async authenticate(token) {
        const given = Buffer.from(token);
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new UnauthenticatedError('Invalid token');
        return user;
      },
    };
  },
};

module.exports = plugin;
