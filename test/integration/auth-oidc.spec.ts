/**
 * The `oidc` auth plugin against a real OpenID Connect provider (oauth2-mock-server on
 * 127.0.0.1, real discovery, JWKS and signed tokens): what it accepts, what it refuses and why,
 * key rotation, and the unchanged Feast client logging in with the password grant against a
 * larder server that enforces the registry's permissions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SignJWT, base64url, generateKeyPair } from 'jose';
import pino from 'pino';
import type { AuthProvider, User } from '../../core/src/auth.ts';
import { startServer, type RunningServer } from '../../core/src/server.ts';
import oidcPlugin from '../../plugins/auth-oidc/src/index.ts';
import { feastClientPull, fixturePackage, installPackages, writeGuardedRepo } from '../support/guarded-repo.ts';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';

const CLIENT_ID = 'feast-client';
const silent = pino({ level: 'silent' });
const now = () => Math.floor(Date.now() / 1000);

async function refusal(promise: Promise<unknown>): Promise<Error & { code: number }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: number };
  }
  throw new Error('expected the token to be refused');
}

describe('auth oidc (against a real OIDC provider)', function () {
  this.timeout(30_000);
  let idp: OidcTestProvider;
  const provider = (extra: Record<string, unknown> = {}): Promise<AuthProvider> =>
    Promise.resolve(
      oidcPlugin.create(
        { type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID, ...extra },
        { repoPath: '.', logger: silent },
      ),
    );
  /** A token as the IdP issues it to this client for user alice. */
  const aliceToken = (kid = 'rsa-1', claims: Record<string, unknown> = {}) =>
    idp.sign(kid, { preferred_username: 'alice', sub: 'a1b2', azp: CLIENT_ID, aud: 'account', ...claims });

  before(async () => {
    idp = await startOidcProvider();
    await idp.issuer.keys.generate('RS256', { kid: 'rsa-1' });
  });
  after(() => idp?.stop());

  describe('accepted tokens', () => {
    it('gives the user Feast would: username, client roles merged with top-level roles, groups, no namespaces', async () => {
      const token = await aliceToken('rsa-1', {
        resource_access: { [CLIENT_ID]: { roles: ['reader', 'writer'] }, other: { roles: ['ignored'] } },
        roles: ['writer', 'admin'],
        groups: ['team-a', 'team-b'],
      });
      const user: User = await (await provider()).authenticate(token);
      expect(user).to.deep.equal({ username: 'alice', roles: ['reader', 'writer', 'admin'], groups: ['team-a', 'team-b'], namespaces: [] });
    });

    it('takes the username from preferred_username > upn > azp > appid > sub, skipping non-strings', async () => {
      const auth = await provider();
      const name = async (claims: Record<string, unknown>) =>
        (await auth.authenticate(await idp.sign('rsa-1', { aud: CLIENT_ID, azp: undefined, ...claims }))).username;
      expect(await name({ preferred_username: 'p', upn: 'u', appid: 'x', sub: 's' })).to.equal('p');
      expect(await name({ preferred_username: null, upn: 'u', sub: 's' })).to.equal('u');
      expect(await name({ appid: 'app', sub: 's' })).to.equal('app');
      expect(await name({ sub: 's' })).to.equal('s');
      const none = await refusal(auth.authenticate(await idp.sign('rsa-1', { aud: CLIENT_ID, sub: undefined })));
      expect(none.message).to.equal('Missing username claim in access token: expected one of preferred_username, upn, azp, appid or sub.');
    });

    it('verifies ES256 and PS256 signatures as well as RS256', async () => {
      await idp.issuer.keys.generate('ES256', { kid: 'ec-1' });
      await idp.issuer.keys.generate('PS256', { kid: 'ps-1' });
      const auth = await provider();
      expect((await auth.authenticate(await aliceToken('ec-1'))).username).to.equal('alice');
      expect((await auth.authenticate(await aliceToken('ps-1'))).username).to.equal('alice');
    });

    it('forgives 10 s of clock skew on exp, as Feast does', async () => {
      expect((await (await provider()).authenticate(await aliceToken('rsa-1', { exp: now() - 5 }))).username).to.equal('alice');
    });

    it('accepts a configured audience found in an aud list', async () => {
      const auth = await provider({ audience: 'feast-api' });
      expect((await auth.authenticate(await aliceToken('rsa-1', { aud: ['other', 'feast-api'] }))).username).to.equal('alice');
    });
  });

  describe('refused tokens, each saying why', () => {
    const refusedWith = async (token: string | Promise<string>, message: string, extra: Record<string, unknown> = {}) => {
      const t = await token;
      const error = await refusal((await provider(extra)).authenticate(t));
      expect(error.constructor.name).to.equal('UnauthenticatedError');
      expect(error.message).to.equal(message);
      // Never the token, nor any part of it.
      for (const part of t.split('.').filter((p) => p.length > 8)) expect(error.message).not.to.include(part);
    };

    it('expired', () => refusedWith(aliceToken('rsa-1', { exp: now() - 60 }), 'Invalid token: expired'));
    it('not yet valid', () =>
      refusedWith(aliceToken('rsa-1', { nbf: now() + 120 }), 'Invalid token: not yet valid (nbf is in the future)'));
    it('without exp (unless larder.require_exp is false)', async () => {
      await refusedWith(aliceToken('rsa-1', { exp: undefined }), 'Invalid token: the token has no exp claim, so it would never expire');
      const auth = await provider({ larder: { require_exp: false } });
      expect((await auth.authenticate(await aliceToken('rsa-1', { exp: undefined }))).username).to.equal('alice');
    });

    it('signed by a key the IdP never published', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ preferred_username: 'mallory', azp: CLIENT_ID, iss: idp.url, exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: 'stranger' })
        .sign(privateKey);
      await refusedWith(
        forged,
        "Invalid token: unknown signing key (no key in the identity provider's JWKS has the token's kid and algorithm)",
      );
    });

    it('signed by a key posing under a published kid', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ preferred_username: 'mallory', azp: CLIENT_ID, iss: idp.url, exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' })
        .sign(privateKey);
      await refusedWith(forged, 'Invalid token: bad signature');
    });

    it('with a tampered payload', async () => {
      const [header, payload, signature] = (await aliceToken()).split('.');
      const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!)));
      const tampered = base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }));
      await refusedWith(`${header}.${tampered}.${signature}`, 'Invalid token: bad signature');
    });

    it('unsigned (alg none) or signed with a shared secret (HS256)', async () => {
      const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: 'rsa-1' }))}.${base64url.encode(JSON.stringify({ preferred_username: 'mallory', exp: now() + 600 }))}.`;
      await refusedWith(none, 'Invalid token: signing algorithm "none" is not accepted (allowed: RS256, ES256, PS256)');
      const hs = await new SignJWT({ preferred_username: 'mallory', exp: now() + 600 })
        .setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' })
        .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!'));
      await refusedWith(hs, 'Invalid token: signing algorithm "HS256" is not accepted (allowed: RS256, ES256, PS256)');
    });

    it('with an algorithm outside larder.algorithms', () =>
      refusedWith(aliceToken('ec-1'), 'Invalid token: signing algorithm "ES256" is not accepted (allowed: RS256)', {
        larder: { algorithms: ['RS256'] },
      }));

    it('for another client (neither aud nor azp is the client_id)', () =>
      refusedWith(
        aliceToken('rsa-1', { azp: 'someone-else', aud: 'account' }),
        `Invalid token: wrong audience (expected aud or azp "${CLIENT_ID}")`,
      ));

    it('without the configured audience', async () => {
      await refusedWith(aliceToken('rsa-1', { aud: 'account' }), 'Invalid token: wrong audience (expected aud "feast-api")', {
        audience: 'feast-api',
      });
      await refusedWith(aliceToken('rsa-1', { aud: undefined }), 'Invalid token: wrong audience (expected aud "feast-api")', {
        audience: 'feast-api',
      });
    });

    it('from another issuer (the discovery issuer by default, or the configured one)', async () => {
      await refusedWith(aliceToken('rsa-1', { iss: 'https://evil.example' }), `Invalid token: wrong issuer (expected "${idp.url}")`);
      await refusedWith(aliceToken(), 'Invalid token: wrong issuer (expected "https://sts.example/tenant/")', {
        issuer: 'https://sts.example/tenant/',
      });
    });

    it('malformed', async () => {
      await refusedWith('not-a-jwt', 'Invalid token: malformed: a JWT has three dot-separated parts');
      await refusedWith('abc.def.ghi', 'Invalid token: malformed: the header is not base64url-encoded JSON');
      await refusedWith(
        aliceToken('rsa-1', { sub: 12345, preferred_username: 'x' }),
        'Invalid token: malformed: the sub claim is not a string',
      );
    });

    it('when the discovery document cannot be fetched: UNAVAILABLE, saying so', async () => {
      const auth = oidcPlugin.create(
        { type: 'oidc', auth_discovery_url: 'http://127.0.0.1:9/.well-known/openid-configuration', client_id: CLIENT_ID },
        { repoPath: '.', logger: silent },
      ) as AuthProvider;
      const error = await refusal(auth.authenticate(await aliceToken()));
      // An identity provider outage is UNAVAILABLE (retried by clients), not a refused token.
      expect(error.message).to.match(
        /^Cannot check tokens: the OIDC discovery document http:\/\/127\.0\.0\.1:9\/\.well-known\/openid-configuration could not be fetched \(.*ECONNREFUSED/,
      );
      expect(error.code).to.equal(14);
    });
  });

  describe('signing keys', () => {
    it('fetches discovery once and the JWKS once while it is fresh', async () => {
      const discovery = idp.requests('/.well-known/openid-configuration');
      const jwks = idp.requests('/jwks');
      const auth = await provider();
      for (let i = 0; i < 3; i++) await auth.authenticate(await aliceToken());
      expect(idp.requests('/.well-known/openid-configuration') - discovery).to.equal(1);
      expect(idp.requests('/jwks') - jwks).to.equal(1);
    });

    it('finds a key rotated in after the first fetch, refetching the JWKS once', async () => {
      const auth = await provider();
      await auth.authenticate(await aliceToken());
      const before = idp.requests('/jwks');
      await idp.issuer.keys.generate('RS256', { kid: 'rsa-2' });
      expect((await auth.authenticate(await aliceToken('rsa-2'))).username).to.equal('alice');
      expect(idp.requests('/jwks') - before).to.equal(1);
      // The refreshed set is now cached: no further fetch for either key.
      await auth.authenticate(await aliceToken('rsa-1'));
      await auth.authenticate(await aliceToken('rsa-2'));
      expect(idp.requests('/jwks') - before).to.equal(1);
    });

    it('refetches at most once for a token naming an unknown key', async () => {
      const auth = await provider();
      await auth.authenticate(await aliceToken());
      const before = idp.requests('/jwks');
      const { privateKey } = await generateKeyPair('RS256');
      const forged = await new SignJWT({ preferred_username: 'm', exp: now() + 600 })
        .setProtectedHeader({ alg: 'RS256', kid: 'nope' })
        .sign(privateKey);
      await refusal(auth.authenticate(forged));
      expect(idp.requests('/jwks') - before).to.equal(1);
    });

    it('refetches the JWKS when its lifespan has passed', async () => {
      const auth = await provider({ jwks_cache_lifespan_seconds: 1 });
      await auth.authenticate(await aliceToken());
      const before = idp.requests('/jwks');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await auth.authenticate(await aliceToken());
      expect(idp.requests('/jwks') - before).to.equal(1);
    });
  });

  describe('the Feast client against a larder server with auth type oidc', function () {
    this.timeout(180_000);
    let repo: string;
    let server: RunningServer;
    /** The auth section both sides read: Feast's client fields are accepted and ignored by larder. */
    const authSection = (username: string) => [
      'auth:',
      '  type: oidc',
      `  client_id: ${CLIENT_ID}`,
      `  auth_discovery_url: ${idp.discoveryUrl}`,
      '  client_secret: not-checked-by-the-mock',
      `  username: ${username}`,
      '  password: not-checked-by-the-mock',
    ];

    before(async () => {
      idp.claimsForUser('rita', { preferred_username: 'rita', azp: CLIENT_ID, resource_access: { [CLIENT_ID]: { roles: ['reader'] } } });
      idp.claimsForUser('ned', { preferred_username: 'ned', azp: CLIENT_ID, groups: ['outsiders'] });
      repo = mkdtempSync(path.join(tmpdir(), 'larder-auth-oidc-'));
      installPackages(repo, [fixturePackage('larder-store-static')]);
      writeGuardedRepo(repo, authSection('server-config-user-is-ignored'), [
        { name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['reader'] } },
      ]);
      server = await startServer({ chdir: repo, port: 0, logger: silent });
    });

    after(async () => {
      await server?.stop(1000);
      if (repo) rmSync(repo, { recursive: true, force: true });
    });

    const pullAs = (username: string) => feastClientPull(repo, server.port, authSection(username));

    it('logs in with the password grant and reads when its client role permits', async () => {
      const tokensBefore = idp.requests('/token');
      expect(await pullAs('rita')).to.equal('rows 1');
      expect(idp.requests('/token') - tokensBefore).to.be.greaterThan(0);
    });

    it('gets FeastPermissionError when its roles do not suffice', async () => {
      expect(await pullAs('ned')).to.equal(
        "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']",
      );
    });
  });
});
