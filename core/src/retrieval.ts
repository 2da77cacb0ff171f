/**
 * What every store does alike when it answers get_historical_features (part of the public API):
 * grouping the refs by view, resolving a view's columns in its source, finding the entity
 * timestamp column, the date-mode defaults; and the columns of the pulls.
 */
import { DataType, Type, type Schema } from 'apache-arrow';
import {
  EntityTimestampInferenceException,
  FailedPreconditionError,
  FeastJoinKeysDuringMaterialization,
  InvalidArgumentError,
  MissingColumnError,
} from './errors.ts';
import type { PullRequest } from './store.ts';
import { nameToUse, type DataSource, type FeatureView } from './registry/model.ts';

/**
 * Grouping `view:feature` refs by view, as Feast's `_get_requested_feature_views_to_features_dict`
 * does: a ref names a view by its projection's name_to_use() (`name`, `alias`, `name@vN`), views
 * come out in the order they are first mentioned, features in ref order.
 */
export interface RequestedView {
  readonly view: FeatureView;
  readonly features: string[];
}

export function requestedFeaturesByView(views: readonly FeatureView[], refs: readonly string[]): RequestedView[] {
  const byName = new Map<string, RequestedView>();
  const ordered: RequestedView[] = [];
  for (const ref of refs) {
    const colon = ref.indexOf(':');
    if (colon < 0) throw new InvalidArgumentError(`Feature reference "${ref}" is not of the form view:feature`);
    const viewPart = ref.slice(0, colon).replace(/@latest$/, '');
    const feature = ref.slice(colon + 1);
    const view = views.find((v) => nameToUse(v.projection) === viewPart);
    if (!view) throw new InvalidArgumentError(`Could not find feature view from reference ${ref}`);
    const key = nameToUse(view.projection);
    let entry = byName.get(key);
    if (!entry) {
      entry = { view, features: [] };
      byName.set(key, entry);
      ordered.push(entry);
    }
    if (!entry.features.includes(feature)) entry.features.push(feature);
  }
  return ordered;
}

/**
 * Feast's rule: `event_timestamp` if present, else the only timestamp column. The column must
 * hold times (a timestamp of any unit, or a date read as midnight UTC): strings or numbers are the
 * client's mistake, refused here with the column's name rather than failing inside a store.
 */
export function entityTimestampColumn(schema: Schema): string {
  const named = schema.fields.find((f) => f.name === 'event_timestamp');
  const timestamps = schema.fields.filter((f) => f.type.typeId === Type.Timestamp);
  const field = named ?? (timestamps.length === 1 ? timestamps[0]! : null);
  if (!field) throw new EntityTimestampInferenceException();
  if (!DataType.isTimestamp(field.type) && !DataType.isDate(field.type)) {
    throw new InvalidArgumentError(
      `Entity column "${field.name}" has type ${String(field.type)}: the event timestamp must be a timestamp (or a date), not ${describeArrowType(field.type)}`,
    );
  }
  return field.name;
}

function describeArrowType(type: DataType): string {
  if (DataType.isDictionary(type)) return `dictionary-encoded ${describeArrowType(type.dictionary)}`;
  if (DataType.isUtf8(type) || DataType.isLargeUtf8(type))
    return 'strings: convert it (e.g. pandas.to_datetime(..., utc=True)) before sending';
  if (DataType.isInt(type) || DataType.isFloat(type) || DataType.isDecimal(type)) return 'numbers';
  return 'this type';
}

/** Which time column of a source a check is about, by Feast's field name. */
export type TimeColumnRole = 'timestamp_field' | 'created_timestamp_column';

/** What a store knows of a source's column types: whether a column holds times, and its type's name. */
export interface SourceColumnTypes {
  isTime(column: string): boolean;
  typeName(column: string): string;
}

/**
 * A pull names the source's timestamp (and created) column in its request: one that does not hold
 * times is the request's mistake (INVALID_ARGUMENT), caught before any row is read. `where` names
 * the source (its path, its table).
 */
