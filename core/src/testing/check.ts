/**
 * A conformance check and its verdict. A check is a named async function that throws an Error
 * saying what was wrong; it is framework-agnostic, so a mocha, vitest or node:test suite can run
 * each one as a test, and `runConformance` runs them all without any test framework.
 */

/** One check of the kit. `run` resolves when the store passes and throws a descriptive Error when it does not. */
export interface Check {
  readonly name: string;
  run(): Promise<void>;
}

/**
 * Thrown by a check whose subject the store (or the target) does not provide: an optional method
 * left out, one that throws UnimplementedError, or a target without a write destination.
 * `runConformance` reports it as "not implemented", neither passed nor failed.
 */
export class NotImplementedByStore extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotImplementedByStore';
  }
}

/** Whether a check's error means "not implemented" rather than a failure. */
export function isNotImplemented(error: unknown): error is NotImplementedByStore {
  return error instanceof NotImplementedByStore;
}

export type CheckStatus = 'passed' | 'failed' | 'not implemented';

export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  /** Why it failed, or what is not implemented. */
  readonly message?: string;
  readonly error?: unknown;
  readonly milliseconds: number;
}

export interface ConformanceReport {
  readonly passed: number;
  readonly failed: number;
  readonly notImplemented: number;
  readonly results: readonly CheckResult[];
}

/** Runs one check, turning its outcome into a result. */
export async function runCheck(check: Check): Promise<CheckResult> {
  const started = performance.now();
  const milliseconds = () => Math.round(performance.now() - started);
  try {
    await check.run();
    return { name: check.name, status: 'passed', milliseconds: milliseconds() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status: CheckStatus = isNotImplemented(error) ? 'not implemented' : 'failed';
    return { name: check.name, status, message, error, milliseconds: milliseconds() };
  }
}
