import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { expandVars } from '../../core/src/config/expand.ts';
import { loadRepoConfig, locateConfig } from '../../core/src/config/load.ts';
import { validateSection } from '../../core/src/config/validate.ts';

const made: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'larder-cfg-'));
  made.push(dir);
  return dir;
}

function repoWith(yaml: string): string {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'feature_store.yaml'), yaml);
  return dir;
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('config: feature_store.yaml', () => {
  after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('expands $VAR and ${VAR} like os.path.expandvars, leaving unset ones verbatim', () => {
    expect(expandVars('a=$A b=${B} c=$C d=${D}x', { A: '1', B: '2' })).to.equal('a=1 b=2 c=$C d=${D}x');
  });

  it('reads the repo of --chdir with defaults for offline_store and auth', async () => {
    const dir = repoWith('project: demo\nregistry: ${REG}\n');
    const config = await loadRepoConfig({ chdir: dir, env: { REG: 'data/r.db' } });
    expect(config.repoPath).to.equal(dir);
    expect(config.registry).to.equal('data/r.db');
    expect(config.offlineStore).to.deep.equal({ type: 'dask' });
    expect(config.auth).to.deep.equal({ type: 'no_auth' });
  });

  it('finds the file as Feast does: -f overrides, env FEATURE_REPO_DIR_ENV_VAR and FEAST_FS_YAML_FILE_PATH', () => {
    expect(locateConfig({ cwd: '/x', env: {} })).to.deep.equal({ repoPath: '/x', configPath: '/x/feature_store.yaml' });
    expect(locateConfig({ cwd: '/x', env: { FEATURE_REPO_DIR_ENV_VAR: 'r' } }).repoPath).to.equal('/x/r');
    expect(locateConfig({ cwd: '/x', chdir: 'r', featureStoreYaml: 'o.yaml', env: {} }).configPath).to.equal('/x/o.yaml');
    expect(locateConfig({ cwd: '/x', chdir: 'r', env: { FEAST_FS_YAML_FILE_PATH: '/y/f.yaml' } }).configPath).to.equal('/y/f.yaml');
  });

  it('decodes FEATURE_STORE_YAML_BASE64 into a fresh repo directory', async () => {
    const yaml = 'project: b64\nregistry: data/registry.db\n';
    const config = await loadRepoConfig({ env: { FEATURE_STORE_YAML_BASE64: Buffer.from(yaml).toString('base64') } });
    expect(config.project).to.equal('b64');
    expect(config.configPath).to.equal(path.join(config.repoPath, 'feature_store.yaml'));
    expect(config.repoPath.startsWith(tmpdir())).to.equal(true);
    made.push(config.repoPath);
  });

  it('reads a -f file of any name as YAML with $VAR expansion, as Feast does', async () => {
    for (const name of ['feast-config', 'store.conf', 'store.json']) {
      const dir = tempDir();
      writeFileSync(path.join(dir, name), 'project: ${PROJECT}\nregistry: data/r.db\n');
      const config = await loadRepoConfig({ chdir: dir, featureStoreYaml: path.join(dir, name), env: { PROJECT: 'named' } });
      expect(config.project, name).to.equal('named');
    }
  });

  it('names the file, key path and expectation on errors', async () => {
    const noRegistry = repoWith('project: demo\n');
    expect((await errorOf(loadRepoConfig({ chdir: noRegistry }))).message).to.equal(
      `${noRegistry}/feature_store.yaml: registry: Registry is not set, but is required`,
    );
    const badMode = repoWith('project: demo\nregistry: {path: r.db, cache_mode: fast}\n');
    expect((await errorOf(loadRepoConfig({ chdir: badMode }))).message).to.equal(
      `${badMode}/feature_store.yaml: registry.cache_mode: must be one of "sync", "thread"`,
    );
    const noType = repoWith('project: demo\nregistry: r.db\noffline_store: {path: x}\n');
    expect((await errorOf(loadRepoConfig({ chdir: noType }))).message).to.match(/offline_store\.type: is required$/);
    const badYaml = repoWith('project: [demo\n');
    expect((await errorOf(loadRepoConfig({ chdir: badYaml }))).message).to.match(
      /feature_store\.yaml: line \d+, column \d+: is not valid YAML/,
    );
    const missing = tempDir();
    mkdirSync(path.join(missing, 'sub'));
    expect((await errorOf(loadRepoConfig({ chdir: path.join(missing, 'sub') }))).message).to.equal(
      `${path.join(missing, 'sub', 'feature_store.yaml')}: Can't find feature repo configuration file here. Make sure you're running larder from an initialized feature repository (or pass -c/--chdir or -f/--feature-store-yaml).`,
    );
    const empty = repoWith('# nothing but a comment\n');
    expect((await errorOf(loadRepoConfig({ chdir: empty }))).message).to.equal(
      `${empty}/feature_store.yaml: must be a YAML mapping of keys to values`,
    );
  });

  it('validates a plugin section with its schema and names unknown keys', () => {
    const schema = { type: 'object', additionalProperties: false, properties: { type: { const: 'file' } } };
    expect(() => validateSection(schema, { type: 'file', extra: 1 }, 'fs.yaml', 'offline_store')).to.throw(
      'fs.yaml: offline_store.extra: is not a known key here',
    );
    expect(() => validateSection(schema, { type: 'x' }, 'fs.yaml', 'offline_store')).to.throw(
      'fs.yaml: offline_store.type: must be "file"',
    );
  });
});
