/**
 * The start/end-date mode of get_historical_features (no entity table), as larder's built-in stores
 * answer it: every distinct (join keys, event time) of the requested views' source rows with
 * start ≤ ts ≤ end becomes an entity row `event_timestamp, <join keys>`, and each view is then
 * joined to those rows as usual.
 */
import { type FeatureView } from '@larder/core';
import { Table } from 'apache-arrow';
import type { SourceReader } from './historical.ts';
export declare function entitiesInRange(views: readonly FeatureView[], start: Date, end: Date, read: SourceReader): Promise<Table>;
