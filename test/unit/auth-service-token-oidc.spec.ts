import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { decodeJwt } from 'jose';
import type { MutableToken } from 'oauth2-mock-server';
import pino from 'pino';
import type { AuthProvider } from '../../core/src/auth.ts';
import { serviceTokenSource } from '../../core/src/service-token.ts';
import { settingsFrom, type OidcAuthConfig, type OidcClientSettings } from '../../plugins/auth-oidc/src/config.ts';
import oidcPlugin from '../../plugins/auth-oidc/src/index.ts';
import { OidcAuthProvider } from '../../plugins/auth-oidc/src/provider.ts';
import { startOidcProvider, type OidcTestProvider } from '../support/oidc-provider.ts';
import { rejection } from '../support/guarded-repo.ts';
import { selfSignedCert } from '../support/self-signed-cert.ts';

const CLIENT_ID = 'feast-client';
const SECRET = 'client-secret-123';
const silent = pino({ level: 'silent' });
const authEnv = { repoPath: '.', logger: silent };

/** The environment variables these tests set, restored after each test. */
const ENV_NAMES = ['FEAST_OIDC_TOKEN', 'MY_TOKEN_VAR', 'INTRA_COMMUNICATION_BASE64'];

/** A token endpoint of our own: records each token request and answers with `reply`. */
interface TokenEndpoint {
  readonly discoveryUrl: string;
  readonly tokenUrl: string;
  readonly requests: { contentType: string | undefined; fields: Record<string, string> }[];
  reply: { status: number; body: string };
  stop(): Promise<void>;
}

