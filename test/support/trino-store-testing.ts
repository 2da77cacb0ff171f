/**
 * What the trino store specs share when they call a store directly (no server in between): a
 * call context and a way to see what a store call rejected with. Trino sources come from
 * test/support/feature-views.ts (`trinoSource`), Trino itself from test/support/trino-server.ts.
 */
import { FeastError, LarderError } from '../../core/src/errors.ts';
import type { CallContext } from '../../core/src/store.ts';
import { callContext } from './parquet-fixtures.ts';

/** parquet-fixtures' `callContext()` (silent logger, no user), with the signal and other fields a test needs. */
export function context(signal = new AbortController().signal, extra: Partial<CallContext> = {}): CallContext {
  return { ...callContext(), signal, ...extra };
}

/** What a rejected store call carried: its message, gRPC code and, for Feast errors, Feast's class. */
export interface Failure {
  readonly message: string;
  readonly code?: number;
  readonly feastClass?: string;
}

/** What `promise` rejects with; throws if it resolves, so a call that should fail cannot pass. */
export async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return {
      message: (error as Error).message,
      code: error instanceof LarderError ? error.code : undefined,
      feastClass: error instanceof FeastError ? error.className : undefined,
    };
  }
  throw new Error('expected a failure');
}
