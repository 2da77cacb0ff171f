/**
 * examples/auth-plugin (larder-auth-apikey), a third-party auth provider written in CommonJS, in
 * a real larder process that loads it by absolute path (`auth.type`), called by the unchanged Feast
 * client: the right API key reads, a wrong one is refused as unauthenticated, the user's roles
 * are what Feast's permissions see, and a key missing from the environment stops the server.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { feastClientPull, fixturePackage, installPackages, writeGuardedRepo } from '../support/guarded-repo.ts';
import { startLarder, type ServerProcess } from '../support/larder-process.ts';

const pluginPath = fileURLToPath(new URL('../../examples/auth-plugin/index.js', import.meta.url));

describe('examples/auth-plugin (larder-auth-apikey, CommonJS) in a larder process, called by the Feast client', function () {
  this.timeout(180_000);
  let repo: string;
  let server: ServerProcess | undefined;
  const keys = { RITA_API_KEY: randomBytes(24).toString('hex'), NED_API_KEY: randomBytes(24).toString('hex') };
  // Feast's kubernetes client auth sends a fixed `user_token` as the bearer token.
  const pullWith = (token: string) => feastClientPull(repo, server!.port, ['auth:', '  type: kubernetes', `  user_token: ${token}`]);

  before(async () => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-example-auth-'));
    installPackages(repo, [fixturePackage('larder-store-static')]);
    writeGuardedRepo(
      repo,
      [
        'auth:',
        `  type: ${pluginPath}`,
        '  keys:',
        '    - {token_env: RITA_API_KEY, user: rita, roles: [reader]}',
        '    - {token_env: NED_API_KEY, user: ned, roles: [viewer]}',
      ],
      [{ name: 'read_sources', types: ['DATA_SOURCE'], actions: ['READ_OFFLINE'], policy: { kind: 'role', roles: ['reader'] } }],
    );
    server = await startLarder({ repoPath: repo, env: keys });
  });

  after(async () => {
    await server?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it('the right API key reads data', async () => {
    expect(await pullWith(keys.RITA_API_KEY)).to.equal('rows 1');
  });

  it('a wrong API key is refused as unauthenticated, and says so', async () => {
    const output = await pullWith(keys.RITA_API_KEY.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')));
    expect(output).to.match(
      /^pyarrow\._flight\.FlightUnauthenticatedError .*Invalid API key: it matches none of the keys configured in auth\.keys/,
    );
  });

  it("the user's roles are what Feast's permissions check", async () => {
    expect(await pullWith(keys.NED_API_KEY)).to.equal(
      "feast.errors.FeastPermissionError Permission error: | Permission read_sources denied execution of ['READ_OFFLINE'] to FileSource:driver_source: Requires roles ['reader']",
    );
  });

  it('a key missing from the environment stops the server at start, naming the variable', async () => {
    const error = await startLarder({ repoPath: repo, env: { ...keys, NED_API_KEY: '' } }).then(
      async (unexpected) => {
        await unexpected.stop();
        throw new Error('larder started without NED_API_KEY');
      },
      (e: Error) => e,
    );
    expect(error.message).to.include('auth.keys[1] (user ned): environment variable NED_API_KEY is not set or empty');
  });
});
