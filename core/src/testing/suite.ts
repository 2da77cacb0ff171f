/**
 * The store conformance suite: every check of the kit for one target, and a runner that needs no
 * test framework.
 */
import { runCheck, type Check, type CheckResult, type ConformanceReport } from './check.ts';
import { cancellationChecks } from './checks/cancellation.ts';
import { configChecks } from './checks/config.ts';
import { errorChecks } from './checks/errors.ts';
import { pointInTimeChecks } from './checks/point-in-time.ts';
import { pullChecks } from './checks/pulls.ts';
import { sourceChecks } from './checks/sources.ts';
import { writeChecks } from './checks/writes.ts';
import { KitRun, type KitOptions } from './kit-run.ts';
import type { StoreConformanceTarget } from './target.ts';

/** The checks for `target`, and the end of the run (the target's cleanup, the kit's temp repo). */
export interface ConformanceSuite {
  readonly checks: readonly Check[];
  /** Call once after the checks ran (mocha: in `after`). */
  dispose(): Promise<void>;
}

/**
 * The kit's checks for one store. Each check makes its own sources and its own store, so checks
 * run in any order and any subset; run them one at a time (they share the run's repo).
 *
 * In mocha:
 * ```ts
 * const suite = storeConformanceChecks(target);
 * after(() => suite.dispose());
 * for (const check of suite.checks) it(check.name, () => check.run());
 * ```
 */
export function storeConformanceChecks(target: StoreConformanceTarget, options: KitOptions = {}): ConformanceSuite {
  const run = new KitRun(target, options);
  const checks = [
    ...configChecks(run),
    ...pointInTimeChecks(run),
    ...pullChecks(run),
    ...sourceChecks(run),
    ...writeChecks(run),
    ...errorChecks(run),
    ...cancellationChecks(run),
  ];
  return { checks, dispose: () => run.dispose() };
}

export interface RunOptions extends KitOptions {
  /** Runs only the checks whose name contains this text, or that this function accepts. */
  readonly filter?: string | ((name: string) => boolean);
  /** Called with each result as soon as its check ends (the CLI prints it). */
  readonly log?: (result: CheckResult) => void;
}

/** Runs the suite for `target` one check at a time, then cleans up; never throws for a failed check. */
export async function runConformance(target: StoreConformanceTarget, options: RunOptions = {}): Promise<ConformanceReport> {
  const suite = storeConformanceChecks(target, options);
  const accept =
    typeof options.filter === 'function' ? options.filter : (name: string) => name.includes((options.filter as string | undefined) ?? '');
  const results: CheckResult[] = [];
  try {
    for (const check of suite.checks) {
      if (!accept(check.name)) continue;
      const result = await runCheck(check);
      results.push(result);
      options.log?.(result);
    }
  } finally {
    await suite.dispose();
  }
  const count = (status: CheckResult['status']) => results.filter((r) => r.status === status).length;
  return { passed: count('passed'), failed: count('failed'), notImplemented: count('not implemented'), results };
}
