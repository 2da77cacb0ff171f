/**
 * Feast's SQL registry layout (sdk/python/feast/infra/registry/sql.py): one table per object
 * kind, one serialized proto per row, `project_id` holding the project name. Only the tables the
 * offline server reads are queried; they are all read in one statement, so the copy is consistent
 * (one snapshot in PostgreSQL, one read of the file for SQLite).
 */
import { REGISTRY_TABLES, type RegistryRow, type RegistryTable } from '@larder/core';

const PROTO_COLUMN: Readonly<Record<RegistryTable, string>> = {
  projects: 'project_proto',
  entities: 'entity_proto',
  data_sources: 'data_source_proto',
  feature_views: 'feature_view_proto',
  stream_feature_views: 'feature_view_proto',
  on_demand_feature_views: 'feature_view_proto',
  feature_services: 'feature_service_proto',
  permissions: 'permission_proto',
};

/** Tables every Feast SQL registry has had; the others arrived in later Feast versions. */
const REQUIRED: readonly RegistryTable[] = ['entities', 'data_sources', 'feature_views', 'feature_services'];

/**
 * What a database without the registry tables is. Feast's SqlRegistry with `schema_mode: auto`
 * (its default) creates them at start and serves an empty registry; larder serves the empty
 * registry without creating them (see index.ts), until the registry has been read once. With `verify` or `skip` Feast does not create
 * them and refuses to start, and so does larder.
 */
export type MissingTables = 'empty' | 'refuse';

/**
 * The registry tables present among `existing`; null when Feast's tables do not exist yet and
 * `missing` is `empty` (the registry is empty until `feast apply` creates them); throws otherwise.
 */
export function registryTablesIn(existing: ReadonlySet<string>, describe: string, missing: MissingTables): RegistryTable[] | null {
  const absent = REQUIRED.filter((table) => !existing.has(table));
  if (absent.length > 0) {
    if (missing === 'empty') return null;
    throw new Error(
      `${describe} has no ${absent.join(', ')} table${absent.length > 1 ? 's' : ''}: it does not hold a Feast SQL registry; ` +
        "run feast apply (or 'feast registry create-schema') with this registry first, or set schema_mode: auto to serve an empty registry until then",
    );
  }
  return REGISTRY_TABLES.filter((table) => existing.has(table));
}

/** One statement reading every row of `tables`, as (t, project_id, proto). */
export function registryRowsQuery(tables: readonly RegistryTable[]): string {
  return tables.map((table) => `SELECT '${table}' AS t, project_id, ${PROTO_COLUMN[table]} AS proto FROM ${table}`).join(' UNION ALL ');
}

/** A row of registryRowsQuery, as a driver returns it. */
export interface RawRegistryRow {
  readonly t: string;
  readonly project_id: string;
  readonly proto: Uint8Array | null;
}

export function toRegistryRows(raw: Iterable<RawRegistryRow>): RegistryRow[] {
  const rows: RegistryRow[] = [];
  for (const row of raw) {
    if (row.proto === null) continue;
    rows.push({ table: row.t as RegistryTable, project: row.project_id, proto: row.proto });
  }
  return rows;
}
