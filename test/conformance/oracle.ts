/**
 * Validates the conformance checks against Feast's own server (`feast serve_offline` from the venv):
 *
 *   npx tsx --conditions=larder-source test/conformance/oracle.ts [--store file|postgres] [--only name,name] [--keep]
 *
 * --store file (default): the file repo, Feast's file store behind the server.
 * --store postgres: a throwaway PostgreSQL cluster (test/support/postgres-server.ts), the postgres
 * repo (PostgreSQLSources, data loaded into the cluster), Feast's postgres store behind the server.
 *
 * Every check that applies to the store must pass, except larder-only ones (skipped) and those
 * whose feastDiffers in checks.json names that store, which must FAIL here: Feast breaks the rule
 * there and the check has to notice.
 * Exit status 1 when any check disagrees with that. --keep leaves the temp repo for inspection.
 * Not part of `npm test`: it proves the checks, not larder.
 */
import { parseArgs } from 'node:util';
import { buildFeastPostgresRepo, buildFeastRepo, type FeastRepo } from '../support/feast-repo.ts';
import { startFeastServer } from '../support/larder-process.ts';
import { startPostgres, type PostgresServer } from '../support/postgres-server.ts';
import { applicableChecks, feastDiffersFor, runChecks } from './run-checks.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, keep: { type: 'boolean' }, store: { type: 'string', default: 'file' } },
  });
  if (values.keep) process.env.LARDER_KEEP_CONFORMANCE = '1';
  const only = values.only ? values.only.split(',') : undefined;
  const store = values.store!;
  if (!['file', 'postgres'].includes(store)) throw new Error(`--store ${store}: Feast's own server runs with file or postgres`);

  const started = Date.now();
  let pg: PostgresServer | undefined;
  let repo: FeastRepo | undefined;
  try {
    if (store === 'postgres') {
      pg = await startPostgres();
      repo = await buildFeastPostgresRepo(pg);
    } else {
      repo = await buildFeastRepo();
    }
    return await against(repo, store, only, values.keep ?? false, started);
  } finally {
    repo?.cleanup();
    await pg?.stop();
  }
}

async function against(repo: FeastRepo, store: string, only: string[] | undefined, keep: boolean, started: number): Promise<number> {
  const server = await startFeastServer({ repoPath: repo.serverRepo, env: repo.env });
  let problems = 0;
  try {
    const run = await runChecks(repo, repo.writeClient(server.port), 'feast', { only });
    const lines: string[] = [];
    console.log(`Feast's own server, ${store} store:`);
    for (const entry of applicableChecks(store)) {
      if (only && !only.includes(entry.name)) continue;
      const r = run.results.get(entry.name);
      let verdict: string;
      if (!r) {
        verdict = 'MISSING';
        problems++;
      } else if (r.skipped) {
        verdict = 'skipped (larder-only)';
      } else if (feastDiffersFor(entry, store)) {
        verdict = r.ok ? 'PASSED BUT FEAST SHOULD DIFFER' : 'differs as expected';
        if (r.ok) problems++;
      } else {
        verdict = r.ok ? 'ok' : 'FAILED';
        if (!r.ok) problems++;
      }
      const detail = r && (!r.ok || verdict !== 'ok') ? `\n      ${r.detail.split('\n').join('\n      ').slice(0, 600)}` : '';
      lines.push(`  ${verdict.padEnd(31)} ${entry.name}${r ? ` (${r.seconds}s)` : ''}${detail}`);
    }
    console.log(lines.join('\n'));
    if (!run.finished) {
      problems++;
      console.log(`checks.py did not finish (exit ${run.exitCode}):\n${run.stderr.slice(-3000)}`);
    }
  } finally {
    const code = await server.stop();
    console.log(`feast serve_offline exited ${code}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (keep) console.log(`repo kept at ${repo.root}`);
  }
  console.log(problems ? `${problems} check(s) disagree with Feast's server` : "all checks agree with Feast's server");
  return problems ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