export function assertPullTimeColumns(req: PullRequest, types: SourceColumnTypes, where: string): void {
  const checks: Array<[TimeColumnRole, string | null]> = [
    ['timestamp_field', req.timestampField],
    ['created_timestamp_column', req.createdTimestampColumn],
  ];
  for (const [role, column] of checks) {
    if (column && !types.isTime(column)) {
      throw new InvalidArgumentError(
        `Data source ${req.source.name} (${where}): the ${role} "${column}" is a ${types.typeName(column)} column, not a timestamp or date`,
      );
    }
  }
}

/**
 * A feature view reads its source's registered timestamp (and created) column: one that does not
 * hold times means the source's data does not fit its definition (FAILED_PRECONDITION), caught
 * before any row is read. `columns` are the raw columns from `viewColumns`.
 */
export function assertViewTimeColumns(view: FeatureView, columns: ViewColumns, types: SourceColumnTypes, where: string): void {
  const checks: Array<[TimeColumnRole, string | null]> = [
    ['timestamp_field', columns.timestampColumn],
    ['created_timestamp_column', columns.createdColumn],
  ];
  for (const [role, column] of checks) {
    if (column && !types.isTime(column)) {
      throw new FailedPreconditionError(
        `Feature view ${view.name}: the ${role} "${column}" of its source ${batchSourceOf(view).name} (${where}) is a ${types.typeName(column)} column, not a timestamp or date`,
      );
    }
  }
}

const THIRTY_DAYS_S = 30 * 86_400;

/**
 * The date mode's range, defaulted as Feast's `compute_non_entity_date_range`: end = now;
 * start = end − the largest TTL of the views, or end − 30 days when no view has a TTL.
 */
export function dateRange(views: readonly FeatureView[], start?: Date, end?: Date): { start: Date; end: Date } {
  const endDate = end ?? new Date();
  if (start) return { start, end: endDate };
  const ttl = Math.max(0, ...views.map((v) => v.ttlSeconds));
  return { start: new Date(endDate.getTime() - (ttl > 0 ? ttl : THIRTY_DAYS_S) * 1000), end: endDate };
}

/** A view's batch source, or Feast's error for a view that has none. */
export function batchSourceOf(view: FeatureView): DataSource {
  if (!view.batchSource) {
    throw new InvalidArgumentError(`Feature view '${view.name}' has no batch_source and cannot be used for offline retrieval.`);
  }
  return view.batchSource;
}

/**
 * The source column holding each name as the view sees it: Feast renames source columns forward
 * by field_mapping, so a store reads the raw one. A name the source lacks is a MissingColumnError
 * (a KeyError on the client, as from Feast's stores). `where` names the source in the error (its
 * path, its table).
 */
export function rawColumnsFor(
  source: DataSource,
  columns: readonly string[],
  mappedNames: readonly string[],
  what: string,
  where: string,
): string[] {
  const byMapped = new Map<string, string>();
  for (const raw of columns) byMapped.set(source.fieldMapping[raw] ?? raw, raw);
  return mappedNames.map((name) => {
    const raw = byMapped.get(name);
    if (raw === undefined)
      throw new MissingColumnError(`${what}: column "${name}" is not in its source ${where} (columns: ${columns.join(', ')})`);
    return raw;
  });
}

/** What a store reads for one requested view — raw source columns — and the names it outputs. */
export interface ViewColumns {
  readonly timestampColumn: string;
  readonly createdColumn: string | null;
  /** Raw source columns of the view's join keys, and the entity columns they match. */
  readonly keyColumns: readonly string[];
  readonly entityKeyNames: readonly string[];
  /** Raw source columns of the requested features, and their output names. */
  readonly featureColumns: readonly string[];
  readonly outputNames: readonly string[];
}

/**
 * The columns of a requested view, resolved against its batch source's `sourceColumns`; output
 * names are `<name_to_use>__<feature>` with full feature names.
 */
