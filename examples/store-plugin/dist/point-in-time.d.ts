/**
 * The point-in-time rule (larder's DESIGN.md, Feast's intended rule): for an entity row with key K
 * and time T, the source row with key K and the greatest event time ts ≤ T, ties broken by the
 * greater created time (nulls lowest), then by the later source row — provided T − ttl ≤ ts
 * (ttl 0: no lower bound). Null keys and null times never match.
 */
/** One version of a row: its event time and created time, in nanoseconds (null when absent). */
export interface Version {
    readonly ts: bigint;
    readonly created: bigint | null;
}
/** Orders versions by (event time, created time with null lowest); 0 for a full tie. */
export declare function compareVersions(a: Version, b: Version): number;
/** The columns of a source the rule reads: key, event time and created time of every row. */
export interface SourceRows {
    readonly keys: readonly (string | null)[];
    readonly ts: readonly (bigint | null)[];
    readonly created: readonly (bigint | null)[] | null;
}
/** For each entity row (its key and time), the index of the chosen source row, or -1. */
export declare function pointInTimeRows(source: SourceRows, entityKeys: readonly (string | null)[], entityTs: readonly (bigint | null)[], ttlSeconds: number): Int32Array;
