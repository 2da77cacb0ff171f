import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createHooks } from '../../core/src/hooks.ts';
import { PluginResolutionError, resolvePlugin, tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';

const fixture = fileURLToPath(new URL('../fixtures/larder-store-static', import.meta.url));
const registryFixture = fileURLToPath(new URL('../fixtures/larder-registry-http', import.meta.url));

describe('plugin resolution (offline_store.type / auth.type / registry.registry_type)', () => {
  let repo: string;
  const hooks = createHooks();
  tapDefaultResolvers(hooks);

  before(function () {
    this.timeout(120_000);
    repo = mkdtempSync(path.join(tmpdir(), 'larder-plugins-'));
    writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'feature-repo', private: true }));
    // Installed the way a user installs a third-party store: npm, into the feature repo.
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', fixture, registryFixture], { cwd: repo, stdio: 'pipe' });
    writeFileSync(
      path.join(repo, 'local-store.mjs'),
      `export default { kind: 'offline_store', name: 'local', configSchema: {}, create() { return {}; } };\n`,
    );
    writeFileSync(path.join(repo, 'not-a-plugin.mjs'), 'export default { hello: 1 };\n');
  });

  after(() => rmSync(repo, { recursive: true, force: true }));

  it('resolves the built-in aliases and Feast class paths of the file store', async () => {
    for (const type of ['file', 'dask', 'feast.infra.offline_stores.dask.DaskOfflineStore']) {
      const plugin = await resolvePlugin(hooks, 'offline_store', type, { repoPath: repo });
      expect(plugin.name, type).to.equal('parquet-files');
    }
  });

  it('resolves an npm package installed in the feature repo', async () => {
    const plugin = await resolvePlugin(hooks, 'offline_store', 'larder-store-static', { repoPath: repo });
    expect(plugin.name).to.equal('larder-store-static');
    expect(plugin.kind).to.equal('offline_store');
  });

  it('resolves a module path relative to the feature repo', async () => {
    const plugin = await resolvePlugin(hooks, 'offline_store', './local-store.mjs', { repoPath: repo });
    expect(plugin.name).to.equal('local');
  });

  it('explains what went wrong for unknown types and modules that are not plugins', async () => {
    const failures: Array<[string, RegExp]> = [
      ['no-such-store-package', /offline_store.type "no-such-store-package" names no plugin/],
      ['./missing.mjs', /missing\.mjs \(from "\.\/missing\.mjs"\) does not exist/],
      ['./not-a-plugin.mjs', /is not a larder offline_store plugin/],
    ];
    for (const [type, expected] of failures) {
      const error = await resolvePlugin(hooks, 'offline_store', type, { repoPath: repo }).catch((e: Error) => e);
      expect(error, type).to.be.instanceOf(PluginResolutionError);
      expect((error as Error).message).to.match(expected);
    }
  });

  it('resolves registry types: file built in, sql and remote by Feast name or class path, third-party registries from npm', async () => {
    const expected: Array<[string, string]> = [
      ['file', 'file'],
      ['feast.infra.registry.registry.Registry', 'file'],
      ['sql', 'sql'],
      ['feast.infra.registry.sql.SqlRegistry', 'sql'],
      ['remote', 'remote'],
      ['feast.infra.registry.remote.RemoteRegistry', 'remote'],
      ['larder-registry-http', 'larder-registry-http'],
    ];
    for (const [type, name] of expected) {
      const plugin = await resolvePlugin(hooks, 'registry', type, { repoPath: repo });
      expect([plugin.kind, plugin.name], type).to.deep.equal(['registry', name]);
    }
  });

  it('explains registry types it cannot serve', async () => {
    const failures: Array<[string, RegExp]> = [
      [
        'snowflake.registry',
        /registry.registry_type "snowflake.registry" is a Feast registry larder has no plugin for \(Feast's feast.infra.registry.snowflake.SnowflakeRegistry\): serve the registry through `feast serve_registry`/,
      ],
      ['no-such-registry', /registry.registry_type "no-such-registry" names no plugin/],
      ['larder-store-static', /is not a larder registry plugin/],
    ];
    for (const [type, expected] of failures) {
      const error = await resolvePlugin(hooks, 'registry', type, { repoPath: repo }).catch((e: Error) => e);
      expect((error as Error).message, type).to.match(expected);
    }
  });

  it('refuses a store plugin offered as an auth provider', async () => {
    const error = await resolvePlugin(hooks, 'auth', 'larder-store-static', { repoPath: repo }).catch((e: Error) => e);
    expect((error as Error).message).to.match(/is not a larder auth plugin/);
  });
});
