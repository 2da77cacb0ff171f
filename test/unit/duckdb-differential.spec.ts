/**
 * The duckdb and parquet-files stores over the same generated data must return identical tables,
 * value by value: several views (one a multi-file directory), an alias with a join_key_map, an
 * entityless view, timestamp ties with and without created, null keys, null timestamps, null
 * features, and entity rows placed exactly on TTL boundaries; views sharing a source with different
 * TTLs. The duckdb store runs with each point-in-time strategy (auto, asof, join). The data, the
 * views and the cases are test/support/store-differential.ts's.
 */
import type { OfflineStore } from '../../core/src/store.ts';
import duckdbPlugin from '../../plugins/duckdb/src/index.ts';
import { declareDifferentialCases, useStoreDifferential } from '../support/store-differential.ts';

describe('duckdb store vs parquet-files store: identical results on generated data', () => {
  const differential = useStoreDifferential({
    seed: 20241201,
    tmpPrefix: 'larder-diff-',
    // One store per point-in-time strategy: each must agree with the file store.
    async candidates(env) {
      const ducks = new Map<string, OfflineStore>();
      for (const strategy of ['auto', 'asof', 'join']) {
        ducks.set(strategy, await duckdbPlugin.create({ type: 'duckdb', threads: 2, point_in_time_strategy: strategy }, env));
      }
      return ducks;
    },
  });

  declareDifferentialCases(differential, { sharedSource: 'three views, full names' });
});
