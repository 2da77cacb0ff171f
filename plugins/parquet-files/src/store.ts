/** The `file` offline store: each OfflineStore call delegated to the module that does it. */
import {
  InvalidArgumentError,
  dateRange,
  pyarrowColumns,
  requestedFeaturesByView,
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
import { snapshotEntityTable } from './end-date-snapshot.ts';
import { historicalFromEntityTable } from './historical-retrieval.ts';
import { listSourceFiles, readParquetSchema } from './parquet-read.ts';
import { pullAll, pullLatest } from './pull-rows.ts';
import { assertNotDeniedFiles } from './denied-files.ts';
import { assertInsideRoots, locationName, SourceLocator, type SourceLocation } from './source-paths.ts';
import { assertEndpointAllowed, assertS3InsideRoots, isS3Uri, S3Connector, s3Roots, type S3Ref, type S3Settings } from './s3/index.ts';
import { offlineWriteBatch, persist, writeLoggedFeatures } from './write-calls.ts';

export class ParquetFileStore implements OfflineStore {
  private readonly s3: S3Connector;
  private readonly locator: SourceLocator;
  /** Where client-sent local sources may be: the repo and the local entries of larder.data_roots. */
  private readonly localRoots: readonly string[];
  /** Where client-sent s3:// sources may be: the `s3://` entries of larder.data_roots. */
  private readonly s3Roots: readonly S3Ref[];

  constructor(
    private readonly env: StoreEnvironment,
    s3Settings: S3Settings,
  ) {
    this.s3 = new S3Connector(s3Settings);
    this.locator = new SourceLocator(env.repoPath, this.s3);
    this.localRoots = [env.repoPath, ...env.dataRoots.filter((root) => !isS3Uri(root))];
    this.s3Roots = s3Roots(env.dataRoots);
  }

  async getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    if (req.entityDfSql !== undefined) {
      // Feast's file store: ValueError with this text.
      throw new InvalidArgumentError('Please provide an entity_df of type pd.DataFrame: the file store cannot run entity_df SQL');
    }
    if (req.entityTable) return historicalFromEntityTable(req.entityTable, req, this.locator, ctx);
    // The start/end-date mode: a snapshot as of end_date, as Feast's file store (end-date-snapshot.ts).
    const views = requestedFeaturesByView(req.featureViews, req.featureRefs).map((r) => r.view);
    const { end } = dateRange(views, req.startDate, req.endDate);
    const entities = await snapshotEntityTable(views, end, this.locator, ctx);
    return historicalFromEntityTable(entities, req, this.locator, ctx, { keysBeforeEachView: true });
  }

  pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullLatest(req, this.locator, ctx);
  }

  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullAll(req, this.locator, ctx);
  }

  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    const schema = await readParquetSchema(await this.clientSourcePath(source, ctx));
    return pyarrowColumns(schema, { parquetRead: true });
  }

  /** Like Feast's FileSource.validate: problems are warnings, never errors (except paths outside the roots). */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const location = await this.clientSourcePath(source, ctx);
    try {
      await listSourceFiles(location);
      const schema = await readParquetSchema(location);
      if (source.timestampField && !schema.fields.some((f) => f.name === source.timestampField)) {
        ctx.logger.warn({ source: source.name, column: source.timestampField }, 'timestamp field is not a column of the data source');
      }
    } catch (error) {
      ctx.logger.warn(
        { source: source.name, path: locationName(location), err: (error as Error).message },
        'data source is not readable yet',
      );
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

  async close(): Promise<void> {
    this.s3.close();
  }

  /** A source sent by a client must stay under the repo or a configured data root. */
  private async clientSourcePath(source: DataSource, ctx: CallContext): Promise<SourceLocation> {
    const location = this.locator.locate(source);
    if (typeof location === 'string') assertInsideRoots(location, this.localRoots);
    else {
      assertEndpointAllowed(source.fileOptions?.s3EndpointOverride, this.s3.settings.endpointUrl, source.name);
      assertS3InsideRoots(location.ref, this.s3Roots, source.name);
    }
    if (ctx.sourceAccess) await assertNotDeniedFiles(source, location, ctx.sourceAccess, this.locator);
    return location;
  }
}
