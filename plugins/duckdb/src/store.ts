/** The `duckdb` offline store: reads answered by DuckDB, writes shared with the file store. */
import path from 'node:path';
import type { Table } from 'apache-arrow';
import {
  pyarrowColumns,
  type CallContext,
  type ColumnInfo,
  type DataSource,
  type HistoricalFeaturesRequest,
  type LoggedFeaturesRequest,
  type OfflineStore,
  type OfflineWriteRequest,
  type PersistRequest,
  type PullRequest,
  type ResultStream,
  type StoreEnvironment,
} from '@larder/core';
import {
  assertInsideRoots,
  assertNotDeniedFiles,
  offlineWriteBatch,
  persist,
  readParquetSchema,
  sourcePath,
  writeLoggedFeatures,
} from '@larder/plugin-parquet-files/shared';
import { Databases, type DuckDBStoreConfig } from './database.ts';
import { entityTableFromSql } from './entity-sql.ts';
import { historicalForDateRange, historicalFromEntityTable, type RetrievalSettings } from './historical-retrieval.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { onConnection } from './query-stream.ts';
import { describeLocation } from './sources.ts';
import { readableScope } from './sql-scope.ts';

export class DuckDBStore implements OfflineStore {
  private constructor(
    private readonly env: StoreEnvironment,
    private readonly databases: Databases,
    private readonly roots: readonly string[],
    private readonly retrieval: RetrievalSettings,
  ) {}

  static async create(config: DuckDBStoreConfig, env: StoreEnvironment): Promise<DuckDBStore> {
    const roots = [env.repoPath, ...env.dataRoots].map((r) => path.resolve(env.repoPath, r));
    const settings = { repoPath: env.repoPath, strategy: config.point_in_time_strategy ?? 'auto' } as const;
    return new DuckDBStore(env, await Databases.open(config, env.repoPath, roots), roots, settings);
  }

  private readonly connect = () => this.databases.connect();

  async getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    if (req.entityDfSql !== undefined) {
      const entities = await this.entitiesFromSql(req.entityDfSql, ctx.sourceAccess?.readable, ctx);
      return historicalFromEntityTable(this.connect, entities, req, this.retrieval, ctx);
    }
    if (req.entityTable) return historicalFromEntityTable(this.connect, req.entityTable, req, this.retrieval, ctx);
    return historicalForDateRange(this.connect, req, this.retrieval, ctx);
  }

  pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return onConnection(this.connect, (c) => pullLatest(c, req, this.env.repoPath, ctx));
  }

  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return onConnection(this.connect, (c) => pullAll(c, req, this.env.repoPath, ctx));
  }

  /** Like Feast's FileSource: the types pyarrow reports for the parquet schema. */
  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    const schema = await readParquetSchema(await this.clientSourcePath(source, ctx));
    return pyarrowColumns(schema, { parquetRead: true });
  }

  /** Like Feast's FileSource.validate: problems are warnings, never errors (except paths outside the roots). */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const location = await this.clientSourcePath(source, ctx);
    const connection = await this.databases.connect();
    try {
      const table = await describeLocation(connection, source, location);
      if (source.timestampField && !table.columns.has(source.timestampField)) {
        ctx.logger.warn({ source: source.name, column: source.timestampField }, 'timestamp field is not a column of the data source');
      }
    } catch (error) {
      ctx.logger.warn({ source: source.name, path: location, err: (error as Error).message }, 'data source is not readable yet');
    } finally {
      connection.disconnectSync();
    }
  }

  offlineWriteBatch(req: OfflineWriteRequest, ctx: CallContext): Promise<void> {
    return offlineWriteBatch(req, this.env, ctx);
  }

  writeLoggedFeatures(req: LoggedFeaturesRequest, ctx: CallContext): Promise<void> {
    return writeLoggedFeatures(req, this.env, ctx);
  }

  persist(req: PersistRequest, ctx: CallContext): Promise<void> {
    return persist(req, this.env, ctx);
  }

  async ping(): Promise<void> {
    const connection = await this.databases.connect();
    try {
      await connection.run('SELECT 1');
    } finally {
      connection.disconnectSync();
    }
  }

  async close(): Promise<void> {
    this.databases.close();
  }

  /**
   * The entity rows of client SQL. Under an auth provider (`readable` given) it runs in a database
   * of its own that can read only the files of the caller's readable sources; with no_auth, in the
   * shared sandbox over the repo and data roots.
   */
  private async entitiesFromSql(sql: string, readable: readonly DataSource[] | undefined, ctx: CallContext): Promise<Table> {
    if (!readable) return entityTableFromSql(await this.databases.connectSandbox(), sql, ctx);
    const instance = await this.databases.openConfined(await readableScope(readable, this.env.repoPath));
    try {
      return await entityTableFromSql(await instance.connect(), sql, ctx, 'confined');
    } finally {
      instance.closeSync();
    }
  }

  /**
   * A source sent by a client must stay under the repo or a configured data root, and (under an
   * auth provider) must not name the files of a source the caller may not read.
   */
  private async clientSourcePath(source: DataSource, ctx: CallContext): Promise<string> {
    const location = sourcePath(source, this.env.repoPath);
    assertInsideRoots(location, this.roots);
    if (ctx.sourceAccess) await assertNotDeniedFiles(source, location, ctx.sourceAccess, this.env.repoPath);
    return location;
  }
}
