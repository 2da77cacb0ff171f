/**
 * Where a `type:` string finds its plugin, and what the user is told when it does not: npm names
 * from the feature repo's node_modules, then larder's own install, then the global one; ESM-only
 * and CommonJS packages; repo-relative .js/.mjs/.cjs files; modules that exist but fail to load;
 * typos and Feast types larder has no plugin for. Every module here is real, written into a
 * temporary directory and loaded by Node.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { InvalidArgumentError } from '../../core/src/errors.ts';
import { createHooks, type ResolveContext } from '../../core/src/hooks.ts';
import { pluginConditionSets, userConditions } from '../../core/src/plugins/conditions.ts';
import { packageEntry } from '../../core/src/plugins/package-entry.ts';
import { PluginResolutionError, resolvePlugin, tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';
import { larderOwnDirs } from '../../core/src/plugins/search-paths.ts';

const checkoutNodeModules = fileURLToPath(new URL('../../node_modules', import.meta.url));

/** A plugin written as ESM source text: a plain object literal, no import of @larder/core. */
const esmPlugin = (name: string, kind = 'offline_store') =>
  `export default { kind: '${kind}', name: '${name}', configSchema: {}, create() { return {}; } };\n`;
const cjsPlugin = (name: string) =>
  `module.exports = { kind: 'offline_store', name: '${name}', configSchema: {}, create() { return {}; } };\n`;

function writeTree(root: string, files: Record<string, string | object>): void {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: Error) => e,
  );
  if (!error) throw new Error('expected the resolution to fail');
  expect(error).to.be.instanceOf(PluginResolutionError);
  return error;
}

