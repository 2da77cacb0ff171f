/**
 * Cancellation and release: a store must honour its call's AbortSignal (the client went away or
 * the deadline passed) and free what a result holds on every path — read to its end, failed,
 * abandoned after some batches, or given up before its first batch (a prepared result nobody
 * fetches). Every check ends with the store's close(), which must settle: a leaked connection
 * or query makes it hang, and the check fail.
 */
import type { DataSource } from '../../registry/model.ts';
import type { OfflineStore, PullRequest, ResultStream } from '../../store.ts';
import type { Check } from '../check.ts';
import { SECOND, T0 } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';
import type { KitTable, Row } from '../kit-table.ts';
import { describeError, readAll, release } from './common.ts';

/** Rows in the large source: enough that every store streams them in several batches. */
export const MANY_ROWS = 200_000;

function manyRows(): KitTable {
  const rows: Row[] = [];
  for (let i = 0; i < MANY_ROWS; i++) rows.push({ driver_id: i, ts: T0 + i * SECOND, value: i / 4 });
  return {
    columns: [
      { name: 'driver_id', kind: 'int64' },
      { name: 'ts', kind: 'timestamp' },
      { name: 'value', kind: 'float64' },
    ],
    rows,
  };
}

const pullOf = (source: DataSource): PullRequest => ({
  source,
  joinKeyColumns: ['driver_id'],
  featureNameColumns: ['value'],
  timestampField: 'ts',
  createdTimestampColumn: null,
  startDate: new Date(T0),
  endDate: new Date(T0 + MANY_ROWS * SECOND),
});

type Pull = (store: OfflineStore, req: PullRequest, signal?: AbortSignal) => Promise<ResultStream>;
const pulls: Array<[string, Pull]> = [
  ['pull_latest_from_table_or_query', (store, req, signal) => store.pullLatestFromTableOrQuery(req, callContext(signal))],
  ['pull_all_from_table_or_query', (store, req, signal) => store.pullAllFromTableOrQuery(req, callContext(signal))],
];

/** Counts the rows of a stream until it ends or fails; says which. */
async function drain(iterator: AsyncIterator<{ numRows: number }>): Promise<{ rows: number; error: unknown }> {
  let rows = 0;
  try {
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) rows += step.value.numRows;
    return { rows, error: undefined };
  } catch (error) {
    return { rows, error };
  }
}

export function cancellationChecks(run: KitRun): Check[] {
  const many = () => run.once('many', () => run.source(`${run.prefix()}_many`, manyRows(), 'ts', ''));
  return [
    {
      name: 'cancellation: a call whose signal has already aborted serves no rows',
      async run() {
        const source = await many();
        await run.withStore(async (store) => {
          for (const [name, pull] of pulls) {
            const controller = new AbortController();
            controller.abort();
            const outcome = await readAll(() => pull(store, pullOf(source), controller.signal)).then(
              (rows) => ({ rows: rows.rows.length, error: undefined as unknown }),
              (error: unknown) => ({ rows: 0, error }),
            );
            if (outcome.error === undefined)
              throw new Error(`${name} with an aborted signal served all ${outcome.rows} rows instead of failing`);
          }
        });
      },
    },
    {
      name: 'cancellation: aborting the signal while streaming stops the stream',
      async run() {
        const source = await many();
        await run.withStore(async (store) => {
          for (const [name, pull] of pulls) {
            const controller = new AbortController();
            const result = await pull(store, pullOf(source), controller.signal);
            const iterator = result.batches[Symbol.asyncIterator]();
            try {
              const first = await iterator.next();
              if (first.done) throw new Error(`${name} of ${MANY_ROWS} rows returned no batch`);
              if (first.value.numRows >= MANY_ROWS) {
                throw new Error(
                  `${name} returned all ${MANY_ROWS} rows in its first batch: results must stream as batches while they are produced, not be materialised`,
                );
              }
              controller.abort();
              const rest = await drain(iterator);
              if (rest.error === undefined) {
                throw new Error(
                  `${name}: after the call's signal aborted, the stream went on to its end (${rest.rows} more rows) instead of failing`,
                );
              }
            } finally {
              await iterator.return?.().catch(() => undefined);
            }
          }
        });
      },
    },
    {
      name: 'cancellation: a stream given up before or after its first batch frees what it holds',
      async run() {
        const source = await many();
        await run.withStore(async (store) => {
          for (const [name, pull] of pulls) {
            // Given up before its first batch: a prepared result the client never fetched.
            await release(await pull(store, pullOf(source))).catch((error: unknown) => {
              throw new Error(`${name}: returning the iterator of an unread stream failed: ${describeError(error)}`);
            });
            // Given up after its first batch: a client that went away.
            const iterator = (await pull(store, pullOf(source))).batches[Symbol.asyncIterator]();
            await iterator.next();
            await iterator.return?.();
          }
          // The store still serves after all that (nothing it holds is stuck).
          const after = await readAll(() =>
            store.pullLatestFromTableOrQuery({ ...pullOf(source), endDate: new Date(T0 + 9 * SECOND) }, callContext()),
          );
          if (after.rows.length !== 10)
            throw new Error(`after streams were given up, pull_latest of 10 rows returned ${after.rows.length}`);
        });
      },
    },
  ];
}
