/**
 * Building blocks for stores' result streams (part of the public API): a record batch from
 * column data, and an async iterable that releases what it holds on every path.
 */
import { RecordBatch, Struct, makeData, type Data, type Schema } from 'apache-arrow';

/** A record batch of `schema` from one Data per field, all `length` rows long. */
export function recordBatch(schema: Schema, columns: readonly Data[], length: number): RecordBatch {
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: [...columns] }));
}

/**
 * An async iterable over `produce()` that runs `close` once whether it is iterated to the end,
 * fails, is returned early, or is returned before it ever started. An async generator alone
 * skips its `finally` in that last case — which is exactly what happens to a prepared result
 * that the client never fetches — so a store's stream that holds a connection or a query must
 * be wrapped in this.
 */
export function ownedBatches(
  produce: () => AsyncGenerator<RecordBatch>,
  closeResources: () => void | Promise<void>,
): AsyncIterable<RecordBatch> {
  return {
    [Symbol.asyncIterator]() {
      const inner = produce();
      // A consumer that reads ahead may see the end and also return early: close still runs once.
      let closing: Promise<void> | null = null;
      const close = () => (closing ??= (async () => closeResources())());
      return {
        async next() {
          try {
            const step = await inner.next();
            if (step.done) await close();
            return step;
          } catch (error) {
            await close();
            throw error;
          }
        },
        async return(value?: unknown) {
          try {
            await inner.return(undefined);
          } finally {
            await close();
          }
          return { done: true, value } as IteratorReturnResult<unknown> as IteratorResult<RecordBatch>;
        },
      };
    },
  };
}
