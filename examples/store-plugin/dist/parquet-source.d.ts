import { type DataSource } from '@larder/core';
import { type Schema, type Table } from 'apache-arrow';
/** The absolute path of a FileSource's data. Other source types and remote URIs are refused. */
export declare function sourceLocation(source: DataSource, repoPath: string): string;
/** The parquet files of a source path; DataSourceNotFoundException (Feast's error) when there are none. */
export declare function parquetFiles(location: string): Promise<string[]>;
/**
 * Every row of the source, its files in order. The whole source is held in memory, which is what
 * keeps this store short: `maxBytes` (the `max_source_mb` setting) refuses a source too large.
 */
export declare function readSource(location: string, maxBytes: number, signal: AbortSignal): Promise<Table>;
/** The columns of a source, as its first file has them (as pyarrow's dataset discovery does). */
export declare function readSourceSchema(location: string): Promise<Schema>;