describe('plugin resolution: where modules are found, and why they are not', () => {
  const hooks = createHooks();
  tapDefaultResolvers(hooks);
  let root: string;
  let repo: string;
  let globalPrefix: string;
  let nodePathDir: string;
  let ctx: ResolveContext;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), 'larder-resolve-'));
    repo = path.join(root, 'repo');
    globalPrefix = path.join(root, 'global');
    nodePathDir = path.join(root, 'node-path');
    ctx = { repoPath: repo, env: { npm_config_prefix: globalPrefix, NODE_PATH: nodePathDir } };
    writeTree(repo, {
      'package.json': { name: 'feature-repo', private: true },
      // ESM-only: `exports` has only an `import` condition, which createRequire().resolve() cannot see.
      'node_modules/esm-only-store/package.json': {
        name: 'esm-only-store',
        type: 'module',
        exports: { '.': { import: './index.js' }, './sub': { node: { import: './sub.js' } } },
      },
      'node_modules/esm-only-store/index.js': esmPlugin('esm-only'),
      'node_modules/esm-only-store/sub.js': esmPlugin('esm-only-sub'),
      // CommonJS, found through `main` (no `type`, so .js is CommonJS), scoped.
      'node_modules/@acme/cjs-store/package.json': { name: '@acme/cjs-store', main: 'lib/main.js' },
      'node_modules/@acme/cjs-store/lib/main.js': cjsPlugin('cjs-main'),
      'node_modules/@acme/cjs-store/lib/extra.js': cjsPlugin('cjs-extra'),
      // CommonJS behind a `require`-only export, written as a transpiler writes a default export.
      'node_modules/require-only-store/package.json': { name: 'require-only-store', exports: { require: './index.cjs' } },
      'node_modules/require-only-store/index.cjs': `exports.__esModule = true;\nexports.default = ${cjsPlugin('require-only').replace('module.exports = ', '').trim()}\n`,
      // Installed in the repo AND globally: the repo's copy wins.
      'node_modules/shadowed-store/package.json': { name: 'shadowed-store', type: 'module', main: 'index.js' },
      'node_modules/shadowed-store/index.js': esmPlugin('shadowed-from-repo'),
      // A package that exists but whose own import fails.
      'node_modules/broken-dependency-store/package.json': { name: 'broken-dependency-store', type: 'module', exports: './index.js' },
      'node_modules/broken-dependency-store/index.js': `import 'left-pad-that-was-never-installed';\n${esmPlugin('broken')}`,
      // A package that exists but exports nothing Node could import.
      'node_modules/no-entry-store/package.json': { name: 'no-entry-store', type: 'module', exports: { './only-this': './x.js' } },
      'node_modules/no-entry-store/x.js': esmPlugin('no-entry'),
      // Named like a package larder itself depends on: the repo's copy is the one a user means.
      'node_modules/tapable/package.json': { name: 'tapable', main: 'plugin.js' },
      'node_modules/tapable/plugin.js': cjsPlugin('tapable-from-repo'),
      // Files next to feature_store.yaml, in a directory whose package.json has no `type`.
      'cjs-plugin.js': cjsPlugin('cjs-file'),
      'esm-plugin.mjs': esmPlugin('mjs-file'),
      'default-export.cjs': `exports.default = { kind: 'offline_store', name: 'cjs-default', configSchema: {}, create() { return {}; } };\n`,
      'plugins/local-dir/package.json': { name: 'local-dir', type: 'module', exports: { import: './entry.js' } },
      'plugins/local-dir/entry.js': esmPlugin('local-dir'),
      'imports-missing.mjs': `import { something } from 'a-package-nobody-installed';\n${esmPlugin('never')}`,
      // Written as plugin authors write them; the temp dir has no @larder/core above it.
      'imports-core.mjs': `import { InvalidArgumentError } from '@larder/core';\nexport default { kind: 'offline_store', name: 'uses-core', configSchema: {}, create() { return {}; }, errorClass: InvalidArgumentError };\n`,
      'syntax-error.mjs': 'export default { kind: "offline_store",\n',
      'syntax-error.cjs': 'module.exports = { kind: "offline_store",\n',
      'throws.cjs': `throw new Error('the plugin could not reach its licence server');\n`,
    });
    writeTree(path.join(globalPrefix, process.platform === 'win32' ? 'node_modules' : 'lib/node_modules'), {
      'global-only-store/package.json': { name: 'global-only-store', type: 'module', exports: { node: './index.js' } },
      'global-only-store/index.js': esmPlugin('global-only'),
      'shadowed-store/package.json': { name: 'shadowed-store', type: 'module', main: 'index.js' },
      'shadowed-store/index.js': esmPlugin('shadowed-from-global'),
    });
    writeTree(nodePathDir, {
      'node-path-store/package.json': { name: 'node-path-store' },
      'node-path-store/index.js': cjsPlugin('node-path'),
    });
  });

  after(() => rmSync(root, { recursive: true, force: true }));

  const nameOf = async (type: string, kind: 'offline_store' | 'auth' | 'registry' = 'offline_store') =>
    (await resolvePlugin(hooks, kind, type, ctx)).name;

  describe('npm package names', () => {
    it('load an ESM-only package (exports with only an import condition) from the repo, and its nested-condition subpath', async () => {
      expect(await nameOf('esm-only-store')).to.equal('esm-only');
      expect(await nameOf('esm-only-store/sub')).to.equal('esm-only-sub');
    });

    it('load a scoped CommonJS package through main, and a subpath of it', async () => {
      expect(await nameOf('@acme/cjs-store')).to.equal('cjs-main');
      expect(await nameOf('@acme/cjs-store/lib/extra.js')).to.equal('cjs-extra');
    });

    it('load a CommonJS package exported only under `require`, whose default export is exports.default', async () => {
      expect(await nameOf('require-only-store')).to.equal('require-only');
    });

    it('prefer the repo over the global install, and find a package installed only globally or on NODE_PATH', async () => {
      expect(await nameOf('shadowed-store')).to.equal('shadowed-from-repo');
      expect(await nameOf('global-only-store')).to.equal('global-only');
      expect(await nameOf('node-path-store')).to.equal('node-path');
    });

    it("prefer the repo's copy over larder's own install", async () => {
      expect(await nameOf('tapable')).to.equal('tapable-from-repo');
    });

    it("count the real location of the CLI entry (a .bin symlink) as larder's own install", () => {
      const install = path.join(root, 'cli-install');
      writeTree(install, { 'lib/node_modules/larder/bin/larder.js': '' });
      mkdirSync(path.join(install, 'bin'));
      symlinkSync('../lib/node_modules/larder/bin/larder.js', path.join(install, 'bin', 'larder'));
      const dirs = larderOwnDirs(path.join(install, 'bin', 'larder'));
      expect(dirs).to.include(path.join(install, 'lib/node_modules/larder/node_modules'));
      expect(dirs).to.include(path.join(install, 'lib/node_modules'));
      expect(dirs).to.include(checkoutNodeModules);
    });

    it("find a package in larder's own install when the repo has none", async () => {
      // The duckdb store, named by its npm name rather than by its alias: found from core's location.
      expect(await nameOf('@larder/plugin-duckdb')).to.equal('duckdb');
    });

    it('say where they looked when no package has the name', async () => {
      const error = await failure(resolvePlugin(hooks, 'offline_store', 'no-such-store-anywhere', ctx));
      expect(error.message).to.include('offline_store.type "no-such-store-anywhere" names no plugin');
      expect(error.message).to.include(`the feature repo's node_modules (${path.join(repo, 'node_modules')}`);
      expect(error.message).to.include(checkoutNodeModules);
      expect(error.message).to.include(path.join(globalPrefix, 'lib', 'node_modules'));
      expect(error.message).to.include(nodePathDir);
    });

    it("report a package that exists but whose own import fails with that module's error, not as missing", async () => {
      const error = await failure(resolvePlugin(hooks, 'offline_store', 'broken-dependency-store', ctx));
      expect(error.message).to.include('failed to load');
      expect(error.message).to.include("Cannot find package 'left-pad-that-was-never-installed'");
      expect(error.message).not.to.match(/does not exist|names no plugin/);
    });

    it('report a package that exists but exports no importable entry', async () => {
      const error = await failure(resolvePlugin(hooks, 'offline_store', 'no-entry-store', ctx));
      expect(error.message).to.include(path.join(repo, 'node_modules', 'no-entry-store'));
      expect(error.message).to.match(/exports no entry for "\."/);
    });
  });

  describe('paths relative to the feature repo', () => {
    it('load a CommonJS .js file (module.exports), an .mjs file, and a .cjs file whose default is exports.default', async () => {
      expect(await nameOf('./cjs-plugin.js')).to.equal('cjs-file');
      expect(await nameOf('./esm-plugin.mjs')).to.equal('mjs-file');
      expect(await nameOf('./default-export.cjs')).to.equal('cjs-default');
      // (ESM syntax in a .js file of a CommonJS-scoped directory loads under plain Node, which detects
      // the syntax, but not under tsx's ESM hooks that these tests run with: ERR_REQUIRE_CYCLE_MODULE.)
      expect(await nameOf(path.join(repo, 'esm-plugin.mjs'))).to.equal('mjs-file');
    });

    it('load a directory holding a package through its exports', async () => {
      expect(await nameOf('./plugins/local-dir')).to.equal('local-dir');
    });

    it("show the module's own error when its import of a dependency fails (it was reported as 'does not exist')", async () => {
      const error = await failure(resolvePlugin(hooks, 'offline_store', './imports-missing.mjs', ctx));
      expect(error.message).to.include(
        `plugin module ${path.join(repo, 'imports-missing.mjs')} (from "./imports-missing.mjs") failed to load`,
      );
      expect(error.message).to.include("Cannot find package 'a-package-nobody-installed'");
      expect(error.message).not.to.include('does not exist');
    });

    it('show a syntax error and an error thrown at import time as what they are', async () => {
      const syntax = await failure(resolvePlugin(hooks, 'offline_store', './syntax-error.mjs', ctx));
      expect(syntax.message).to.match(/syntax-error\.mjs \(from "\.\/syntax-error\.mjs"\) failed to load: SyntaxError/);
      const cjsSyntax = await failure(resolvePlugin(hooks, 'offline_store', './syntax-error.cjs', ctx));
      expect(cjsSyntax.message).to.include(
        `failed to load: SyntaxError: Unexpected end of input (at ${path.join(repo, 'syntax-error.cjs')}:2)`,
      );
      const thrown = await failure(resolvePlugin(hooks, 'offline_store', './throws.cjs', ctx));
      expect(thrown.message).to.include('failed to load: Error: the plugin could not reach its licence server');
    });

    it("give a module that imports @larder/core, with no node_modules of its own, the server's core", async () => {
      const plugin = (await resolvePlugin(hooks, 'offline_store', './imports-core.mjs', ctx)) as unknown as {
        name: string;
        errorClass: unknown;
      };
      expect(plugin.name).to.equal('uses-core');
      expect(plugin.errorClass).to.equal(InvalidArgumentError);
    });

    it('say "no such module" for a file that is not there', async () => {
      const error = await failure(resolvePlugin(hooks, 'offline_store', './nowhere.mjs', ctx));
      expect(error.message).to.include(`no such module: ${path.join(repo, 'nowhere.mjs')} (from "./nowhere.mjs") does not exist`);
    });
  });

  describe('types that name nothing', () => {
    it('suggest the nearest built-in type and list the built-in types of the section', async () => {
      const auth = await failure(resolvePlugin(hooks, 'auth', 'oicd', ctx));
      expect(auth.message).to.include('auth.type "oicd" names no plugin (did you mean "oidc"?)');
      expect(auth.message).to.include('built-in auth types: no_auth, oidc, kubernetes');
      const store = await failure(resolvePlugin(hooks, 'offline_store', 'duckbd', ctx));
      expect(store.message).to.include('did you mean "duckdb"?');
      expect(store.message).to.include('built-in offline_store types: file, dask, duckdb, postgres');
      const registry = await failure(resolvePlugin(hooks, 'registry', 'sqll', ctx));
      expect(registry.message).to.include('did you mean "sql"?');
      const far = await failure(resolvePlugin(hooks, 'offline_store', 'completely-unrelated', ctx));
      expect(far.message).not.to.include('did you mean');
    });

    it('name a Feast store larder has no plugin for, with its Feast class, and say how to get one', async () => {
      for (const type of [
        'bigquery',
        'snowflake.offline',
        'feast.infra.offline_stores.contrib.spark_offline_store.spark.SparkOfflineStore',
      ]) {
        const error = await failure(resolvePlugin(hooks, 'offline_store', type, ctx));
        expect(error.message, type).to.include(`offline_store.type "${type}" is a Feast store larder has no plugin for`);
        expect(error.message, type).to.include('install a larder plugin package for it');
      }
      const bigquery = await failure(resolvePlugin(hooks, 'offline_store', 'bigquery', ctx));
      expect(bigquery.message).to.include('feast.infra.offline_stores.bigquery.BigQueryOfflineStore');
    });
  });

  describe('package.json exports, read as Node reads them', () => {
    it('honour the larder-source condition only when the process runs with it', () => {
      expect(userConditions(['--import', 'tsx/esm', '--conditions=larder-source'], '')).to.deep.equal(['larder-source']);
      expect(userConditions([], '--max-old-space-size=512 -C larder-source')).to.deep.equal(['larder-source']);
      expect(userConditions(['--conditions', 'larder-source'], '')).to.deep.equal(['larder-source']);
      expect(userConditions(['--import', 'tsx/esm'], '')).to.deep.equal([]);
      const dir = path.join(root, 'conditional');
      writeTree(dir, { 'src/x.ts': '', 'dist/x.js': '' });
      const manifest = { exports: { '.': { 'larder-source': './src/x.ts', types: './dist/x.d.ts', default: './dist/x.js' } } };
      expect(packageEntry(dir, manifest, '.', pluginConditionSets(['larder-source']))).to.equal(path.join(dir, 'src/x.ts'));
      expect(packageEntry(dir, manifest, '.', pluginConditionSets([]))).to.equal(path.join(dir, 'dist/x.js'));
    });

    it('resolve subpath patterns and fallback arrays, and never leave the package directory', () => {
      const dir = path.join(root, 'patterns');
      writeTree(dir, { 'lib/stores/a.mjs': '', 'lib/b.cjs': '' });
      const conditions = pluginConditionSets([]);
      const manifest = {
        exports: { './stores/*': './lib/stores/*.mjs', './b': [{ worker: './nope.js' }, './lib/b.cjs'], './up': '../outside.js' },
      };
      expect(packageEntry(dir, manifest, './stores/a', conditions)).to.equal(path.join(dir, 'lib/stores/a.mjs'));
      expect(packageEntry(dir, manifest, './b', conditions)).to.equal(path.join(dir, 'lib/b.cjs'));
      expect(packageEntry(dir, manifest, './up', conditions)).to.equal(undefined);
      expect(packageEntry(dir, manifest, './stores/missing', conditions)).to.equal(undefined);
    });
  });
});
