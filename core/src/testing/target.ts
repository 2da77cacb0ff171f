/**
 * What a store's author hands the conformance kit: the plugin, the `offline_store:` section to
 * build it with, and how to turn the kit's rows into a data source of the store's own kind (a
 * parquet file for a file store, a table for a SQL store). The kit builds every registry object
 * and every request itself, and knows the right answers.
 */
import type { Table } from 'apache-arrow';
import type { DataSource, LoggingConfig } from '../registry/model.ts';
import type { OfflineStorePlugin } from '../store.ts';

/** How the kit wants a source made: which columns are its timestamps, and the run's repo. */
export interface SourceOptions {
  /** The source's event timestamp column (a column of the table). */
  readonly timestampField: string;
  /** The created timestamp column, or `''` when the source has none. */
  readonly createdTimestampColumn: string;
  /**
   * A fresh directory the kit made for this run, removed when it ends: the store is created
   * with it as its feature repo (`StoreEnvironment.repoPath`), so a file store's relative paths
   * resolve inside it.
   */
  readonly repoPath: string;
}

/** Where a write may go, in this run's repo. */
export interface DestinationOptions {
  readonly repoPath: string;
}

/** A logging destination of the store's kind, and how to read what was logged there. */
export interface LoggingDestination {
  /** The feature service's logging config (a file destination, or a custom one with its config). */
  readonly loggingConfig: LoggingConfig;
  /** A source over what was logged, readable by the store's pull_all_from_table_or_query. */
  readonly source: (timestampField: string) => DataSource;
}

/** See StoreConformanceTarget.dateRangeRule. */
export type DateRangeRule = 'distinct-key-timestamps' | 'source-rows' | 'end-date-snapshot';

/**
 * A store under test. Names passed to the methods are unique in a run, short, lower-case
 * identifiers (`kit7_drivers`), valid as a file or a table name.
 */
export interface StoreConformanceTarget {
  /** The plugin, as the module's default export would be. */
  readonly plugin: OfflineStorePlugin;
  /** The `offline_store:` section of feature_store.yaml (with `type`), as a user would write it. */
  readonly storeConfig: Readonly<Record<string, unknown>>;
  /**
   * Materialises `table` in the store (a parquet file under `options.repoPath`, a table, …) and
   * returns the registry's DataSource for it: `timestampField` and `createdTimestampColumn` as
   * given, no field mapping. Its rows must read back in the table's order where the store has
   * an order (a later row wins a full tie).
   */
  createSource(name: string, table: Table, options: SourceOptions): Promise<DataSource>;
  /**
   * A DataSource of the store's kind where nothing exists yet, for `persist` to write a saved
   * dataset to, readable afterwards by pull_all_from_table_or_query. Without it, the persist
   * checks report "not implemented".
   */
  savedDatasetDestination?(name: string, timestampField: string, options: DestinationOptions): DataSource | Promise<DataSource>;
  /** A logging destination for write_logged_features. Without it, that check reports "not implemented". */
  loggingDestination?(name: string, options: DestinationOptions): LoggingDestination | Promise<LoggingDestination>;
  /**
   * How the store answers get_historical_features by start/end date (no entity table) for one
   * feature view, after the Feast store its `offline_store.type` emulates; the kit checks that
   * answer. Default `'distinct-key-timestamps'`.
   * - `'distinct-key-timestamps'`: one row per distinct (event timestamp, join keys) of the
   *   source in the range, its features point-in-time joined there (ties broken by created), in
   *   the columns `event_timestamp`, the join keys, the features.
   * - `'source-rows'`: every source row in the range as stored, ties included, in the columns
   *   `event_timestamp`, `created_timestamp` (when the source has a created column), the join
   *   keys, the features (Feast's postgres store).
   * - `'end-date-snapshot'`: one row per join key that has a row in [end − ttl, end] (start
   *   filters nothing), stamped `event_timestamp = end`, its features point-in-time joined as
   *   of end (Feast's file store).
   */
  readonly dateRangeRule?: DateRangeRule;
  /** Called once when the run ends (drop tables, stop a server). The kit removes its repo itself. */
  cleanup?(): Promise<void>;
}
