/**
 * Reading Feast's registry: the registry plugin contract, the file registry source, the cached
 * source for whole-snapshot backends, registry rows (one proto per object), the lookups with
 * Feast's semantics, the `data_source_proto` JSON parser, and an encoder that writes registries
 * without Python.
 */
export * from './model.ts';
export * from './plugin.ts';
export { openCachedRegistry } from './cached-registry.ts';
export type { RegistryLoader, CachedRegistryOptions } from './cached-registry.ts';
export { decodeRegistryRows, REGISTRY_TABLES } from './rows.ts';
export type { RegistryRow, RegistryTable } from './rows.ts';
export {
  openFileRegistry,
  registryPathFromConfig,
  resolveRegistryPath,
  RegistryNotFoundError,
  UnsupportedRegistryError,
} from './file-registry.ts';
export type { FileRegistryOptions } from './file-registry.ts';
export { DecodedRegistrySnapshot, withProjection, removeDummies, fieldsEqual } from './snapshot.ts';
export { decodeRegistry, STRUCT_SCHEMA_TAG, NESTED_INNER_TYPE_TAG } from './decode.ts';
export type { DecodedRegistry, ProjectInfo } from './decode.ts';
export { parseDataSourceJson } from './data-source-json.ts';
export { encodeRegistry } from './encode.ts';
export type {
  RegistryDraft,
  EntityDraft,
  DataSourceDraft,
  FileSourceDraft,
  CustomSourceDraft,
  PushSourceDraft,
  RequestSourceDraft,
  FeatureViewDraft,
  OnDemandFeatureViewDraft,
  FeatureServiceDraft,
  ProjectionDraft,
  LoggingDestinationDraft,
  PermissionDraft,
  FieldDraft,
  ValueTypeName,
  ValueTypeRef,
} from './encode.ts';
