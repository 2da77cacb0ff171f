/** What the kit's checks share: running a call to its end, expecting a failure of a given class. */
import { UnimplementedError } from '../../errors.ts';
import type { OfflineStore, ResultStream } from '../../store.ts';
import { NotImplementedByStore } from '../check.ts';
import { readResult, type ResultRows } from '../result-rows.ts';

/** A call that returns a stream, read to its end: a store may fail when called or while streaming. */
export async function readAll(call: () => Promise<ResultStream>): Promise<ResultRows> {
  return readResult(await call());
}

/** The error's class, gRPC code and message, for a failure message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `a thrown ${typeof error} (${String(error)})`;
  const code = (error as { code?: unknown }).code;
  return `${error.constructor.name}${code !== undefined ? ` (code ${String(code)})` : ''}: ${error.message}`;
}

/**
 * Whether `error` is of larder's error class `errorClass`: an instance, or — for a plugin that
 * carries its own copy of @larder/core — an error of that class name shaped like a LarderError,
 * which the server reports the same way.
 */
export function isErrorOfClass<E extends Error>(error: unknown, errorClass: abstract new (...args: never[]) => E): error is E {
  if (error instanceof errorClass) return true;
  const e = error as { name?: unknown; code?: unknown; wireMessage?: unknown } | null;
  return !!e && e.name === errorClass.name && typeof e.code === 'number' && typeof e.wireMessage === 'function';
}

/** Expects `work` to fail with an error of class `errorClass`; returns the error. */
export async function expectFailure<E extends Error>(
  what: string,
  errorClass: abstract new (...args: never[]) => E,
  work: () => Promise<unknown>,
): Promise<E> {
  try {
    await work();
  } catch (error) {
    if (isErrorOfClass(error, errorClass)) return error;
    throw new Error(`${what}: expected a ${errorClass.name} (from @larder/core), got ${describeError(error)}`);
  }
  throw new Error(`${what}: expected a ${errorClass.name}, but the call succeeded`);
}

export type OptionalMethod = 'offlineWriteBatch' | 'writeLoggedFeatures' | 'persist';

/**
 * Calls an optional store method: a store that leaves it out, or throws UnimplementedError from
 * it, does not implement it — the check reports "not implemented" rather than failing.
 */
export async function callOptional<T>(store: OfflineStore, method: OptionalMethod, call: () => Promise<T>): Promise<T> {
  if (typeof (store as Partial<OfflineStore>)[method] !== 'function')
    throw new NotImplementedByStore(`the store has no ${method}() method`);
  try {
    return await call();
  } catch (error) {
    if (isErrorOfClass(error, UnimplementedError))
      throw new NotImplementedByStore(`${method}() throws UnimplementedError: ${error.message}`);
    throw error;
  }
}

/** Gives up a stream that will not be read (further), as core does: its iterator is returned. */
export async function release(result: ResultStream): Promise<void> {
  await result.batches[Symbol.asyncIterator]().return?.();
}
