/** The table from Feast api name to handler: reads stream a result, writes run inside DoPut. */
import type { ApiName } from './commands.ts';
import type { ReadHandler, WriteHandler } from './context.ts';
import { getTableColumnNamesAndTypes, validateDataSource } from './data-source-calls.ts';
import { getHistoricalFeatures } from './get-historical-features.ts';
import { makePersist } from './persist.ts';
import { pullAllFromTableOrQuery, pullLatestFromTableOrQuery } from './pull-from-table-or-query.ts';
import { offlineWriteBatch, writeLoggedFeatures } from './writes.ts';

export const readHandlers: Readonly<Partial<Record<ApiName, ReadHandler>>> = Object.freeze({
  get_historical_features: getHistoricalFeatures,
  pull_latest_from_table_or_query: pullLatestFromTableOrQuery,
  pull_all_from_table_or_query: pullAllFromTableOrQuery,
  get_table_column_names_and_types_from_data_source: getTableColumnNamesAndTypes,
});

export const writeHandlers: Readonly<Partial<Record<ApiName, WriteHandler>>> = Object.freeze({
  offline_write_batch: offlineWriteBatch,
  write_logged_features: writeLoggedFeatures,
  persist: makePersist(readHandlers as Record<string, ReadHandler>),
  validate_data_source: validateDataSource,
});

/** Feast's ListActions answer, exactly (validate_data_source is accepted but not listed). */
export const feastActions = Object.freeze([
  {
    type: 'offline_write_batch',
    description: 'Writes the specified arrow table to the data source underlying the specified feature view.',
  },
  {
    type: 'write_logged_features',
    description: 'Writes logged features to a specified destination in the offline store.',
  },
  {
    type: 'persist',
    description:
      'Synchronously executes the underlying query and persists the result in the same offline store at the specified destination.',
  },
]);
