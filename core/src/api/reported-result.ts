/**
 * A store's result as it leaves through DoGet or DoExchange: rows and bytes are counted, the call
 * is reported once when the stream ends, fails or is given up, and the store's stream is released
 * on every one of those paths — including a stream given up before its first batch was asked for
 * (a DoGet cancelled while the schema was being sent), where an async generator would skip its
 * `finally` and leave the store's connection or query open.
 */
import type { RecordBatch } from 'apache-arrow';
import type { ResultStream } from '../store.ts';

export type ReportOutcome = (error: Error | null, rows: number, bytes: number) => void;

export function reportedBatches(result: ResultStream, report: ReportOutcome): AsyncIterable<RecordBatch> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
      // Taken now, so that `return()` reaches the store even when `next()` was never called.
      const source = result.batches[Symbol.asyncIterator]();
      let rows = 0;
      let bytes = 0;
      let reported = false;
      const once = (error: Error | null) => {
        if (reported) return;
        reported = true;
        report(error, rows, bytes);
      };
      return {
        async next() {
          let step: IteratorResult<RecordBatch>;
          try {
            step = await source.next();
          } catch (error) {
            once(error as Error);
            throw error;
          }
          if (step.done) once(null);
          else {
            rows += step.value.numRows;
            bytes += step.value.data.byteLength;
          }
          return step;
        },
        async return() {
          try {
            await source.return?.();
          } finally {
            once(null);
          }
          return { done: true, value: undefined };
        },
      };
    },
  };
}
