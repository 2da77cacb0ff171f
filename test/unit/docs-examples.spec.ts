/**
 * docs/plugins.md and its examples stay true: every TypeScript and JavaScript sample in the guide
 * is a verbatim excerpt of a file the typecheck compiles (an example or the contract itself), and
 * the examples work — the arrow-file store passes the conformance kit, the auth providers accept
 * and refuse tokens, the registry plugin serves a registry over HTTP and refuses one it cannot read.
 */
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { UnauthenticatedError } from '../../core/src/auth.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { RegistryUnavailableError } from '../../core/src/registry/plugin.ts';
import { runConformance, storeConformanceChecks } from '../../core/src/testing/index.ts';
import arrowTarget from '../../docs/examples/arrow-file-store.conformance.ts';
import httpRegistry from '../../docs/examples/http-registry.ts';
import staticTokenAuth from '../../docs/examples/static-token-auth.ts';

const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');
const logger = pino({ level: 'silent' });

describe('docs/plugins.md: every code sample is an excerpt of a typechecked file', () => {
  const sources = [
    ...readdirSync(path.join(root, 'docs/examples')).map((f) => `docs/examples/${f}`),
    'core/src/store.ts',
    'core/src/auth.ts',
    'core/src/registry/plugin.ts',
    'core/src/testing/target.ts',
  ].map(read);
  const samples = [...read('docs/plugins.md').matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)].map((m) => m[2]!.trimEnd());

  it("finds the guide's samples (the contracts, each example plugin, the conformance target)", () => {
    expect(samples.length).to.be.greaterThanOrEqual(12);
  });

  it('each sample appears verbatim in docs/examples or the contract it shows', () => {
    const stray = samples.filter((sample) => !sources.some((text) => text.includes(sample)));
    expect(stray.map((s) => s.split('\n').slice(0, 3).join('\n'))).to.deep.equal([]);
  });
});

describe('docs/examples: the plugins work', function () {
  this.timeout(120_000);

  it('the arrow-file store passes every conformance check but the writes and the date mode, which it does not implement', async () => {
    const total = storeConformanceChecks(arrowTarget).checks.length;
    const report = await runConformance(arrowTarget);
    expect(report.results.filter((r) => r.status === 'failed').map((r) => `${r.name}: ${r.message}`)).to.deep.equal([]);
    expect(report).to.include({ failed: 0, notImplemented: 5, passed: total - 5 });
  });

  it('the static-token auth provider maps its tokens to users, refuses others, and its schema refuses unknown keys', async () => {
    const config = { type: './static-token-auth.js', users: { 'token-of-alice': { username: 'alice', roles: ['reader'] } } };
    validateSection(staticTokenAuth.configSchema, config, 'feature_store.yaml', 'auth');
    const provider = await staticTokenAuth.create(config, { repoPath: root, logger });
    expect(await provider.authenticate('token-of-alice')).to.deep.equal({
      username: 'alice',
      roles: ['reader'],
      groups: [],
      namespaces: [],
    });
    const refused = await provider.authenticate('token-of-mallory').catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(UnauthenticatedError);
    expect(() => validateSection(staticTokenAuth.configSchema, { ...config, user: {} }, 'feature_store.yaml', 'auth')).to.throw(
      'feature_store.yaml: auth.user: is not a known key here',
    );
  });

  it('the CommonJS auth provider loads, accepts its secret and refuses another token as UNAUTHENTICATED', async () => {
    const plugin = ((await import('../../docs/examples/shared-secret-auth.cjs')) as { default: typeof staticTokenAuth }).default;
    expect(plugin.kind).to.equal('auth');
    process.env.LARDER_DOCS_TEST_SECRET = 'correct horse';
    try {
      const provider = await plugin.create(
        { type: './shared-secret-auth.cjs', secret_env: 'LARDER_DOCS_TEST_SECRET', username: 'pipeline' },
        { repoPath: root, logger },
      );
      expect((await provider.authenticate('correct horse')).username).to.equal('pipeline');
      const refused = (await provider.authenticate('battery staple').catch((e: unknown) => e)) as { name: string; code: number };
      expect([refused.name, refused.code]).to.deep.equal(['UnauthenticatedError', 16]);
    } finally {
      delete process.env.LARDER_DOCS_TEST_SECRET;
    }
  });

  it('the HTTP registry serves what the URL holds, and refuses at start a URL it cannot read', async () => {
    const body = encodeRegistry({
      project: 'docs',
      dataSources: [{ kind: 'file', name: 'driver_source', path: 'x.parquet', timestampField: 'ts' }],
    });
    const server = http.createServer((req, res) => {
      if (req.url !== '/registry.db') return void res.writeHead(404).end();
      res.writeHead(200, { etag: '"v1"', 'content-length': body.length });
      res.end(req.method === 'GET' ? body : undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const env = { repoPath: root, project: 'docs', logger, serviceToken: async () => null };
    try {
      const registry = await httpRegistry.create(
        { registry_type: './http-registry.js', path: `${base}/registry.db`, cache_ttl_seconds: 60 },
        env,
      );
      try {
        const snapshot = await registry.snapshot();
        expect(snapshot.listDataSources('docs').map((s) => s.name)).to.deep.equal(['driver_source']);
      } finally {
        await registry.close();
      }
      const missing = await httpRegistry
        .create({ registry_type: './http-registry.js', path: `${base}/nothing.db` }, env)
        .catch((e: unknown) => e);
      expect(missing).to.be.instanceOf(RegistryUnavailableError);
      expect((missing as Error).message).to.match(/nothing\.db answered 404/);
    } finally {
      server.close();
    }
  });
});
