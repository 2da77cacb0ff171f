/**
 * Running a fuzz property reproducibly: a fixed seed by default (so CI sees the same cases every
 * time), bounded by a run count and a time budget, with the known failures (regressions.json)
 * replayed first. A failure is reported with fast-check's seed and shrink path and the JSON line
 * to add to regressions.json.
 *
 *   LARDER_FUZZ_SEED=<int>     another seed (default 20261207)
 *   LARDER_FUZZ_RUNS=<n>       runs per property, overriding each property's default
 *   LARDER_FUZZ_SECONDS=<s>    time budget per property, overriding each property's default
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';

export const DEFAULT_SEED = 20261207;

export interface FuzzSettings {
  readonly seed: number;
  readonly runs?: number;
  readonly seconds?: number;
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const int = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got ${JSON.stringify(raw)}`);
    return n;
  };
  return { seed: int('LARDER_FUZZ_SEED') ?? DEFAULT_SEED, runs: int('LARDER_FUZZ_RUNS'), seconds: int('LARDER_FUZZ_SECONDS') };
}

export interface Regression {
  /** The property's name, as given to runProperty. */
  readonly property: string;
  readonly seed: number;
  /** fast-check's shrink path ("counterexamplePath"). */
  readonly path: string;
  /** What failed, and which fix made it pass. */
  readonly note: string;
}

const REGRESSIONS_FILE = new URL('./regressions.json', import.meta.url);

export function loadRegressions(): Regression[] {
  return JSON.parse(readFileSync(REGRESSIONS_FILE, 'utf8')) as Regression[];
}

export interface PropertyRun {
  /** Runs executed (fewer than asked when the time budget ran out). */
  readonly numRuns: number;
  readonly interrupted: boolean;
}

/**
 * Replays `name`'s regressions, then checks the property with the settings; throws fast-check's
 * report (seed, path, counterexample, the error) on the first failure.
 */
export async function runProperty<Ts extends [unknown, ...unknown[]]>(
  name: string,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  defaults: { readonly runs: number; readonly seconds: number },
  settings: FuzzSettings = settingsFromEnv(),
  /** More to say about a failure (e.g. the input that killed the server), if anything. */
  explain: () => string | undefined = () => undefined,
): Promise<PropertyRun> {
  for (const r of loadRegressions().filter((x) => x.property === name)) {
    const details = await fc.check(property, { seed: r.seed, path: r.path, numRuns: 1, endOnFailure: true });
    if (details.failed) {
      const error = details.errorInstance as Error | undefined;
      throw new Error(
        `regression case of ${name} (seed ${r.seed}, path ${r.path}: ${r.note}) fails again: ${error?.message}\ncounterexample: ${summarize(details.counterexample)}`,
      );
    }
  }
  const numRuns = settings.runs ?? defaults.runs;
  const seconds = settings.seconds ?? defaults.seconds;
  const details = await checkOrExplain(name, settings.seed, property, {
    seed: settings.seed,
    numRuns,
    interruptAfterTimeLimit: seconds * 1000,
    // Shrinking replays calls against the server; bound it too, the first failure is reported anyway.
    skipAllAfterTimeLimit: seconds * 2000,
    endOnFailure: false,
  });
  if (details.failed) {
    const entry: Regression = { property: name, seed: details.seed, path: details.counterexamplePath ?? '', note: 'describe the failure' };
    const error = details.errorInstance as Error | undefined;
    throw new Error(
      [
        `fuzz property "${name}" failed after ${details.numRuns} runs (${details.numShrinks} shrinks): ${error?.message ?? 'no error'}`,
        `replay: LARDER_FUZZ_SEED=${details.seed}, fast-check { seed: ${details.seed}, path: "${details.counterexamplePath}" }`,
        `add to test/fuzz/regressions.json once fixed: ${JSON.stringify(entry)}`,
        `counterexample: ${summarize(details.counterexample)}`,
        // The first failing case before shrinking is the path's first segment.
        `first failing case (unshrunk): path "${(details.counterexamplePath ?? '').split(':')[0]}"`,
        ...(explain() ? [explain()!] : []),
      ].join('\n'),
    );
  }
  return { numRuns: details.numRuns, interrupted: details.interrupted };
}

/** fc.check, with the property and seed named when it throws (an arbitrary that failed to generate). */
async function checkOrExplain<Ts extends [unknown, ...unknown[]]>(
  name: string,
  seed: number,
  property: fc.IAsyncPropertyWithHooks<Ts>,
  parameters: fc.Parameters<Ts>,
): Promise<fc.RunDetails<Ts>> {
  try {
    return await fc.check(property, parameters);
  } catch (error) {
    throw new Error(`fuzz property "${name}" (seed ${seed}) could not run: ${(error as Error).stack ?? String(error)}`);
  }
}

/**
 * A readable rendering of a counterexample: long strings and byte arrays shortened, nesting cut at
 * a depth (fuzzed values may be nested 100,000 deep, past JSON.stringify's stack).
 */
export function summarize(value: unknown, limit = 4000): string {
  const text = render(value, 0);
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

const MAX_DEPTH = 12;

function render(v: unknown, depth: number): string {
  if (v === null || v === undefined || typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v);
  if (typeof v === 'function') return '<function>';
  if (v instanceof Uint8Array) {
    const preview = Buffer.from(v.subarray(0, 300)).toString('utf8');
    return `<${v.byteLength} bytes: ${JSON.stringify(preview)}${v.byteLength > 300 ? '…' : ''}>`;
  }
  if (depth >= MAX_DEPTH) return Array.isArray(v) ? '[…]' : '{…}';
  if (Array.isArray(v)) {
    const items = v.slice(0, 20).map((x) => render(x, depth + 1));
    return `[${items.join(',')}${v.length > 20 ? `,… (${v.length} items)` : ''}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  const shown = entries.slice(0, 30).map(([k, x]) => `${JSON.stringify(k)}:${render(x, depth + 1)}`);
  return `{${shown.join(',')}${entries.length > 30 ? `,… (${entries.length} keys)` : ''}}`;
}
