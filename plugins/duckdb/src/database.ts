/**
 * The DuckDB databases a store owns: one in-memory instance for its own queries, and — opened on
 * first use — a locked-down one for client SQL (`entity_df_sql`).
 *
 * Every call gets its own connection: temporary tables (the uploaded entity rows) are then
 * private to the call, and interrupting one call's query leaves the others running.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { S3ConfigSection } from './s3-settings.ts';

/** The `offline_store` section of feature_store.yaml for `type: duckdb`. */
export interface DuckDBStoreConfig {
  readonly type: string;
  /** Feast's: where its ibis backend stages remote writes. Accepted for compatibility, unused. */
  readonly staging_location?: string | null;
  readonly staging_location_endpoint_override?: string | null;
  /** larder's: DuckDB worker threads (DuckDB's default: one per core). */
  readonly threads?: number;
  /** larder's: DuckDB's memory_limit, e.g. "4GB" (DuckDB's default: 80% of RAM). */
  readonly memory_limit?: string;
  /** larder's: where DuckDB spills when a query outgrows memory_limit; relative to the repo. */
  readonly temp_directory?: string;
  /** larder's: how get_historical_features matches rows (point-in-time-query.ts); default auto. */
  readonly point_in_time_strategy?: 'auto' | 'asof' | 'join';
  /**
   * larder's: DuckDB's extension_directory, relative to the repo — where the httpfs extension for
   * s3:// sources is (`<dir>/v<duckdb version>/<platform>/httpfs.duckdb_extension`, as
   * scripts/ensure-duckdb-extensions.sh lays it out). DuckDB's default: ~/.duckdb/extensions.
   */
  readonly extension_directory?: string;
  /** larder's: S3 endpoint, region, addressing and TLS for s3:// sources (s3-settings.ts). */
  readonly s3?: S3ConfigSection;
}

/** What client SQL may read: single files, and directories with everything under them. */
export interface FileScope {
  readonly paths: readonly string[];
  readonly directories: readonly string[];
}

export class Databases {
  private sandbox: Promise<DuckDBInstance> | null = null;

  private constructor(
    private readonly main: DuckDBInstance,
    private readonly options: Record<string, string>,
    private readonly readableRoots: readonly string[],
  ) {}

  /** Opens the main instance with the configured limits. */
  static async open(config: DuckDBStoreConfig, repoPath: string, readableRoots: readonly string[]): Promise<Databases> {
    // DuckDB (>= 1.3) keeps every file range it reads in an "external file cache" until memory_limit
    // (80% of RAM by default): a pull of a 0.9 GB parquet file left ~100 MB behind, growing with each
    // file read. Local files have the OS page cache; S3 sources are read again by ranged GETs rather
    // than held in memory up to memory_limit.
    const options: Record<string, string> = {
      enable_external_file_cache: 'false',
      // Extensions are never downloaded (these machines and air-gapped clusters cannot): httpfs is
      // loaded explicitly, from extension_directory, when a source is in S3 (s3-access.ts).
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    };
    if (config.extension_directory !== undefined) options.extension_directory = path.resolve(repoPath, config.extension_directory);
    if (config.threads !== undefined) options.threads = String(config.threads);
    if (config.memory_limit !== undefined) options.memory_limit = config.memory_limit;
    if (config.temp_directory !== undefined) {
      options.temp_directory = path.resolve(repoPath, config.temp_directory);
      mkdirSync(options.temp_directory, { recursive: true });
    }
    const main = await DuckDBInstance.create(':memory:', options);
    const setup = await main.connect();
    try {
      // Naive timestamps are UTC in Feast; DuckDB's session zone would otherwise be the host's.
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
    } finally {
      setup.disconnectSync();
    }
    return new Databases(main, options, readableRoots);
  }

  /**
   * A fresh connection to the main instance; the caller disconnects it.
   *
   * A streaming result is produced ahead of its reader only up to streaming_buffer_size (1 MB by
   * default, and a per-connection setting): below the output of one parquet row group (pyarrow
   * writes 1M rows per group, ~45 MB for six numeric columns) DuckDB computes each 2,048-row chunk
   * only when it is fetched, one at a time. 64 MB lets it decode ahead on its threads: a 10M-row
   * pull fetched in 0.84-0.89 s against 2.6-2.9 s (32 MB: no change), a bounded amount per query.
   */
  async connect(): Promise<DuckDBConnection> {
    const connection = await this.main.connect();
    await connection.run("SET streaming_buffer_size = '64MB'");
    return connection;
  }

  /**
   * A connection to the instance that runs client SQL: it can read files only under the repo and
   * `larder.data_roots`, and its configuration is locked so SQL cannot lift that.
   */
  async connectSandbox(): Promise<DuckDBConnection> {
    this.sandbox ??= this.openSandbox();
    return (await this.sandbox).connect();
  }

  private openSandbox(): Promise<DuckDBInstance> {
    return this.lockedInstance({ directories: this.readableRoots, paths: [] });
  }

  /**
   * A database of its own for one call's client SQL, that can read exactly `scope` (files, and
   * directories with everything under them) and nothing else; close it when the call is done.
   * DuckDB's allowed_paths/allowed_directories are instance-wide settings, so a per-caller scope
   * needs an instance per call (about 15 ms to open).
   */
  async openConfined(scope: FileScope): Promise<DuckDBInstance> {
    return this.lockedInstance(scope);
  }

  /**
   * An in-memory instance whose SQL reads only `scope`: external access off, the allowed
   * paths set, then the configuration locked so no statement (SET, PRAGMA, a function) can lift
   * them. DuckDB normalises `..` and relative paths (against the process's working directory)
   * before it compares them with the allowed ones.
   */
  private async lockedInstance(scope: FileScope): Promise<DuckDBInstance> {
    const { temp_directory: _unused, ...limits } = this.options;
    const instance = await DuckDBInstance.create(':memory:', limits);
    const setup = await instance.connect();
    try {
      await setup.run("SET GLOBAL TimeZone = 'UTC'");
      const list = (items: readonly string[]) => `[${items.map((d) => `'${d.replaceAll("'", "''")}'`).join(', ')}]`;
      await setup.run(`SET allowed_directories = ${list(scope.directories.map((d) => (d.endsWith('/') ? d : `${d}/`)))}`);
      await setup.run(`SET allowed_paths = ${list(scope.paths)}`);
      await setup.run('SET enable_external_access = false');
      await setup.run('SET lock_configuration = true');
    } catch (error) {
      setup.disconnectSync();
      instance.closeSync();
      throw error;
    }
    setup.disconnectSync();
    return instance;
  }

  close(): void {
    this.main.closeSync();
    void this.sandbox?.then((s) => s.closeSync()).catch(() => {});
  }
}
