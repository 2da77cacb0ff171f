/**
 * The entity rows numbered by key group (rows with equal join keys), with the time span of each
 * group: a source row can only be chosen by a group's rows if it lies within that span.
 */
import type { Table } from 'apache-arrow';
import { encodeKeys, type KeyValue } from './keys.ts';
import type { EntityRows } from './point-in-time.ts';
import type { Instants } from './timestamps.ts';

export interface EntityGroups {
  readonly rows: EntityRows;
  /** Key value → group number. */
  readonly groups: Map<KeyValue, number>;
  /** Per group, the earliest and latest entity timestamp in whole µs (±Infinity: none). */
  readonly minUs: Float64Array;
  readonly maxUs: Float64Array;
}

/** A null key part or a null timestamp never matches: such rows get group -1 or a NaN time. */
export function entityGroups(entities: Table, keyColumns: readonly string[], ts: Instants): EntityGroups {
  const n = entities.numRows;
  const group = new Int32Array(n).fill(-1);
  const groups = new Map<KeyValue, number>();
  let offset = 0;
  for (const batch of entities.batches) {
    const keys = encodeKeys(
      keyColumns.map((c) => batch.getChild(c)!.data[0]!),
      batch.numRows,
    );
    for (let r = 0; r < batch.numRows; r++) {
      const key = keys[r];
      if (key === null || key === undefined) continue;
      let id = groups.get(key);
      if (id === undefined) {
        id = groups.size;
        groups.set(key, id);
      }
      group[offset + r] = id;
    }
    offset += batch.numRows;
  }
  const minUs = new Float64Array(groups.size).fill(Infinity);
  const maxUs = new Float64Array(groups.size).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    const g = group[i]!;
    const us = ts.us[i]!;
    if (g < 0 || Number.isNaN(us)) continue;
    if (us < minUs[g]!) minUs[g] = us;
    if (us > maxUs[g]!) maxUs[g] = us;
  }
  return { rows: { length: n, group, tsUs: ts.us, tsNs: ts.ns }, groups, minUs, maxUs };
}
