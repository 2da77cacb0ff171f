/**
 * Registries kept as one serialized proto per object (Feast's SQL registry, and any store that
 * copies its layout): rows of (table, project, proto bytes) → the same DecodedRegistry a registry
 * file gives, so lookups behave identically whatever the backend.
 *
 * As Feast's SqlRegistry.proto() does, the row's project column wins over the project written
 * inside the proto.
 */
import { registryFromMessage, type DecodedRegistry } from './decode.ts';
import { registryTypes, type PbRegistry } from './proto.ts';

/** Feast's SQL registry table names, mapped to the Registry field that holds their objects. */
const FIELD_OF_TABLE = {
  projects: 'projects',
  entities: 'entities',
  data_sources: 'data_sources',
  feature_views: 'feature_views',
  stream_feature_views: 'stream_feature_views',
  on_demand_feature_views: 'on_demand_feature_views',
  feature_services: 'feature_services',
  permissions: 'permissions',
} as const;

export type RegistryTable = keyof typeof FIELD_OF_TABLE;
export const REGISTRY_TABLES = Object.keys(FIELD_OF_TABLE) as readonly RegistryTable[];

export interface RegistryRow {
  readonly table: RegistryTable;
  /** The `project_id` column (the project name). */
  readonly project: string;
  readonly proto: Uint8Array;
}

/** Decodes the rows, in the order given; throws naming the row whose proto does not parse. */
export function decodeRegistryRows(rows: Iterable<RegistryRow>): DecodedRegistry {
  const { Registry } = registryTypes();
  const message: Record<string, unknown[]> = {};
  const rawOnDemandViews: Uint8Array[] = [];
  for (const row of rows) {
    if (row.table === 'on_demand_feature_views') rawOnDemandViews.push(row.proto);
    const field = FIELD_OF_TABLE[row.table];
    const type = Registry.fields[field]!.resolvedType as import('protobufjs').Type;
    let decoded: Record<string, unknown>;
    try {
      decoded = type.decode(row.proto) as unknown as Record<string, unknown>;
    } catch (error) {
      throw new Error(
        `a row of table ${row.table} (project ${row.project}) does not hold a valid ${type.name}: ${(error as Error).message}`,
      );
    }
    setProject(row.table, decoded, row.project);
    (message[field] ??= []).push(decoded);
  }
  return registryFromMessage(message as PbRegistry, rawOnDemandViews);
}

function setProject(table: RegistryTable, decoded: Record<string, unknown>, project: string): void {
  if (table === 'projects') return;
  if (table === 'data_sources') {
    decoded.project = project;
    return;
  }
  const spec = (decoded.spec ??= {}) as Record<string, unknown>;
  spec.project = project;
}
