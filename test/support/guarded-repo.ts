/**
 * Shared pieces of the specs that serve a guarded feature repo — project `guarded`, the
 * `larder-store-static` fixture store with one row of `driver_source`, a view `driver_stats` over
 * it, an `auth:` section and permissions — and call it over Flight or through the Feast client.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tableFromArrays } from 'apache-arrow';
import type { PermissionDraft } from '../../core/src/registry/draft.ts';
import { encodeRegistry } from '../../core/src/registry/encode.ts';
import { feastPython } from './feast-python.ts';
import { feastEnv } from './feast-repo.ts';

const execFileAsync = promisify(execFile);

/** A fixture package under test/fixtures, by directory name. */
export function fixturePackage(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
}

/** Makes `repo` an npm project and installs `packages` (paths) into it, as a user would. */
export function installPackages(repo: string, packages: readonly string[]): void {
  writeFileSync(path.join(repo, 'package.json'), JSON.stringify({ name: 'feature-repo', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packages], { cwd: repo, stdio: 'pipe' });
}

/** Writes the guarded repo's registry: `driver_source`, the view `driver_stats`, `permissions`. */
export function writeGuardedRegistry(repo: string, permissions: readonly PermissionDraft[]): void {
  mkdirSync(path.join(repo, 'data'), { recursive: true });
  writeFileSync(
    path.join(repo, 'data', 'registry.db'),
    encodeRegistry({
      project: 'guarded',
      dataSources: [{ kind: 'file', name: 'driver_source', path: 'x.parquet', timestampField: 'ts' }],
      featureViews: [{ name: 'driver_stats', source: 'driver_source', features: [{ name: 'conv_rate', valueType: 'DOUBLE' }] }],
      permissions,
    }),
  );
}

/**
 * Writes the guarded repo into `repo` (where `larder-store-static` is installed): its
 * feature_store.yaml with the given `auth:` lines, and its registry.
 */
export function writeGuardedRepo(repo: string, authLines: readonly string[], permissions: readonly PermissionDraft[]): void {
  writeFileSync(
    path.join(repo, 'feature_store.yaml'),
    [
      'project: guarded',
      'registry: data/registry.db',
      'offline_store:',
      '  type: larder-store-static',
      '  rows: [{driver_id: 1, conv_rate: 0.5}]',
      ...authLines,
      '',
    ].join('\n'),
  );
  writeGuardedRegistry(repo, permissions);
}

/** Feast's `pull_all_from_table_or_query` command on `driver_source`, as the client sends it. */
export function pullAllCommand(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    command_id: Math.random().toString(36).slice(2),
    api: 'pull_all_from_table_or_query',
    data_source_name: 'driver_source',
    join_key_columns: ['driver_id'],
    feature_name_columns: ['conv_rate'],
    timestamp_field: 'ts',
    created_timestamp_column: null,
    start_date: '2021-01-01T00:00:00',
    end_date: '2022-01-01T00:00:00+00:00',
    ...extra,
  });
}

/** The placeholder table Feast uploads with a read command. */
export const placeholderTable = () => tableFromArrays({ key: ['mock_key'] });

/** What `promise` rejects with (a gRPC error carries `code` and `details`); throws if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code: number; details: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code: number; details: string };
  }
  throw new Error('expected a failure');
}

/**
 * The unchanged Feast client pulls `driver_source`; prints `rows N` or the error's class and text
 * (newlines shown as " | ").
 */
const CLIENT_PULL = `
import sys, datetime
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
try:
    job = store._get_provider().offline_store.pull_all_from_table_or_query(
        config=store.config, data_source=store.get_data_source("driver_source"), join_key_columns=["driver_id"],
        feature_name_columns=["conv_rate"], timestamp_field="ts", created_timestamp_column=None,
        start_date=datetime.datetime(2021, 1, 1, tzinfo=datetime.timezone.utc), end_date=datetime.datetime(2022, 1, 1, tzinfo=datetime.timezone.utc))
    print("rows", len(job.to_arrow()))
except Exception as e:
    print(type(e).__module__ + "." + type(e).__name__, str(e).replace("\\n", " | "))
`;

/**
 * A Feast client's repo inside `repo`: project `project`, `repo`'s registry read locally, the
 * offline store remote at 127.0.0.1:`port`, with the given `auth:` lines. Returns its directory.
 */
export function writeRemoteClientRepo(repo: string, project: string, port: number, authLines: readonly string[]): string {
  const client = mkdtempSync(path.join(repo, 'client-'));
  writeFileSync(
    path.join(client, 'feature_store.yaml'),
    [
      `project: ${project}`,
      `registry: ${path.join(repo, 'data', 'registry.db')}`,
      'provider: local',
      'offline_store:',
      '  type: remote',
      '  host: 127.0.0.1',
      `  port: ${port}`,
      ...authLines,
      'entity_key_serialization_version: 3',
      '',
    ].join('\n'),
  );
  return client;
}

/**
 * One pull by the Feast client from a server on `port` serving `repo` (project `guarded`), with
 * the given `auth:` lines; returns the client's last output line.
 * Asynchronous on purpose: when the server runs in the test's process it must keep answering.
 */
export async function feastClientPull(repo: string, port: number, authLines: readonly string[]): Promise<string | undefined> {
  const client = writeRemoteClientRepo(repo, 'guarded', port, authLines);
  const { stdout } = await execFileAsync(feastPython().python, ['-c', CLIENT_PULL, client], {
    env: feastEnv(),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return stdout.trim().split('\n').pop();
}
