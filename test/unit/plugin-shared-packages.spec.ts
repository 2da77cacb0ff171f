/**
 * A plugin installed in the feature repo, with its own copies of its peer dependencies beside it
 * (as npm installs them), imports the server's @larder/core and apache-arrow: record batches it
 * builds are the server's kind, and its errors are the server's classes. Without the resolution
 * hook, the plugin below would get the decoy packages of its own node_modules.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import { expect } from 'chai';
import * as core from '../../core/src/index.ts';
import { createHooks } from '../../core/src/hooks.ts';
import { resolvePlugin, tapDefaultResolvers } from '../../core/src/plugins/resolve.ts';
import { isSharedPackage } from '../../core/src/plugins/shared-packages.ts';

const decoy = (name: string) => ({
  [`node_modules/${name}/package.json`]: JSON.stringify({ name, version: '0.0.0-decoy', type: 'module', exports: './index.js' }),
  [`node_modules/${name}/index.js`]:
    'export const decoy = true; export class Table {} export class InvalidArgumentError extends Error {}\n',
});

describe("plugins share the server's @larder/core and apache-arrow", () => {
  let repo: string;

  before(() => {
    repo = mkdtempSync(path.join(tmpdir(), 'larder-shared-'));
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ name: 'feature-repo', private: true }),
      ...decoy('apache-arrow'),
      ...decoy('@larder/core'),
      'node_modules/repo-store/package.json': JSON.stringify({
        name: 'repo-store',
        version: '1.0.0',
        type: 'module',
        exports: './index.js',
      }),
      'node_modules/repo-store/index.js': [
        "import * as arrow from 'apache-arrow';",
        "import * as core from '@larder/core';",
        "export default { kind: 'offline_store', name: 'repo-store', configSchema: {}, create() { return {}; }, seen: { arrow, core } };",
      ].join('\n'),
    };
    for (const [relative, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(repo, relative)), { recursive: true });
      writeFileSync(path.join(repo, relative), content);
    }
  });
  after(() => rmSync(repo, { recursive: true, force: true }));

  it("a plugin in the repo's node_modules gets the server's copies, not the ones beside it", async () => {
    const hooks = createHooks();
    tapDefaultResolvers(hooks);
    const plugin = (await resolvePlugin(hooks, 'offline_store', 'repo-store', { repoPath: repo })) as unknown as {
      seen: { arrow: Record<string, unknown>; core: Record<string, unknown> };
    };
    expect(plugin.seen.arrow.decoy, 'apache-arrow from the repo').to.equal(undefined);
    expect(plugin.seen.arrow.Table).to.equal(arrow.Table);
    expect(plugin.seen.core.decoy, '@larder/core from the repo').to.equal(undefined);
    expect(plugin.seen.core.InvalidArgumentError).to.equal(core.InvalidArgumentError);
  });

  it('shares exactly the packages a plugin must share, with their subpaths', () => {
    for (const name of ['@larder/core', '@larder/core/testing', '@larder/flight', 'apache-arrow', 'apache-arrow/ipc/metadata/message']) {
      expect(isSharedPackage(name), name).to.equal(true);
    }
    for (const name of ['apache-arrow-extra', '@larder/core-utils', '@larder/plugin-duckdb', 'parquet-wasm', './apache-arrow']) {
      expect(isSharedPackage(name), name).to.equal(false);
    }
  });
});
