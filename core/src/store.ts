/**
 * The offline-store plugin contract: what a store receives and what it returns.
 *
 * Core has already validated the command, resolved every registry object, checked permissions
 * and refused on-demand feature views before a store method runs. A store only reads and writes
 * data. Results are streams of Arrow record batches: a store must not build the whole result in
 * memory, and must stop work when `ctx.signal` aborts (client gone or deadline passed).
 */
import type { RecordBatch, Schema, Table } from 'apache-arrow';
import type { Logger } from 'pino';
import type { DataSource, FeatureService, FeatureView } from './registry/model.ts';

/** Per-call context handed to every store method. */
export interface CallContext {
  /** Aborts when the client disconnects or the call's deadline passes. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Name of the authenticated user, or null without auth. */
  readonly user: string | null;
  /**
   * Under an auth provider, for the calls that return what client-written SQL (`entity_df_sql`) or
   * a client-written data source (column listing) reads: which of the project's data
   * sources the caller may READ_OFFLINE. No byte of a data source may reach a caller who lacks
   * READ_OFFLINE on it, so such SQL must read no other source's data (a FeastPermissionError names
   * what it may not read), and a client-written source must not name a denied source's data.
   * Absent with `no_auth` (nothing is enforced) and on the other calls (core has checked them).
   */
  readonly sourceAccess?: SourceAccess;
}

/** The project's data sources split by whether the caller has READ_OFFLINE on them. */
export interface SourceAccess {
  readonly readable: readonly DataSource[];
  readonly denied: readonly DataSource[];
}

/** A streamed result: its schema up front, then the batches as they are produced. */
export interface ResultStream {
  readonly schema: Schema;
  /** Total rows, when known before streaming (used for FlightInfo.total_records). */
  readonly numRows?: number;
  readonly batches: AsyncIterable<RecordBatch>;
}

/** `get_historical_features`, after core resolved the views. */
export interface HistoricalFeaturesRequest {
  /** Regular views in request order, each with its projection applied and dummies removed. */
  readonly featureViews: readonly FeatureView[];
  /** `view:feature` refs as sent (view part is the projection's name_to_use()). */
  readonly featureRefs: readonly string[];
  readonly project: string;
  readonly fullFeatureNames: boolean;
  /** The uploaded entity table; absent in the start/end-date mode and with `entityDfSql`. */
  readonly entityTable?: Table;
  readonly entityDfSql?: string;
  /** Start/end of the date mode; naive values from the client are already read as UTC. */
  readonly startDate?: Date;
  readonly endDate?: Date;
}

/** `pull_latest_from_table_or_query` / `pull_all_from_table_or_query`. Column names are raw source names. */
export interface PullRequest {
  readonly source: DataSource;
  readonly joinKeyColumns: readonly string[];
  readonly featureNameColumns: readonly string[];
  readonly timestampField: string;
  readonly createdTimestampColumn: string | null;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
}

export interface OfflineWriteRequest {
  readonly featureView: FeatureView;
  /** Already renamed forward by the client (field_mapping applied). */
  readonly table: Table;
}

export interface LoggedFeaturesRequest {
  readonly featureService: FeatureService;
  readonly table: Table;
}

export interface PersistRequest {
  /** The retrieval to persist, produced by this same store. */
  readonly result: ResultStream;
  readonly destination: DataSource;
  readonly allowOverwrite: boolean;
}

export interface ColumnInfo {
  readonly name: string;
  /** The type as Feast's store reports it (pyarrow `str(type)` for files, type names for SQL). */
  readonly type: string;
}

/** An offline store: one instance per server, shared by concurrent calls. */
export interface OfflineStore {
  getHistoricalFeatures(req: HistoricalFeaturesRequest, ctx: CallContext): Promise<ResultStream>;
  pullLatestFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream>;
  pullAllFromTableOrQuery(req: PullRequest, ctx: CallContext): Promise<ResultStream>;
  getTableColumnNamesAndTypes(source: DataSource, ctx: CallContext): Promise<readonly ColumnInfo[]>;
  /** Feast's FileSource.validate only warns; a store may throw a FeastError for a source it cannot serve. */
  validateDataSource(source: DataSource, ctx: CallContext): Promise<void>;
  /*
   * The writes: a store that cannot write throws UnimplementedError from them (a JavaScript plugin
   * may also leave them out); either way the client is answered UNIMPLEMENTED naming the call.
   */
  offlineWriteBatch(req: OfflineWriteRequest, ctx: CallContext): Promise<void>;
  writeLoggedFeatures(req: LoggedFeaturesRequest, ctx: CallContext): Promise<void>;
  persist(req: PersistRequest, ctx: CallContext): Promise<void>;
  /** Answers when the store can serve (used by health checks). */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** What a store plugin is given when the server builds its store. */
export interface StoreEnvironment {
  /** The feature repo directory (`--chdir` or cwd): relative source paths resolve against it. */
  readonly repoPath: string;
  /** Directories a client-sent data source may name, besides the repo. */
  readonly dataRoots: readonly string[];
  /** The whole `feature_store.yaml`, validated. */
  readonly repoConfig: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
}

/**
 * The default export of an offline-store plugin module. `type` values are the `offline_store.type`
 * strings it answers to; `configSchema` is a JSON Schema for the whole `offline_store` section.
 */
export interface OfflineStorePlugin {
  readonly kind: 'offline_store';
  readonly name: string;
  readonly configSchema: Readonly<Record<string, unknown>>;
  create(config: Readonly<Record<string, unknown>>, env: StoreEnvironment): OfflineStore | Promise<OfflineStore>;
}
