/**
 * The fuzz suite (test/fuzz) as a long soak: the same properties against the same kind of running
 * larder (one without auth, one behind OIDC), round after round with a new seed each round, until
 * the time is up. Stops at the first failure and prints fast-check's seed and path and the line to
 * add to test/fuzz/regressions.json; at the end of each round checks that the server is alive,
 * SERVING, and within the RSS bound, so slow leaks show up over the rounds.
 *
 *   npx tsx --conditions=larder-source bench/fuzz-soak.ts [--minutes 10] [--seed 1] [--round-seconds 20] [--rss-mib 768]
 *
 * Round r uses seed `--seed + r`; to replay a failure, run the suite with LARDER_FUZZ_SEED set to
 * the printed seed, or add the printed entry to regressions.json.
 */
import { parseArgs } from 'node:util';
import { commandProperty, descriptorProperty, fatalInput, ipcProperty, tokenProperty } from '../test/fuzz/properties.ts';
import { runProperty } from '../test/fuzz/runner.ts';
import { startFuzzTarget, type FuzzTarget } from '../test/fuzz/target.ts';

const { values: options } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'round-seconds': { type: 'string', default: '20' },
    'rss-mib': { type: 'string', default: '768' },
  },
});
const minutes = Number(options.minutes);
const firstSeed = Number(options.seed);
const roundSeconds = Number(options['round-seconds']);
const rssBoundMiB = Number(options['rss-mib']);
for (const [name, value] of Object.entries({ minutes, seed: firstSeed, 'round-seconds': roundSeconds, 'rss-mib': rssBoundMiB })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
}

type Build = (target: FuzzTarget) => { property: Parameters<typeof runProperty>[1]; close(): void };
const PROPERTIES: ReadonlyArray<{ name: string; build: Build; auth: boolean }> = [
  { name: 'commands', build: commandProperty as Build, auth: false },
  { name: 'descriptors', build: descriptorProperty as Build, auth: false },
  { name: 'ipc', build: ipcProperty as Build, auth: false },
  { name: 'commands-auth', build: commandProperty as Build, auth: true },
  { name: 'tokens', build: tokenProperty as Build, auth: true },
];

async function checkServer(target: FuzzTarget, label: string): Promise<void> {
  const dead = target.dead();
  if (dead) throw new Error(`${label}: ${dead}`);
  const health = await target.health();
  if (health !== 'SERVING') throw new Error(`${label}: health is ${health}`);
  const rssMiB = (target.rssKiB() ?? 0) / 1024;
  if (rssMiB > rssBoundMiB) throw new Error(`${label}: RSS ${Math.round(rssMiB)} MiB is above ${rssBoundMiB} MiB`);
}

const plain = await startFuzzTarget();
const withAuth = await startFuzzTarget({ auth: true });
const deadline = Date.now() + minutes * 60_000;
const totals = new Map<string, number>();
let exitCode = 0;
try {
  for (let round = 0; Date.now() < deadline; round++) {
    const seed = firstSeed + round;
    for (const p of PROPERTIES) {
      const target = p.auth ? withAuth : plain;
      const left = Math.max(1, Math.min(roundSeconds, (deadline - Date.now()) / 1000));
      const { property, close } = p.build(target);
      try {
        const run = await runProperty(p.name, property, { runs: 1_000_000, seconds: left }, { seed }, () => {
          const input = fatalInput(target);
          return input ? `the server died during this case: ${input}` : undefined;
        });
        totals.set(p.name, (totals.get(p.name) ?? 0) + run.numRuns);
      } finally {
        close();
      }
      await checkServer(target, `after ${p.name}, seed ${seed}`);
      if (Date.now() >= deadline) break;
    }
    const rss = (t: FuzzTarget) => Math.round((t.rssKiB() ?? 0) / 1024);
    console.log(
      `round ${round} (seed ${seed}) done: ${[...totals].map(([n, c]) => `${n} ${c}`).join(', ')} cases so far; ` +
        `RSS ${rss(plain)} MiB (peak ${Math.round(plain.peakRssKiB() / 1024)}), auth server ${rss(withAuth)} MiB`,
    );
  }
  console.log('soak passed');
} catch (error) {
  exitCode = 1;
  console.error((error as Error).message);
} finally {
  await plain.stop();
  await withAuth.stop();
}
process.exit(exitCode);