export function viewColumns(
  view: FeatureView,
  features: readonly string[],
  fullFeatureNames: boolean,
  sourceColumns: readonly string[],
  where: string,
): ViewColumns {
  const source = batchSourceOf(view);
  const what = `Feature view ${view.name}`;
  const raw = (names: readonly string[]) => rawColumnsFor(source, sourceColumns, names, what, where);
  const prefix = nameToUse(view.projection);
  return {
    timestampColumn: raw([source.timestampField])[0]!,
    createdColumn: source.createdTimestampColumn ? raw([source.createdTimestampColumn])[0]! : null,
    keyColumns: raw(view.entityColumns.map((c) => c.name)),
    entityKeyNames: view.entityColumns.map((c) => view.projection.joinKeyMap[c.name] ?? c.name),
    featureColumns: raw(features),
    outputNames: features.map((f) => (fullFeatureNames ? `${prefix}__${f}` : f)),
  };
}

/** Requested views that one point-in-time match can serve (see groupBySource). */
export interface SourceGroup<T> {
  /** In request order; the first one's relation, keys, timestamp and created columns are everyone's. */
  readonly views: readonly T[];
  /** The widest TTL of the group's views in seconds; 0 (unbounded) when one of them has none. */
  readonly ttlSeconds: number;
}

/**
 * Groups views that read the same relation with the same keys, timestamp and created columns.
 * The row a view wants for an entity row is the source's latest at or before T whatever the
 * view's TTL (the TTL only decides whether that row is recent enough: if it is older than T − ttl,
 * every earlier one is older still), so a store matches a group once, within its widest TTL, and
 * then checks each view with `needsOwnTtl` against its own. `relationOf` says what a view reads
 * (a file location, a table's SQL text). Groups come in the order of their first views.
 */
export function groupBySource<T extends ViewColumns & { readonly view: FeatureView }>(
  views: readonly T[],
  relationOf: (view: T) => string,
): SourceGroup<T>[] {
  const byKey = new Map<string, T[]>();
  for (const v of views) {
    const key = JSON.stringify([relationOf(v), v.keyColumns, v.entityKeyNames, v.timestampColumn, v.createdColumn]);
    byKey.set(key, [...(byKey.get(key) ?? []), v]);
  }
  return [...byKey.values()].map((members) => ({
    views: members,
    ttlSeconds: members.some((v) => v.view.ttlSeconds <= 0) ? 0 : Math.max(...members.map((v) => v.view.ttlSeconds)),
  }));
}

/** Whether `view` must check the group's matched row against its own TTL: it has one, narrower than the group's. */
export function needsOwnTtl(view: FeatureView, groupTtlSeconds: number): boolean {
  return view.ttlSeconds > 0 && view.ttlSeconds !== groupTtlSeconds;
}

/**
 * The columns pull_latest/pull_all return, as raw source names: join keys, features (every
 * source column when none are named), timestamp, created — each once. A missing join key is
 * Feast's FeastJoinKeysDuringMaterialization; another missing column names itself in a
 * MissingColumnError (a KeyError on the client, as Feast's pandas KeyError gives). `where` names
 * the source (its path, its table).
 */
export function pullColumns(req: PullRequest, sourceColumns: readonly string[], where: string): string[] {
  const present = new Set(sourceColumns);
  if (req.joinKeyColumns.some((c) => !present.has(c)))
    throw new FeastJoinKeysDuringMaterialization(where, [...req.joinKeyColumns], [...sourceColumns]);
  const features = req.featureNameColumns.length > 0 ? req.featureNameColumns : sourceColumns;
  const wanted = [
    ...req.joinKeyColumns,
    ...features,
    req.timestampField,
    ...(req.createdTimestampColumn ? [req.createdTimestampColumn] : []),
  ];
  const columns = [...new Set(wanted)];
  const missing = columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new MissingColumnError(`Data source ${req.source.name} (${where}) has no column ${missing.map((c) => `"${c}"`).join(', ')}`);
  }
  return columns;
}
