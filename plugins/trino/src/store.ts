/**
 * The `trino` offline store: every call of Feast's offline store answered inside Trino, each by
 * the module named at its method.
 */
import type {
  CallContext,
  ColumnInfo,
  DataSource,
  HistoricalFeaturesRequest,
  LoggedFeaturesRequest,
  OfflineStore,
  OfflineWriteRequest,
  PersistRequest,
  PullRequest,
  ResultStream,
  StoreEnvironment,
} from '@larder/core';
import { TrinoClient } from './client.ts';
import { connectionOf, DEFAULTS, stagingOf, type TrinoStoreConfig } from './config.ts';
import type { UploadOptions } from './entity-upload.ts';
import { historicalForDateRange, historicalFromEntitySql, historicalFromEntityTable, retrievalSqlOf } from './historical-retrieval.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { checkClientSource } from './query-check.ts';
import { describeSource } from './sources.ts';
import { offlineWriteBatch, persist, writeLoggedFeatures } from './write-calls.ts';

export class TrinoStore implements OfflineStore {
  private constructor(
    private readonly client: TrinoClient,
    private readonly upload: UploadOptions,
  ) {}

  /**
   * Builds the store; refuses (ConfigError) what the config asks that it cannot honour. An
   * unreachable Trino does not stop the server: each call, and health, report it until it is back.
   */
  static create(config: TrinoStoreConfig, env: StoreEnvironment): TrinoStore {
    return new TrinoStore(new TrinoClient(connectionOf(config, env.repoPath)), uploadOptionsOf(config, env.repoPath));
  }

  /** One Trino query per call (historical-retrieval.ts); the entity table staged as entity-upload.ts says. */
  getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    const setup = { client: this.client, upload: this.upload };
    if (req.entityTable) return historicalFromEntityTable(setup, req.entityTable, req, ctx);
    if (req.entityDfSql !== undefined) return historicalFromEntitySql(setup, req, ctx);
    return historicalForDateRange(setup, req, ctx);
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

  /** Appends to the view's TrinoSource table (write-calls.ts: checked first, then batched INSERTs). */
  offlineWriteBatch(req: OfflineWriteRequest, ctx: CallContext): Promise<void> {
    return offlineWriteBatch(this.client, req, ctx);
  }

  /** Appends to the table a custom logging destination names (`table_name`), created on first use. */
  writeLoggedFeatures(req: LoggedFeaturesRequest, ctx: CallContext): Promise<void> {
    return writeLoggedFeatures(this.client, req, ctx);
  }

  /**
   * Saves a retrieval as a new table (SavedDatasetLocationAlreadyExists unless allow_overwrite):
   * `CREATE TABLE … AS <the retrieval's SQL>` inside Trino for this store's get_historical_features.
   */
  persist(req: PersistRequest, ctx: CallContext): Promise<void> {
    return persist(this.client, req, ctx, retrievalSqlOf);
  }

  /** Health: the coordinator runs a statement (UNAVAILABLE when it cannot be reached). */
  ping(): Promise<void> {
    return this.client.ping();
  }

  async close(): Promise<void> {
    // Nothing is held between calls: each statement is its own HTTP exchange.
  }
}

/**
 * Where entity tables go: the `entity_staging` section when there is one; else, as Feast, a table
 * in `catalog`.`dataset`, created with its connector's file format (Hive and Iceberg need one).
 */
function uploadOptionsOf(config: TrinoStoreConfig, repoPath: string): UploadOptions {
  const connector = config.connector.type;
  const format = config.connector.file_format;
  const withClause =
    (connector === 'hive' || connector === 'iceberg') && format ? `WITH (format = '${format.toUpperCase().replaceAll("'", '')}')` : '';
  return {
    staging: stagingOf(config, repoPath),
    values: { catalog: config.catalog, schema: config.dataset ?? DEFAULTS.dataset, withClause },
  };
}
