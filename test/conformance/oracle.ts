/**
 * Validates the conformance checks against Feast's own server (`feast serve_offline` from the venv):
 *
 *   npx tsx test/conformance/oracle.ts [--only name,name] [--keep]
 *
 * Every check must pass, except larder-only ones (skipped) and those marked feastDiffers in
 * checks.json, which must FAIL here: Feast breaks the rule there and the check has to notice.
 * Exit status 1 when any check disagrees with that. --keep leaves the temp repo for inspection.
 * Not part of `npm test`: it proves the checks, not larder.
 */
import { parseArgs } from 'node:util';
import { buildFeastRepo } from '../support/feast-repo.ts';
import { startFeastServer } from '../support/larder-process.ts';
import { loadCatalogue, runChecks } from './run-checks.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, keep: { type: 'boolean' } } });
  if (values.keep) process.env.LARDER_KEEP_CONFORMANCE = '1';
  const only = values.only ? values.only.split(',') : undefined;

  const started = Date.now();
  const repo = await buildFeastRepo();
  const server = await startFeastServer({ repoPath: repo.serverRepo, env: repo.env });
  let problems = 0;
  try {
    const run = await runChecks(repo, repo.writeClient(server.port), 'feast', { only });
    const lines: string[] = [];
    for (const entry of loadCatalogue()) {
      if (only && !only.includes(entry.name)) continue;
      const r = run.results.get(entry.name);
      let verdict: string;
      if (!r) {
        verdict = 'MISSING';
        problems++;
      } else if (r.skipped) {
        verdict = 'skipped (larder-only)';
      } else if (entry.feastDiffers) {
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
    if (values.keep) console.log(`repo kept at ${repo.root}`);
    repo.cleanup();
  }
  console.log(problems ? `${problems} check(s) disagree with Feast's server` : 'all checks agree with Feast\'s server');
  return problems ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  },
);
