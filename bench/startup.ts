/**
 * Start-up time to serving: from spawning `larder serve_offline` on the example repo until its
 * Flight port accepts a TCP connection (the readiness probe Feast's harness and the operator use).
 *
 *   npm run build && npx tsx --conditions=larder-source bench/startup.ts [--runs 9] [--node PATH]
 *
 * Measures the built CLI (cli/bin/larder.js, what users and the image run) and, for reference, the
 * sources through tsx (scripts/larder-dev.js). Medians, with min and max; runs alternate.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeExampleRepo } from '../core/src/example/write-example-repo.ts';
import { REPO_ROOT, freePort } from '../test/support/larder-process.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, node: { type: 'string', default: process.execPath } } });
const runs = Number(values.runs);

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function timeToServing(entry: string, repo: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(values.node!, [entry, '-c', repo, '--log-level', 'warning', 'serve_offline', '-h', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  try {
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
      await new Promise((r) => setTimeout(r, 2));
    }
    return performance.now() - started;
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const work = mkdtempSync(path.join(tmpdir(), 'larder-startup-'));
try {
  const repo = await writeExampleRepo(path.join(work, 'repo'));
  const entries = {
    built: path.join(REPO_ROOT, 'cli', 'bin', 'larder.js'),
    'sources (tsx)': path.join(REPO_ROOT, 'scripts', 'larder-dev.js'),
  };
  const times: Record<string, number[]> = { built: [], 'sources (tsx)': [] };
  for (let i = 0; i < runs; i++) for (const [name, entry] of Object.entries(entries)) times[name]!.push(await timeToServing(entry, repo));
  const version = execFileSync(values.node!, ['--version'], { encoding: 'utf8' }).trim();
  console.log(`start-up to serving the example repo, ${runs} runs each (alternating), node ${version}`);
  for (const [name, list] of Object.entries(times)) {
    const sorted = [...list].sort((a, b) => a - b);
    const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
    console.log(
      `  ${name.padEnd(14)} median ${fmt(sorted[Math.floor(sorted.length / 2)]!)}  min ${fmt(sorted[0]!)}  max ${fmt(sorted.at(-1)!)}`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
