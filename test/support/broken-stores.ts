/**
 * Stores that break one rule each, made by wrapping the `file` store: the conformance kit must
 * report exactly the checks about that rule as failed (or, for a read-only store, as not
 * implemented). Real stores underneath; only the broken rule is changed.
 */
import { UnimplementedError } from '../../core/src/errors.ts';
import type { CallContext, OfflineStore, OfflineStorePlugin, ResultStream } from '../../core/src/store.ts';
import parquetFilesPlugin from '../../plugins/parquet-files/src/index.ts';

/** Every method of `store`, bound, so a break can replace some. */
function delegate(store: OfflineStore): OfflineStore {
  return {
    getHistoricalFeatures: (req, ctx) => store.getHistoricalFeatures(req, ctx),
    pullLatestFromTableOrQuery: (req, ctx) => store.pullLatestFromTableOrQuery(req, ctx),
    pullAllFromTableOrQuery: (req, ctx) => store.pullAllFromTableOrQuery(req, ctx),
    getTableColumnNamesAndTypes: (source, ctx) => store.getTableColumnNamesAndTypes(source, ctx),
    validateDataSource: (source, ctx) => store.validateDataSource(source, ctx),
    offlineWriteBatch: (req, ctx) => store.offlineWriteBatch(req, ctx),
    writeLoggedFeatures: (req, ctx) => store.writeLoggedFeatures(req, ctx),
    persist: (req, ctx) => store.persist(req, ctx),
    close: () => store.close(),
  };
}

export type Break = 'ignores-ttl' | 'ignores-created' | 'ignores-abort' | 'driver-errors' | 'read-only' | 'leaks-given-up-streams';

const breaks: Record<Break, (store: OfflineStore) => OfflineStore> = {
  /** Every view read as if its ttl were 0: old rows match forever. */
  'ignores-ttl': (store) => ({
    ...delegate(store),
    getHistoricalFeatures: (req, ctx) =>
      store.getHistoricalFeatures({ ...req, featureViews: req.featureViews.map((v) => ({ ...v, ttlSeconds: 0 })) }, ctx),
  }),
  /** The created timestamp is not read: a timestamp tie goes to the row stored last. */
  'ignores-created': (store) => ({
    ...delegate(store),
    getHistoricalFeatures: (req, ctx) =>
      store.getHistoricalFeatures(
        { ...req, featureViews: req.featureViews.map((v) => ({ ...v, batchSource: { ...v.batchSource!, createdTimestampColumn: '' } })) },
        ctx,
      ),
    pullLatestFromTableOrQuery: (req, ctx) => store.pullLatestFromTableOrQuery({ ...req, createdTimestampColumn: null }, ctx),
  }),
  /** The call's signal is never looked at. */
  'ignores-abort': (store) => {
    const deaf = (ctx: CallContext): CallContext => ({ ...ctx, signal: new AbortController().signal });
    return {
      ...delegate(store),
      pullLatestFromTableOrQuery: (req, ctx) => store.pullLatestFromTableOrQuery(req, deaf(ctx)),
      pullAllFromTableOrQuery: (req, ctx) => store.pullAllFromTableOrQuery(req, deaf(ctx)),
    };
  },
  /** Failures escape as plain Errors (a driver's own), not larder's error classes. */
  'driver-errors': (store) => {
    const plain = <T>(call: () => Promise<T>) => call().catch((error: Error) => Promise.reject(new Error(`driver: ${error.message}`)));
    return {
      ...delegate(store),
      getHistoricalFeatures: (req, ctx) => plain(() => store.getHistoricalFeatures(req, ctx)),
      pullLatestFromTableOrQuery: (req, ctx) => plain(() => store.pullLatestFromTableOrQuery(req, ctx)),
      pullAllFromTableOrQuery: (req, ctx) => plain(() => store.pullAllFromTableOrQuery(req, ctx)),
    };
  },
  /** The writes are not implemented, the way a read-only store says so. */
  'read-only': (store) => {
    const refuse = () => Promise.reject(new UnimplementedError('this store is read-only'));
    return { ...delegate(store), offlineWriteBatch: refuse, writeLoggedFeatures: refuse, persist: refuse };
  },
  'leaks-given-up-streams': leaksGivenUpStreams,
};

/**
 * Each pull holds a resource (as a pooled connection would) that is freed only when its stream is
 * read to the end — not when the stream is given up — and close() waits for every one of them,
 * as a connection pool's end() does.
 */
function leaksGivenUpStreams(store: OfflineStore): OfflineStore {
  let held = 0;
  let allFreed = () => {};
  const hold = async (call: () => Promise<ResultStream>): Promise<ResultStream> => {
    const result = await call();
    held++;
    const free = () => {
      if (--held === 0) allFreed();
    };
    return {
      ...result,
      batches: {
        [Symbol.asyncIterator]() {
          const inner = result.batches[Symbol.asyncIterator]();
          return {
            async next() {
              const step = await inner.next();
              if (step.done) free();
              return step;
            },
            async return() {
              await inner.return?.();
              return { done: true as const, value: undefined };
            },
          };
        },
      },
    };
  };
  return {
    ...delegate(store),
    pullLatestFromTableOrQuery: (req, ctx) => hold(() => store.pullLatestFromTableOrQuery(req, ctx)),
    pullAllFromTableOrQuery: (req, ctx) => hold(() => store.pullAllFromTableOrQuery(req, ctx)),
    async close() {
      await store.close();
      if (held > 0) await new Promise<void>((resolve) => (allFreed = resolve));
    },
  };
}

/** The `file` store with one rule broken. */
export function brokenFileStore(which: Break): OfflineStorePlugin {
  return {
    ...parquetFilesPlugin,
    name: `file-${which}`,
    async create(config, env) {
      return breaks[which](await parquetFilesPlugin.create(config, env));
    },
  };
}
