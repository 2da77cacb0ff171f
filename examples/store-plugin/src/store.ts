/**
 * The OfflineStore: one instance per server, shared by concurrent calls. Each call reads the
 * sources it needs whole (once per call, however many views share one), so a call always sees
 * the files as they are now; results stream out in batches of `batch_rows` rows.
 */
import {
  InvalidArgumentError,
  UnimplementedError,
  dateRange,
  pyarrowColumns,
  requestedFeaturesByView,
  type CallContext,
  type ColumnInfo,
  type DataSource,
  type HistoricalFeaturesRequest,
  type OfflineStore,
  type PullRequest,
  type ResultStream,
  type StoreEnvironment,
} from '@larder/core';
import { clientSourceLocation } from './client-sources.ts';
import { entitiesInRange } from './date-range.ts';
import { historicalFeatures, type LoadedSource, type SourceReader } from './historical.ts';
import { parquetFiles, readSource, readSourceSchema, sourceLocation } from './parquet-source.ts';
import { pullAll, pullLatest } from './pulls.ts';

/** The store's settings, from its section of feature_store.yaml (see the plugin's configSchema). */
export interface ExampleStoreSettings {
  /** Largest source, in bytes of parquet, that a call may read into memory. */
  readonly maxSourceBytes: number;
  /** Rows per result batch. */
  readonly batchRows: number;
}

export class ExampleParquetStore implements OfflineStore {
  constructor(
    private readonly env: StoreEnvironment,
    private readonly settings: ExampleStoreSettings,
  ) {}

  async getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream> {
    if (req.entityDfSql !== undefined) {
      throw new InvalidArgumentError('larder-store-example cannot run entity_df SQL: send the entity rows as a pandas DataFrame');
    }
    const read = this.readerForCall(ctx);
    let entities = req.entityTable;
    if (!entities) {
      const views = requestedFeaturesByView(req.featureViews, req.featureRefs).map((r) => r.view);
      const { start, end } = dateRange(views, req.startDate, req.endDate);
      entities = await entitiesInRange(views, start, end, read);
    }
    return historicalFeatures(entities, req, read, this.settings.batchRows, ctx.signal);
  }

  async pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullLatest(req, await this.readerForCall(ctx)(req.source), this.settings.batchRows, ctx.signal);
  }

  async pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream> {
    return pullAll(req, await this.readerForCall(ctx)(req.source), this.settings.batchRows, ctx.signal);
  }

  async getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]> {
    const schema = await readSourceSchema(await clientSourceLocation(source, this.env, ctx));
    // Type names exactly as pyarrow prints them: the Feast client maps them to Feast types by name.
    return pyarrowColumns(schema, { parquetRead: true });
  }

  /** Like Feast's FileSource.validate: a source with no data yet only earns a warning. */
  async validateDataSource(source: DataSource, ctx: CallContext): Promise<void> {
    const location = await clientSourceLocation(source, this.env, ctx);
    await parquetFiles(location).catch((error: Error) =>
      ctx.logger.warn({ source: source.name, err: error.message }, 'data source has no parquet files yet'),
    );
  }

  async offlineWriteBatch(): Promise<void> {
    throw readOnly('offline_write_batch (push sources, materialization writes)');
  }

  async writeLoggedFeatures(): Promise<void> {
    throw readOnly('write_logged_features');
  }

  async persist(): Promise<void> {
    throw readOnly('persist (saved datasets)');
  }

  async close(): Promise<void> {}

  /** A reader that reads each source at most once during one call. */
  private readerForCall(ctx: CallContext): SourceReader {
    const loaded = new Map<string, Promise<LoadedSource>>();
    return (source) => {
      const location = sourceLocation(source, this.env.repoPath);
      let entry = loaded.get(location);
      if (!entry) {
        entry = readSource(location, this.settings.maxSourceBytes, ctx.signal).then((table) => ({
          table,
          where: source.fileOptions?.uri ?? location,
        }));
        loaded.set(location, entry);
      }
      return entry;
    };
  }
}

function readOnly(call: string): UnimplementedError {
  return new UnimplementedError(
    `larder-store-example is read-only: it does not implement ${call}; use the built-in \`file\` store to write parquet`,
  );
}
