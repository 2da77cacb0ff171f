/**
 * The Arrow column operations a store written in JavaScript needs and apache-arrow lacks: the
 * instants of a time column, join keys as comparable strings, and "take" (rows picked by index).
 */
import type { SourceColumnTypes } from '@larder/core';
import { DataType, type Data, type Schema, type Vector } from 'apache-arrow';
/** Whether a column holds times: a timestamp of any unit, or a date (read as midnight UTC). */
export declare function isTimeType(type: DataType): boolean;
/**
 * Each row of a timestamp or date column as nanoseconds since the epoch (null stays null).
 * Timestamps are read from their raw int64 counts: `Vector.get` returns float milliseconds,
 * which loses the microseconds of large values.
 */
export declare function instantsNs(column: Vector): (bigint | null)[];
/**
 * The join key of each row as one string. Numbers of any width compare by value (an entity column
 * pandas made float64 still matches an int64 source); strings are quoted, so "5" never equals 5.
 * A null part makes the key null (`nulls: 'never-match'`, the point-in-time rule) or the token
 * `null` (`nulls: 'group'`, pull_latest, where such rows form their own group, as in pandas).
 */
export declare function keyStrings(columns: readonly Vector[], length: number, nulls: 'never-match' | 'group'): (string | null)[];
/**
 * A column whose row i is row `rows[i]` of `column`, or null where `rows[i]` is -1. Numeric and
 * time columns are copied bit for bit; other types go through `Vector.get` and a builder (exact
 * for strings, booleans, dates, lists of numbers; nested timestamps only to the millisecond).
 */
export declare function take(column: Vector, rows: Int32Array): Data;
/** What core's time-column checks (assertViewTimeColumns, assertPullTimeColumns) ask of a schema. */
export declare function columnTypes(schema: Schema): SourceColumnTypes;
