/**
 * The OfflineStore: one instance per server, shared by concurrent calls. Each call reads the
 * sources it needs whole (once per call, however many views share one), so a call always sees
 * the files as they are now; results stream out in batches of `batch_rows` rows.
 */
import { type CallContext, type ColumnInfo, type DataSource, type HistoricalFeaturesRequest, type OfflineStore, type PullRequest, type ResultStream, type StoreEnvironment } from '@larder/core';
/** The store's settings, from its section of feature_store.yaml (see the plugin's configSchema). */
export interface ExampleStoreSettings {
    /** Largest source, in bytes of parquet, that a call may read into memory. */
    readonly maxSourceBytes: number;
    /** Rows per result batch. */
    readonly batchRows: number;
}
export declare class ExampleParquetStore implements OfflineStore {
    private readonly env;
    private readonly settings;
    constructor(env: StoreEnvironment, settings: ExampleStoreSettings);
    getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream>;
    pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream>;
    pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream>;
    getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]>;
    /** Like Feast's FileSource.validate: a source with no data yet only earns a warning. */
    validateDataSource(source: DataSource, ctx: CallContext): Promise<void>;
    offlineWriteBatch(): Promise<void>;
    writeLoggedFeatures(): Promise<void>;
    persist(): Promise<void>;
    close(): Promise<void>;
    /** A reader that reads each source at most once during one call. */
    private readerForCall;
}
