/**
 * feature_store.yaml.example at the top of the repository: its active configuration, each variant
 * and each optional key pass larder's own validation, and it documents exactly the keys that
 * core's schema and each built-in plugin's configSchema declare (test/support/yaml-example-check.ts).
 * The mutation cases prove the check fails when the file drifts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { EXAMPLE_PROJECT, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { startServer } from '../../core/src/server.ts';
import { checkExample } from '../support/yaml-example-check.ts';

const example = readFileSync(new URL('../../feature_store.yaml.example', import.meta.url), 'utf8');

/** The example with `from` (which must occur exactly once) replaced by `to`. */
function mutate(from: string, to: string): string {
  expect(example.split(from), `"${from}" occurs exactly once in the example`).to.have.length(2);
  return example.replace(from, to);
}

describe('feature_store.yaml.example', function () {
  // The first check loads every built-in plugin module (DuckDB, pg, jose, …).
  this.timeout(60_000);

  it('validates, active configuration, every variant and every optional key, and documents every declared key', async () => {
    const report = await checkExample(example);
    // The problems themselves as the message: chai abbreviates long arrays in its diff.
    expect(report.problems, `\n${report.problems.slice(0, 20).join('\n')}\n`).to.deep.equal([]);
    for (const name of [
      'active',
      'active + optional odfv_python',
      'variant "registry file (short form)"',
      'variant "registry sql"',
      'variant "registry sql" + optional read_path',
      'variant "registry remote" + optional cert',
      'variant "offline_store duckdb" + optional memory_limit',
      'variant "offline_store postgres" + optional sslrootcert_path',
      'variant "auth oidc" + optional client_secret',
      'variant "auth kubernetes" + optional kubeconfig',
    ]) {
      expect(report.checked).to.include(name);
    }
  });

  it('starts a real larder server from the active configuration, as written', async () => {
    // The example repo (larder example) supplies data/registry.db, where the example's registry points.
    const repo = mkdtempSync(path.join(tmpdir(), 'larder-yaml-example-serve-'));
    try {
      await writeExampleRepo(repo);
      writeFileSync(path.join(repo, 'feature_store.yaml'), mutate('project: my_project', `project: ${EXAMPLE_PROJECT}`));
      const server = await startServer({ chdir: repo, port: 0, logger: pino({ level: 'silent' }), env: {} });
      try {
        expect(server.port).to.be.above(0);
        expect(server.config.offlineStore).to.deep.equal({ type: 'file' });
        expect(server.config.larder.max_concurrent_calls).to.equal(64);
      } finally {
        await server.stop(1000);
      }
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  describe('fails when the file drifts', () => {
    it('a key of a plugin schema deleted from a variant', async () => {
      const text = mutate('#   max_conn: 10 # Default 10. Most connections open at once.\n', '');
      expect((await checkExample(text)).problems).to.deep.equal([
        'offline_store postgres: key max_conn is declared in its schema but missing from the example',
      ]);
    });

    it('a key of the larder: section deleted from the active configuration', async () => {
      const text = mutate("  odfv_timeout_seconds: 300 # Default 300. How long one batch's on-demand transformations may take.\n", '');
      expect((await checkExample(text)).problems).to.deep.equal([
        'larder (core/src/config/schema.ts): key odfv_timeout_seconds is declared in its schema but missing from the example',
      ]);
    });

    it('an optional (commented) key deleted', async () => {
      const text = mutate('#   # threads: 4 # larder only. DuckDB worker threads; default one per core.\n', '');
      expect((await checkExample(text)).problems).to.deep.equal([
        'offline_store duckdb: key threads is declared in its schema but missing from the example',
      ]);
    });

    it('a whole variant deleted', async () => {
      const start = example.indexOf('# --- variant: registry remote ---');
      const end = example.indexOf('# --- end variant ---', start) + '# --- end variant ---\n'.length;
      const problems = (await checkExample(example.slice(0, start) + example.slice(end))).problems;
      expect(problems).to.include('registry remote: key is_tls is declared in its schema but missing from the example');
      expect(problems).to.include('registry remote: key larder.timeout_seconds is declared in its schema but missing from the example');
    });

    it('an unknown key in the larder: section (refused by core schema)', async () => {
      const text = mutate('  max_queued_calls: 256', '  max_concurent_calls: 64\n  max_queued_calls: 256');
      const { problems } = await checkExample(text);
      expect(problems).to.include('active: <repo>/feature_store.yaml: larder.max_concurent_calls: is not a known key here');
      expect(problems).to.include(
        'larder (core/src/config/schema.ts): key max_concurent_calls is in the example but its schema does not declare it',
      );
    });

    it('an unknown key where the schema lets unknown keys through (auth kubernetes, like Feast)', async () => {
      const text = mutate('#   cache_max_entries: 10000', '#   cache_tll_seconds: 60\n#   cache_max_entries: 10000');
      expect((await checkExample(text)).problems).to.deep.equal([
        'auth kubernetes: key cache_tll_seconds is in the example but its schema does not declare it',
      ]);
    });

    it('an unknown optional key, and an unknown top-level key', async () => {
      const text = mutate('#   # read_path:', '#   # read_paths: sqlite:///x.db\n#   # read_path:').replace(
        'provider: local',
        'offline_stor: {type: file}\nprovider: local',
      );
      expect((await checkExample(text)).problems).to.deep.equal([
        'the top level (core/src/config/schema.ts): key offline_stor is in the example but its schema does not declare it',
        'registry sql: key read_paths is in the example but its schema does not declare it',
      ]);
    });

    it('a value its schema refuses', async () => {
      const text = mutate('#   sslmode: require #', '#   sslmode: required #');
      const { problems } = await checkExample(text);
      expect(problems).to.have.length.above(0);
      expect(problems[0]).to.match(
        /^variant "offline_store postgres": feature_store\.yaml\.example: offline_store\.sslmode: must be one of /,
      );
    });

    it('a line inside a variant that is not commented', async () => {
      const text = mutate('#   port: 5432 # Default 5432.', '  port: 5432 # Default 5432.');
      expect((await checkExample(text)).problems[0]).to.match(/^line \d+: inside variant "offline_store postgres" but not commented/);
    });
  });
});