async function startTokenEndpoint(tls?: { key: Buffer; cert: Buffer }): Promise<TokenEndpoint> {
  const requests: TokenEndpoint['requests'] = [];
  let base = '';
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks`, token_endpoint: `${base}/token` }));
        return;
      }
      requests.push({
        contentType: req.headers['content-type'],
        fields: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      });
      res.statusCode = endpoint.reply.status;
      res.end(endpoint.reply.body);
    });
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject));
  base = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoint: TokenEndpoint = {
    discoveryUrl: `${base}/.well-known/openid-configuration`,
    tokenUrl: `${base}/token`,
    requests,
    reply: { status: 200, body: '{}' },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return endpoint;
}

describe('auth oidc: the token larder presents to other Feast services', function () {
  this.timeout(30_000);
  let idp: OidcTestProvider;
  let dir: string;
  let savedEnv: Record<string, string | undefined>;
  const noFile = () => path.join(dir, 'no-such-token');

  /** A provider as create() builds it; `options` are the test seams create() never sets. */
  const provider = (config: Record<string, unknown>, options: ConstructorParameters<typeof OidcAuthProvider>[2] = {}) =>
    new OidcAuthProvider(
      settingsFrom({ type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID, ...config } as OidcAuthConfig),
      authEnv,
      {
        serviceAccountTokenFile: noFile(),
        ...options,
      },
    );
  /**
   * A provider with client settings Feast's config rule would refuse next to auth_discovery_url
   * (`token`, `token_env_var`), to show where they come in the order.
   */
  const providerWithClient = (client: Partial<OidcClientSettings>, options: ConstructorParameters<typeof OidcAuthProvider>[2] = {}) => {
    const settings = settingsFrom({ type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID });
    return new OidcAuthProvider({ ...settings, client: { ...settings.client, ...client } }, authEnv, {
      serviceAccountTokenFile: noFile(),
      ...options,
    });
  };
  const clientCredentials = { client_secret: SECRET };
  const tokenRequests = () => idp.requests('/token');

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'larder-service-token-'));
    idp = await startOidcProvider();
    await idp.issuer.keys.generate('RS256', { kid: 'rsa-1' });
    // oauth2-mock-server's client_credentials tokens name no client; Keycloak's carry it in azp,
    // which is what lets the server's own audience check and username mapping accept them.
    idp.issuer.on('beforeSigning', (token: MutableToken) => {
      if (token.payload.sub === undefined) token.payload.azp = CLIENT_ID;
    });
    idp.claimsForUser('alice', { preferred_username: 'alice', azp: CLIENT_ID });
  });
  after(async () => {
    await idp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    savedEnv = Object.fromEntries(ENV_NAMES.map((name) => [name, process.env[name]]));
    for (const name of ENV_NAMES) delete process.env[name];
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  describe('from the identity provider (client_secret)', () => {
    it('requests a client_credentials token that the same provider then accepts as the client', async () => {
      const auth = await oidcPlugin.create(
        { type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID, ...clientCredentials },
        authEnv,
      );
      const before = tokenRequests();
      const token = await auth.serviceToken!();
      expect(tokenRequests()).to.equal(before + 1);
      expect(decodeJwt(token).sub, 'no user: a client_credentials token').to.equal(undefined);
      const user = await auth.authenticate(token);
      expect(user.username).to.equal(CLIENT_ID);
    });

    it('reuses the token while it is valid: two calls, one token request', async () => {
      const auth = provider(clientCredentials);
      const before = tokenRequests();
      const first = await auth.serviceToken();
      const second = await auth.serviceToken();
      expect(second).to.equal(first);
      expect(tokenRequests()).to.equal(before + 1);
    });

    it('shares one token request between concurrent calls', async () => {
      const auth = provider(clientCredentials);
      const before = tokenRequests();
      const tokens = await Promise.all([auth.serviceToken(), auth.serviceToken(), auth.serviceToken()]);
      expect(new Set(tokens).size).to.equal(1);
      expect(tokenRequests()).to.equal(before + 1);
    });

    it('requests a new token token_refresh_margin_seconds (default 30) before exp', async () => {
      let now = Date.now();
      const auth = provider(clientCredentials, { now: () => now });
      const before = tokenRequests();
      const exp = decodeJwt(await auth.serviceToken()).exp!;
      now = (exp - 31) * 1000;
      await auth.serviceToken();
      expect(tokenRequests(), 'reused 31 s before exp').to.equal(before + 1);
      now = (exp - 30) * 1000;
      await auth.serviceToken();
      expect(tokenRequests(), 'refetched 30 s before exp').to.equal(before + 2);
    });

    it('honours a configured token_refresh_margin_seconds', async () => {
      let now = Date.now();
      const auth = provider({ ...clientCredentials, token_refresh_margin_seconds: 600 }, { now: () => now });
      const before = tokenRequests();
      const exp = decodeJwt(await auth.serviceToken()).exp!;
      now = (exp - 601) * 1000;
      await auth.serviceToken();
      expect(tokenRequests()).to.equal(before + 1);
      now = (exp - 600) * 1000;
      await auth.serviceToken();
      expect(tokenRequests()).to.equal(before + 2);
    });

    it('uses the password grant when username and password are set, and the provider accepts the user', async () => {
      const auth = await oidcPlugin.create(
        {
          type: 'oidc',
          auth_discovery_url: idp.discoveryUrl,
          client_id: CLIENT_ID,
          ...clientCredentials,
          username: 'alice',
          password: 'pw',
        },
        authEnv,
      );
      const token = await auth.serviceToken!();
      expect(decodeJwt(token)).to.include({ sub: 'alice', preferred_username: 'alice' });
      expect((await auth.authenticate(token)).username).to.equal('alice');
    });

    it('comes before FEAST_OIDC_TOKEN', async () => {
      process.env.FEAST_OIDC_TOKEN = 'from-the-environment';
      const token = await provider(clientCredentials).serviceToken();
      expect(token).to.not.equal('from-the-environment');
      expect(decodeJwt(token).iss).to.equal(idp.url);
    });
  });

  describe('against a token endpoint of our own', () => {
    let endpoint: TokenEndpoint;
    before(async () => {
      endpoint = await startTokenEndpoint();
    });
    after(() => endpoint?.stop());
    beforeEach(() => {
      endpoint.requests.length = 0;
    });
    const ownProvider = (config: Record<string, unknown> = {}) =>
      new OidcAuthProvider(
        settingsFrom({
          type: 'oidc',
          auth_discovery_url: endpoint.discoveryUrl,
          client_id: CLIENT_ID,
          ...clientCredentials,
          ...config,
        } as OidcAuthConfig),
        authEnv,
      );

    it('POSTs a form with the grant, client_id and client_secret (and username and password for the password grant)', async () => {
      endpoint.reply = { status: 200, body: JSON.stringify({ access_token: 'opaque-1', expires_in: 300 }) };
      await ownProvider().serviceToken();
      await ownProvider({ username: 'bob', password: 'pw' }).serviceToken();
      expect(endpoint.requests).to.deep.equal([
        {
          contentType: 'application/x-www-form-urlencoded',
          fields: { grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: SECRET },
        },
        {
          contentType: 'application/x-www-form-urlencoded',
          fields: { grant_type: 'password', client_id: CLIENT_ID, client_secret: SECRET, username: 'bob', password: 'pw' },
        },
      ]);
    });

    it('reuses an opaque token for its expires_in, and does not reuse one whose expiry is unknown', async () => {
      endpoint.reply = { status: 200, body: JSON.stringify({ access_token: 'opaque-2', expires_in: 300 }) };
      const withExpiry = ownProvider();
      expect([await withExpiry.serviceToken(), await withExpiry.serviceToken()]).to.deep.equal(['opaque-2', 'opaque-2']);
      expect(endpoint.requests).to.have.length(1);
      endpoint.reply = { status: 200, body: JSON.stringify({ access_token: 'opaque-3' }) };
      const withoutExpiry = ownProvider();
      await withoutExpiry.serviceToken();
      await withoutExpiry.serviceToken();
      expect(endpoint.requests).to.have.length(3);
    });

    it("fails with Feast's text, quoting the IdP's answer, when the token request is refused", async () => {
      endpoint.reply = { status: 401, body: '{"error":"invalid_client"}' };
      const error = await rejection(ownProvider().serviceToken());
      expect(error.message).to.equal(`Failed to obtain oidc access token:url=[${endpoint.tokenUrl}] 401 - {"error":"invalid_client"}`);
    });

    it('fails when the answer carries no access token', async () => {
      endpoint.reply = { status: 200, body: JSON.stringify({ access_token: '' }) };
      expect((await rejection(ownProvider().serviceToken())).message).to.equal('access token is empty');
    });

    it('fails with the discovery URL when the discovery document cannot be fetched', async () => {
      const closed = await startTokenEndpoint();
      await closed.stop();
      const auth = new OidcAuthProvider(
        settingsFrom({ type: 'oidc', auth_discovery_url: closed.discoveryUrl, client_id: CLIENT_ID, ...clientCredentials }),
        authEnv,
      );
      const error = await rejection(auth.serviceToken());
      expect(error.message).to.match(
        new RegExp(
          `^Error fetching OIDC discovery response, discovery url - ${closed.discoveryUrl.replace(/[.?]/g, '\\$&')}, exception - .*ECONNREFUSED`,
        ),
      );
    });
  });

  describe('over HTTPS, with verify_ssl and ca_cert_path', () => {
    let endpoint: TokenEndpoint;
    let caFile: string;
    before(async () => {
      const { keyPath: key, certPath } = selfSignedCert(dir, { commonName: '127.0.0.1', altNames: 'IP:127.0.0.1' });
      caFile = certPath;
      endpoint = await startTokenEndpoint({ key: readFileSync(key), cert: readFileSync(caFile) });
      endpoint.reply = { status: 200, body: JSON.stringify({ access_token: 'tls-token', expires_in: 300 }) };
    });
    after(() => endpoint?.stop());
    const tlsProvider = (config: Record<string, unknown>) =>
      new OidcAuthProvider(
        settingsFrom({
          type: 'oidc',
          auth_discovery_url: endpoint.discoveryUrl,
          client_id: CLIENT_ID,
          ...clientCredentials,
          ...config,
        } as OidcAuthConfig),
        authEnv,
      );

    it('refuses a certificate the system does not trust', async () => {
      const error = await rejection(tlsProvider({}).serviceToken());
      expect(error.message).to.match(/self-signed certificate/);
    });

    it('trusts ca_cert_path for discovery and the token request', async () => {
      endpoint.requests.length = 0;
      expect(await tlsProvider({ ca_cert_path: caFile }).serviceToken()).to.equal('tls-token');
      expect(endpoint.requests).to.have.length(1);
    });

    it('skips certificate checks with verify_ssl: false', async () => {
      expect(await tlsProvider({ verify_ssl: false }).serviceToken()).to.equal('tls-token');
    });
  });

  describe('without an identity provider request', () => {
    it('presents a configured token as is, before anything else', async () => {
      process.env.FEAST_OIDC_TOKEN = 'from-the-environment';
      const before = tokenRequests();
      expect(await providerWithClient({ token: 'fixed-token', clientSecret: SECRET }).serviceToken()).to.equal('fixed-token');
      expect(tokenRequests()).to.equal(before);
    });

    it("reads token_env_var on every call, and fails with Feast's text when it is unset or empty", async () => {
      const auth = providerWithClient({ tokenEnvVar: 'MY_TOKEN_VAR', clientSecret: SECRET });
      process.env.MY_TOKEN_VAR = 'first';
      expect(await auth.serviceToken()).to.equal('first');
      process.env.MY_TOKEN_VAR = 'second';
      expect(await auth.serviceToken()).to.equal('second');
      const message = "token_env_var='MY_TOKEN_VAR' is configured but the environment variable is not set or is empty.";
      process.env.MY_TOKEN_VAR = '';
      expect((await rejection(auth.serviceToken())).message).to.equal(message);
      delete process.env.MY_TOKEN_VAR;
      process.env.FEAST_OIDC_TOKEN = 'from-the-environment';
      expect((await rejection(auth.serviceToken())).message, 'no fallback to FEAST_OIDC_TOKEN').to.equal(message);
    });

    it('presents FEAST_OIDC_TOKEN when no client source is configured (a server-only section)', async () => {
      const auth: AuthProvider = await oidcPlugin.create(
        { type: 'oidc', auth_discovery_url: idp.discoveryUrl, client_id: CLIENT_ID },
        authEnv,
      );
      process.env.FEAST_OIDC_TOKEN = 'from-the-environment';
      expect(await auth.serviceToken!()).to.equal('from-the-environment');
    });

    it('presents the service account token (trimmed) when there is no other source, FEAST_OIDC_TOKEN first', async () => {
      const file = path.join(dir, 'sa-token');
      writeFileSync(file, '  sa-token-value\n');
      const auth = provider({}, { serviceAccountTokenFile: file });
      expect(await auth.serviceToken()).to.equal('sa-token-value');
      process.env.FEAST_OIDC_TOKEN = 'from-the-environment';
      expect(await auth.serviceToken()).to.equal('from-the-environment');
    });

    it("fails with Feast's text when there is no source at all (an empty token file counts as none)", async () => {
      const empty = path.join(dir, 'empty-token');
      writeFileSync(empty, '\n');
      for (const serviceAccountTokenFile of [noFile(), empty]) {
        const error = await rejection(provider({}, { serviceAccountTokenFile }).serviceToken());
        expect(error.message).to.equal(
          "No OIDC token source configured. Provide one of: 'token', 'token_env_var', 'client_secret' (with 'auth_discovery_url' and " +
            "'client_id'), set the FEAST_OIDC_TOKEN environment variable, or run inside a Kubernetes pod with a mounted service account token.",
        );
      }
    });
  });

  describe("Feast's rule on the client fields, at start-up", () => {
    const create = (config: Record<string, unknown>) => () =>
      oidcPlugin.create({ type: 'oidc', auth_discovery_url: 'https://idp.example/.well-known/openid-configuration', ...config }, authEnv);
    const incomplete =
      "auth: Incomplete configuration for 'client_credentials': configure all of these fields together, or none at all. Check the documentation for valid credential combinations.";

    it('accepts a server-only section and complete client credentials, with or without username and password', () => {
      expect(create({ client_id: CLIENT_ID })).to.not.throw();
      expect(create({ client_id: CLIENT_ID, client_secret: SECRET })).to.not.throw();
      expect(create({ client_id: CLIENT_ID, client_secret: SECRET, username: 'u', password: 'p' })).to.not.throw();
    });

    it('refuses incomplete client credentials', () => {
      expect(create({ client_secret: SECRET })).to.throw(incomplete);
      expect(create({ client_id: CLIENT_ID, client_secret: SECRET, username: 'u' })).to.throw(incomplete);
      expect(create({ client_id: CLIENT_ID, username: 'u', password: 'p' })).to.throw(incomplete);
    });

    it('refuses token and token_env_var next to auth_discovery_url, even with a null value, as Feast does', () => {
      expect(create({ client_id: CLIENT_ID, token: 'jwt' })).to.throw(incomplete);
      expect(create({ client_id: CLIENT_ID, token_env_var: 'MY_TOKEN_VAR' })).to.throw(incomplete);
      expect(create({ client_id: CLIENT_ID, token: null })).to.throw(incomplete);
    });

    it('refuses two complete sources', () => {
      expect(create({ client_id: CLIENT_ID, client_secret: SECRET, token: 'jwt' })).to.throw(
        'auth: Only one of [token, token_env_var, client_credentials] may be set, but got: token, client_credentials',
      );
    });
  });

  describe("through core's serviceTokenSource", () => {
    it('sends the unsigned intra-server token when INTRA_COMMUNICATION_BASE64 is set, without asking the IdP', async () => {
      const auth = provider(clientCredentials);
      const source = serviceTokenSource('oidc', auth);
      process.env.INTRA_COMMUNICATION_BASE64 = 'aW50cmEtc2VjcmV0';
      const before = tokenRequests();
      const token = (await source())!;
      expect(tokenRequests()).to.equal(before);
      const [header, payload, signature] = token.split('.');
      expect(JSON.parse(Buffer.from(header, 'base64url').toString())).to.deep.equal({ alg: 'none', typ: 'JWT' });
      expect(JSON.parse(Buffer.from(payload, 'base64url').toString())).to.deep.equal({ preferred_username: 'aW50cmEtc2VjcmV0' });
      expect(signature).to.equal('');

      delete process.env.INTRA_COMMUNICATION_BASE64;
      const own = (await source())!;
      expect(tokenRequests()).to.equal(before + 1);
      expect((await auth.authenticate(own)).username).to.equal(CLIENT_ID);
    });
  });
});
