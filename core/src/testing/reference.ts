/**
 * The kit's reference answers, computed the plain way (every candidate row looked at) so that they
 * are obviously right: the point-in-time rule of get_historical_features and the two pulls.
 *
 * The rule (Feast's intended one, larder's DESIGN.md): one output row per entity row, in the
 * entity rows' order, duplicates kept; for each requested view, the source row with the same
 * (non-null) join keys whose timestamp is at or before the entity timestamp T and, when the view
 * has a ttl, at or after T − ttl; the latest such row, a timestamp tie going to the later created
 * timestamp (a null created losing), a full tie to the later source row; no such row → nulls.
 */
import { nameToUse, type DataSource, type FeatureView } from '../registry/model.ts';
import type { KitTable, Row, Value } from './kit-table.ts';

/** A view as the reference reads it: raw source columns, and the rows of its source. */
interface ReferenceView {
  readonly name: string;
  readonly rows: readonly Row[];
  readonly timestampColumn: string;
  readonly createdColumn: string | null;
  readonly keys: ReadonlyArray<{ readonly sourceColumn: string; readonly entityColumn: string }>;
  readonly ttlMs: number;
}

/** The raw source column holding `name` as the view sees it (field_mapping renames raw → view name). */
function rawColumn(source: DataSource, name: string): string {
  const entry = Object.entries(source.fieldMapping).find(([, mapped]) => mapped === name);
  return entry ? entry[0] : name;
}

function referenceView(view: FeatureView, sourceRows: KitTable): ReferenceView {
  const source = view.batchSource!;
  return {
    name: nameToUse(view.projection),
    rows: sourceRows.rows,
    timestampColumn: rawColumn(source, source.timestampField),
    createdColumn: source.createdTimestampColumn ? rawColumn(source, source.createdTimestampColumn) : null,
    keys: view.entityColumns.map((c) => ({
      sourceColumn: rawColumn(source, c.name),
      entityColumn: view.projection.joinKeyMap[c.name] ?? c.name,
    })),
    ttlMs: view.ttlSeconds * 1000,
  };
}

/** Whether row `a` (at index ia) beats row `b` (at ib) as the latest: ts, then created (null lowest), then source order. */
function later(v: ReferenceView, a: Row, ia: number, b: Row, ib: number): boolean {
  const ta = a[v.timestampColumn] as number;
  const tb = b[v.timestampColumn] as number;
  if (ta !== tb) return ta > tb;
  if (v.createdColumn) {
    const ca = a[v.createdColumn] as number | null;
    const cb = b[v.createdColumn] as number | null;
    if (ca !== cb) return cb === null || (ca !== null && ca > cb);
  }
  return ia > ib;
}

/** The source row a view joins to an entity row, or null. */
function matchRow(v: ReferenceView, entity: Row, timestampColumn: string): Row | null {
  const t = entity[timestampColumn];
  if (typeof t !== 'number') return null;
  let best: { row: Row; index: number } | null = null;
  v.rows.forEach((row, index) => {
    const ts = row[v.timestampColumn];
    if (typeof ts !== 'number' || ts > t || (v.ttlMs > 0 && ts < t - v.ttlMs)) return;
    for (const key of v.keys) {
      const want = entity[key.entityColumn];
      if (want === null || want === undefined || row[key.sourceColumn] !== want) return;
    }
    if (!best || later(v, row, index, best.row, best.index)) best = { row, index };
  });
  return best === null ? null : (best as { row: Row }).row;
}

