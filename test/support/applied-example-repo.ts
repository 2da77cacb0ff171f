/**
 * The example repo (driver statistics, `larder example`) with its registry written by the real
 * `feast apply`, wherever the given `registry:` section puts it (a SQL registry, a file), and a
 * way to apply more objects with Feast's Python API afterwards, as a user's later apply would.
 *
 * Everything runs asynchronously: the larder under test may be serving in the test's own process.
 */
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXAMPLE_PROJECT, writeExampleRepo } from '../../core/src/example/write-example-repo.ts';
import { feastEnv } from './feast-repo.ts';
import { feastPython } from './feast-python.ts';

const run = promisify(execFile);

export { EXAMPLE_PROJECT };

/** Feast definitions matching the example's data (and `larder example`'s hand-written registry). */
const DEFINITIONS = `
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["driver_id"])
driver_hourly_stats_source = FileSource(
    name="driver_hourly_stats_source",
    path="data/driver_stats.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created",
)
driver_hourly_stats = FeatureView(
    name="driver_hourly_stats",
    entities=[driver],
    ttl=timedelta(days=1),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="acc_rate", dtype=Float32), Field(name="avg_daily_trips", dtype=Int64)],
    source=driver_hourly_stats_source,
)
`;

/** Writes feature_store.yaml for the example project with `registry` (YAML lines, indented) and `extra` lines. */
export function writeExampleYaml(
  repo: string,
  registryLines: readonly string[],
  extra: readonly string[] = [],
  file = 'feature_store.yaml',
): string {
  const yamlPath = path.join(repo, file);
  writeFileSync(
    yamlPath,
    [
      `project: ${EXAMPLE_PROJECT}`,
      'registry:',
      ...registryLines.map((line) => `  ${line}`),
      'provider: local',
      'offline_store:',
      '  type: file',
      ...extra,
      'entity_key_serialization_version: 3',
      '',
    ].join('\n'),
  );
  return yamlPath;
}

/** The example repo in `dir`, applied by `feast apply` into the registry `registryLines` describe. */
export async function applyExampleRepo(dir: string, registryLines: readonly string[], definitionsExtra = ''): Promise<string> {
  const repo = await writeRepoWithDefinitions(dir, registryLines, definitionsExtra);
  await feastApply(repo);
  return repo;
}

/**
 * The example repo in `dir` with its Feast definitions, as before the first `feast apply`: no
 * registry at all (the example's hand-written registry.db is removed).
 */
export async function writeUnappliedExampleRepo(dir: string, registryLines: readonly string[]): Promise<string> {
  const repo = await writeRepoWithDefinitions(dir, registryLines, '');
  rmSync(path.join(repo, 'data', 'registry.db'));
  return repo;
}

async function writeRepoWithDefinitions(dir: string, registryLines: readonly string[], definitionsExtra: string): Promise<string> {
  const repo = await writeExampleRepo(dir);
  writeExampleYaml(repo, registryLines);
  writeFileSync(path.join(repo, 'definitions.py'), DEFINITIONS + definitionsExtra);
  return repo;
}

/** The real `feast apply` in `repo` (asynchronous: a larder in the test's process keeps serving). */
export function feastApply(repo: string): Promise<void> {
  return feast(['-c', repo, 'apply'], repo);
}

/** Runs Python with `FeatureStore(repo_path=repo)` bound to `store`, then `code` (e.g. `store.apply([...])`). */
export async function withFeatureStore(repo: string, code: string): Promise<void> {
  const script = `from feast import FeatureStore\nstore = FeatureStore(repo_path=${JSON.stringify(repo)})\n${code}\n`;
  await explain(run(feastPython().python, ['-c', script], { cwd: repo, env: feastEnv(), timeout: 120_000 }), 'python with FeatureStore');
}

async function feast(args: string[], cwd: string): Promise<void> {
  await explain(run(feastPython().feast, args, { cwd, env: feastEnv(), timeout: 180_000 }), `feast ${args.join(' ')}`);
}

async function explain(promise: Promise<unknown>, what: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${what} failed: ${e.message}\n${(e.stdout ?? '') + (e.stderr ?? '')}`.slice(0, 6000));
  }
}
