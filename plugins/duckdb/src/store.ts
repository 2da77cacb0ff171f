/** The `duckdb` offline store: reads answered by DuckDB, writes shared with the file store. */
import path from 'node:path';
import type { Table } from 'apache-arrow';
import {
  FeastPermissionError,
  InvalidArgumentError,
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
  type SourceAccess,
  type StoreEnvironment,
} from '@larder/core';
import {
  assertInsideRoots,
  assertNotDeniedFiles,
  listParquetFiles,
  offlineWriteBatch,
  persist,
  readParquetSchema,
  sourcePath,
  writeLoggedFeatures,
} from '@larder/plugin-parquet-files/shared';
import type { DuckDBConnection } from '@duckdb/node-api';
import { Databases, type DuckDBStoreConfig } from './database.ts';
import { entityTableFromSql } from './entity-sql.ts';
import { historicalForDateRange, historicalFromEntityTable, type RetrievalSettings } from './historical-retrieval.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { onConnection, resultSchema } from './query-stream.ts';
import { assertInsideS3Roots } from './s3-roots.ts';
import { S3Access } from './s3-access.ts';
import { defaultEndpoint } from './s3-credentials.ts';
import { s3Failure } from './s3-errors.ts';
import { s3SettingsFromConfig, type S3Settings } from './s3-settings.ts';
import { SourceFiles, isS3Uri, s3UriOf, type SourceLocation } from './source-files.ts';
import { describeLocation } from './sources.ts';
import { readableScope } from './sql-scope.ts';
import { str } from './sql.ts';

export class DuckDBStore implements OfflineStore {
  private constructor(
    private readonly env: StoreEnvironment,
    private readonly databases: Databases,
    private readonly roots: readonly string[],
    private readonly retrieval: RetrievalSettings,
    private readonly s3Settings: S3Settings,
  ) {}

  static async create(config: DuckDBStoreConfig, env: StoreEnvironment): Promise<DuckDBStore> {
    const local = env.dataRoots.filter((r) => !isS3Uri(r));
    const roots = [env.repoPath, ...local].map((r) => path.resolve(env.repoPath, r));
    const s3Settings = s3SettingsFromConfig(config.s3);
    const extensionDirectory = config.extension_directory && path.resolve(env.repoPath, config.extension_directory);
    const sources = new SourceFiles(env.repoPath, new S3Access(s3Settings, extensionDirectory));
    const settings = { sources, strategy: config.point_in_time_strategy ?? 'auto' } as const;
    return new DuckDBStore(env, await Databases.open(config, env.repoPath, roots), roots, settings, s3Settings);
  }

  private get sources(): SourceFiles {
    return this.retrieval.sources;
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
    return onConnection(this.connect, (c) => pullLatest(c, req, this.sources, ctx));
  }

  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return onConnection(this.connect, (c) => pullAll(c, req, this.sources, ctx));
  }

  /** Like Feast's FileSource: the types pyarrow reports for the parquet schema. */
  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    if (s3UriOf(source) === undefined) {
      const schema = await readParquetSchema(await this.clientSourcePath(source, ctx));
      return pyarrowColumns(schema, { parquetRead: true });
    }
    return onConnection(this.connect, async (connection) => {
      const { location, files } = await this.clientS3Source(connection, source, ctx);
      // The first file's own columns, as pyarrow's dataset reports them (no hive partition columns).
      try {
        const probe = await connection.run(`SELECT * FROM read_parquet(${str(files[0]!)}, hive_partitioning = false) LIMIT 0`);
        return pyarrowColumns(resultSchema(probe), { parquetRead: true });
      } catch (error) {
        throw s3Failure(error, source, location) ?? error;
      }
    });
  }

  /** Like Feast's FileSource.validate: problems are warnings, never errors (except paths outside the roots). */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const s3 = s3UriOf(source);
    const location = s3 === undefined ? await this.clientSourcePath(source, ctx) : this.assertClientS3(source, s3);
    const connection = await this.databases.connect();
    const unreadable = (error: unknown) =>
      ctx.logger.warn({ source: source.name, path: location, err: (error as Error).message }, 'data source is not readable yet');
    try {
      let where: SourceLocation;
      try {
        where =
          s3 === undefined
            ? { location, files: await listParquetFiles(location), remote: false }
            : await this.sources.list(connection, source);
      } catch (error) {
        return unreadable(error);
      }
      if (s3 !== undefined && ctx.sourceAccess) await this.assertNotDeniedS3(connection, source, where, ctx.sourceAccess);
      try {
        const table = await describeLocation(connection, source, where);
        if (source.timestampField && !table.columns.has(source.timestampField)) {
          ctx.logger.warn({ source: source.name, column: source.timestampField }, 'timestamp field is not a column of the data source');
        }
      } catch (error) {
        unreadable(error);
      }
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
   * An s3:// source sent by a client, checked and listed: it must be under an s3:// entry of
   * `larder.data_roots`, and (under an auth provider) must not name the objects of a source the
   * caller may not read.
   */
  private async clientS3Source(connection: DuckDBConnection, source: DataSource, ctx: CallContext): Promise<SourceLocation> {
    this.assertClientS3(source, s3UriOf(source)!);
    const where = await this.sources.list(connection, source);
    if (ctx.sourceAccess) await this.assertNotDeniedS3(connection, source, where, ctx.sourceAccess);
    return where;
  }

  /**
   * A client-sent s3:// source is confined to the s3:// data roots, and may not name an endpoint of
   * its own: larder would send its signed requests wherever a client points it (a metadata
   * service, another account's server). Its `s3_endpoint_override` must be the store's endpoint.
   */
  private assertClientS3(source: DataSource, uri: string): string {
    assertInsideS3Roots(uri, this.env.dataRoots);
    const override = source.fileOptions?.s3EndpointOverride;
    const own = this.s3Settings.endpointUrl ?? defaultEndpoint();
    if (override && override !== own) {
      throw new InvalidArgumentError(
        `Data source ${source.name} names the S3 endpoint ${override} (s3_endpoint_override); the server reads client-sent sources only ` +
          `from its own endpoint (${own ?? 'AWS'}): set offline_store.s3.endpoint_url to it, or drop the override`,
      );
    }
    return uri;
  }

  /** Like assertNotDeniedFiles, for objects: refuses a source naming an object of a denied source that no readable one holds. */
  private async assertNotDeniedS3(
    connection: DuckDBConnection,
    source: DataSource,
    where: SourceLocation,
    access: SourceAccess,
  ): Promise<void> {
    const objects = async (s: DataSource) =>
      s3UriOf(s) === undefined ? [] : (await this.sources.list(connection, s).catch(() => ({ files: [] as readonly string[] }))).files;
    const readable = new Set((await Promise.all(access.readable.map(objects))).flat());
    for (const denied of access.denied) {
      const files = new Set(await objects(denied));
      const hit = where.files.find((file) => files.has(file) && !readable.has(file));
      if (hit) {
        throw new FeastPermissionError(
          `Data source ${source.name} names ${hit}, which holds the data of data source ${denied.name}; you may not read it (READ_OFFLINE)`,
        );
      }
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