export interface ExpectedResult {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

/**
 * get_historical_features with an entity table: the entity columns, then each requested feature
 * (views in the order refs first name them, features in ref order), named `view__feature` with
 * full feature names. `sources` gives each view's source rows by the source's name.
 */
export function expectedHistorical(
  entities: KitTable,
  views: readonly FeatureView[],
  refs: readonly string[],
  fullFeatureNames: boolean,
  sources: ReadonlyMap<string, KitTable>,
): ExpectedResult {
  const timestampColumn = entities.columns.some((c) => c.name === 'event_timestamp')
    ? 'event_timestamp'
    : entities.columns.find((c) => c.kind === 'timestamp')!.name;
  const requested: Array<{ view: FeatureView; features: string[] }> = [];
  for (const ref of refs) {
    const [viewName, feature] = ref.split(':') as [string, string];
    const view = views.find((v) => nameToUse(v.projection) === viewName)!;
    let entry = requested.find((r) => r.view === view);
    if (!entry) requested.push((entry = { view, features: [] }));
    if (!entry.features.includes(feature)) entry.features.push(feature);
  }
  const outputs = requested.map(({ view, features }) => ({
    ref: referenceView(view, sources.get(view.batchSource!.name)!),
    features: features.map((f) => ({
      raw: rawColumn(view.batchSource!, f),
      output: fullFeatureNames ? `${nameToUse(view.projection)}__${f}` : f,
    })),
  }));
  const columns = [...entities.columns.map((c) => c.name), ...outputs.flatMap((o) => o.features.map((f) => f.output))];
  const rows = entities.rows.map((entity) => {
    const out: Record<string, Value> = { ...entity };
    for (const o of outputs) {
      const match = matchRow(o.ref, entity, timestampColumn);
      for (const f of o.features) out[f.output] = match ? (match[f.raw] ?? null) : null;
    }
    return out;
  });
  return { columns, rows };
}

/** What a pull asks, in raw source column names. */
export interface ReferencePull {
  readonly joinKeyColumns: readonly string[];
  readonly featureNameColumns: readonly string[];
  readonly timestampField: string;
  readonly createdTimestampColumn: string | null;
  readonly startDate: Date | null;
  readonly endDate: Date | null;
}

function pullColumnsOf(source: KitTable, pull: ReferencePull): string[] {
  const features = pull.featureNameColumns.length > 0 ? pull.featureNameColumns : source.columns.map((c) => c.name);
  const wanted = [
    ...pull.joinKeyColumns,
    ...features,
    pull.timestampField,
    ...(pull.createdTimestampColumn ? [pull.createdTimestampColumn] : []),
  ];
  return [...new Set(wanted)];
}

function inBounds(row: Row, pull: ReferencePull): boolean {
  const ts = row[pull.timestampField];
  if (typeof ts !== 'number') return false;
  if (pull.startDate && ts < pull.startDate.getTime()) return false;
  if (pull.endDate && ts > pull.endDate.getTime()) return false;
  return true;
}

const project = (row: Row, columns: readonly string[]): Row => Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));

/** pull_all_from_table_or_query: every row with start ≤ ts ≤ end (no order). */
export function expectedPullAll(source: KitTable, pull: ReferencePull): ExpectedResult {
  const columns = pullColumnsOf(source, pull);
  return { columns, rows: source.rows.filter((r) => inBounds(r, pull)).map((r) => project(r, columns)) };
}

/** pull_latest_from_table_or_query: per join-key tuple, the latest row with start ≤ ts ≤ end (no order). */
export function expectedPullLatest(source: KitTable, pull: ReferencePull): ExpectedResult {
  const columns = pullColumnsOf(source, pull);
  const view: ReferenceView = {
    name: '',
    rows: source.rows,
    timestampColumn: pull.timestampField,
    createdColumn: pull.createdTimestampColumn,
    keys: [],
    ttlMs: 0,
  };
  const best = new Map<string, { row: Row; index: number }>();
  source.rows.forEach((row, index) => {
    if (!inBounds(row, pull)) return;
    const key = JSON.stringify(pull.joinKeyColumns.map((c) => row[c] ?? null));
    const current = best.get(key);
    if (!current || later(view, row, index, current.row, current.index)) best.set(key, { row, index });
  });
  return { columns, rows: [...best.values()].map((b) => project(b.row, columns)) };
}
