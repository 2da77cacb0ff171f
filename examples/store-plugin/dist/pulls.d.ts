/**
 * pull_all_from_table_or_query and pull_latest_from_table_or_query over a source's rows. Output
 * columns are raw source names: join keys, features (every column when none are named), event
 * time, created time, each once; plus Feast's `__dummy_id` ("") when there are no join keys.
 * Both bounds are inclusive; rows with a null event time are never returned.
 */
import { type PullRequest, type ResultStream } from '@larder/core';
import type { LoadedSource } from './historical.ts';
export declare function pullAll(req: PullRequest, source: LoadedSource, batchRows: number, signal: AbortSignal): ResultStream;
export declare function pullLatest(req: PullRequest, source: LoadedSource, batchRows: number, signal: AbortSignal): ResultStream;
