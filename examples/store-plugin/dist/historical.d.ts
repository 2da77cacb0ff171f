/**
 * get_historical_features: each requested view is point-in-time joined to the entity rows, and
 * the result streams out in batches of entity rows, in their order, features taken on the fly.
 */
import { type DataSource, type HistoricalFeaturesRequest, type ResultStream } from '@larder/core';
import { type Table } from 'apache-arrow';
/** A source's rows, read for the current call, and how error messages name it. */
export interface LoadedSource {
    readonly table: Table;
    readonly where: string;
}
/** Reads a source once per call (several views may share it). */
export type SourceReader = (source: DataSource) => Promise<LoadedSource>;
export declare function historicalFeatures(entities: Table, req: HistoricalFeaturesRequest, read: SourceReader, batchRows: number, signal: AbortSignal): Promise<ResultStream>;
