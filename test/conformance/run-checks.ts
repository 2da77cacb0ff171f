/**
 * Runs checks.py once against a running server and collects its JSON lines. Shared by the mocha
 * suite (larder) and oracle.ts (Feast's own server).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { feastPython } from '../support/feast-python.ts';
import { CONFORMANCE_DIR, type FeastRepo } from '../support/feast-repo.ts';

export interface CatalogueEntry {
  readonly name: string;
  readonly about: string;
  /** Skipped against Feast's own server (e.g. larder refuses ODFVs, Feast computes them). */
  readonly larderOnly?: boolean;
  /** The server offline store types this check applies to (default: all). */
  readonly stores?: readonly string[];
  /**
   * Per Feast oracle store (`file`, `postgres`; see oracleStore): why Feast's server breaks the
   * rule here. Against that Feast server the check is expected to fail.
   */
  readonly feastDiffers?: Readonly<Record<string, string>>;
}

/** The Feast store that is the oracle of a server store type (harness.py's oracle_store). */
export function oracleStore(store: string): string {
  return store === 'postgres' ? 'postgres' : 'file';
}

/** Why Feast's own store breaks the rule in this check for a server of type `store`, if it does. */
export function feastDiffersFor(entry: CatalogueEntry, store: string): string | undefined {
  return entry.feastDiffers?.[oracleStore(store)];
}

/** The catalogue entries that apply to a server store type, in run order. */
export function applicableChecks(store: string): CatalogueEntry[] {
  return loadCatalogue().filter((entry) => !entry.stores || entry.stores.includes(store));
}

export interface CheckResult {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly seconds: number;
  readonly skipped?: boolean;
}

export interface ChecksRun {
  readonly results: Map<string, CheckResult>;
  /** checks.py printed its final line: it was not killed half way. */
  readonly finished: boolean;
  /** Python's stderr (Feast's logs and warnings), for failure messages. */
  readonly stderr: string;
  readonly exitCode: number;
}

export function loadCatalogue(): CatalogueEntry[] {
  return (JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'checks.json'), 'utf8')) as { checks: CatalogueEntry[] }).checks;
}

export function runChecks(
  repo: FeastRepo,
  clientDir: string,
  target: 'larder' | 'feast',
  options: { only?: readonly string[]; timeoutMs?: number } = {},
): Promise<ChecksRun> {
  const args = [
    join(CONFORMANCE_DIR, 'checks.py'),
    '--remote',
    clientDir,
    '--local-yaml',
    repo.localYaml,
    '--repo',
    repo.serverRepo,
    '--work',
    join(repo.root, 'work'),
    '--target',
    target,
    '--store',
    repo.store,
    ...(options.only?.length ? ['--only', options.only.join(',')] : []),
  ];
  return new Promise((done) => {
    execFile(
      feastPython().python,
      args,
      { cwd: repo.root, env: repo.env, timeout: options.timeoutMs ?? 300_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const results = new Map<string, CheckResult>();
        let finished = false;
        for (const line of stdout.split('\n')) {
          // Only checks.py's own records: Feast may print other things to stdout.
          if (!line.startsWith('{"check"') && !line.startsWith('{"done"')) continue;
          const record = JSON.parse(line) as CheckResult & { done?: boolean };
          if (record.done) finished = true;
          else results.set(record.check, record);
        }
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ results, finished, stderr: String(stderr), exitCode });
      },
    );
  });
}
