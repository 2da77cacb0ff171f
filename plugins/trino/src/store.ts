/**
 * The `trino` offline store. This slice answers the pulls, column listing, source validation and
 * health; the other calls answer UNIMPLEMENTED until their slices land.
 */
import { UnimplementedError } from '@larder/core';
import type { CallContext, ColumnInfo, DataSource, OfflineStore, PullRequest, ResultStream, StoreEnvironment } from '@larder/core';
import { TrinoClient } from './client.ts';
import { connectionOf, type TrinoStoreConfig } from './config.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { checkClientSource } from './query-check.ts';
import { describeSource } from './sources.ts';

export class TrinoStore implements OfflineStore {
  private constructor(private readonly client: TrinoClient) {}

  /**
   * Builds the store; refuses (ConfigError) what the config asks that it cannot honour. An
   * unreachable Trino does not stop the server: each call, and health, report it until it is back.
   */
  static create(config: TrinoStoreConfig, env: StoreEnvironment): TrinoStore {
    return new TrinoStore(new TrinoClient(connectionOf(config, env.repoPath)));
  }

  getHistoricalFeatures(): Promise<ResultStream> {
    return later('get_historical_features');
  }

  /** The latest row per join-key tuple in the range, one Trino query (pull-rows.ts). */
  pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullLatest(this.client, req, ctx.signal);
  }

  /** Every row in the range, one Trino query (pull-rows.ts). */
  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullAll(this.client, req, ctx.signal);
  }

  /**
   * Like Feast's TrinoSource: each column with the Trino type name. The source is the client's:
   * its query must be one read-only query, and under an auth provider it may read only tables
   * that data sources the caller may read read (query-check.ts).
   */
  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    await checkClientSource(this.client, source, ctx.sourceAccess, ctx.signal);
    return describeSource(this.client, source, ctx.signal);
  }

  /**
   * Feast's TrinoSource.validate lists the columns, so a missing table fails `feast apply`
   * (DataSourceNotFoundException here), as any other error Trino reports does. A query must be one
   * read-only query; nothing of the source's data is returned.
   */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    await checkClientSource(this.client, source, ctx.sourceAccess, ctx.signal);
    await describeSource(this.client, source, ctx.signal);
  }

  offlineWriteBatch(): Promise<void> {
    return later('offline_write_batch');
  }

  writeLoggedFeatures(): Promise<void> {
    return later('write_logged_features');
  }

  persist(): Promise<void> {
    return later('persist');
  }

  /** Health: the coordinator runs a statement (UNAVAILABLE when it cannot be reached). */
  ping(): Promise<void> {
    return this.client.ping();
  }

  async close(): Promise<void> {
    // Nothing is held between calls: each statement is its own HTTP exchange.
  }
}

function later(call: string): Promise<never> {
  return Promise.reject(
    new UnimplementedError(`${call} is not implemented by the trino offline store yet: it comes in a later slice of larder's trino plugin`),
  );
}
