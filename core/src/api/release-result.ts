/** Ending a store's result stream that will not be read (further). */
import type { ResultStream } from '../store.ts';

/**
 * Returns the stream's iterator, so the store frees what the result holds (a connection, a running
 * query). Safe on a stream already read to its end; failures are ignored, as nobody waits for rows.
 */
export async function releaseResult(result: ResultStream): Promise<void> {
  try {
    await result.batches[Symbol.asyncIterator]().return?.();
  } catch {
    // The result was already failing; there is nothing left to free.
  }
}
