/**
 * Permission enforcement, attached to the `beforeCall` hook when an auth provider is configured
 * (with `no_auth` nothing is checked, as in Feast). Each resource a call records is checked once,
 * against the Permission objects of the server's project as the registry holds them now — the
 * registry is re-read when it changes, so a permission applied with `feast apply` takes effect on
 * the next call.
 */
import type { User } from './auth.ts';
import type { CallRecord, LarderHooks, ResourceAccess } from './hooks.ts';
import { assertPermissions, permissionDenial } from './permissions/enforce.ts';
import type { DataSource, RegistrySource } from './registry/model.ts';

export function tapPermissions(hooks: LarderHooks, registry: RegistrySource, project: string): void {
  // A call may record resources in several steps (persist: the retrieval's, then the destination),
  // and a call retried on a refreshed registry records them again: each recorded access is checked
  // once, by identity.
  const checked = new WeakSet<ResourceAccess>();
  hooks.beforeCall.tapPromise('permissions', async (record: CallRecord) => {
    const unchecked = record.resources.filter((access) => !checked.has(access));
    if (unchecked.length === 0) return;
    const permissions = (await registry.snapshot()).listPermissions(project);
    for (const access of unchecked) {
      assertPermissions(permissions, access.resource, [access.action], record.user);
      checked.add(access);
    }
  });
}

/** Which of `candidates` a user may READ_OFFLINE, under the project's permissions now. */
export type ReadableSources = (user: User | null, candidates: readonly DataSource[]) => Promise<DataSource[]>;

/**
 * The same permission rule as the beforeCall check, asked of many sources at once, for calls that
 * run client-written SQL (`entity_df_sql`): the store confines that SQL to the sources this
 * returns. Used only when an auth provider is configured, like tapPermissions.
 */
export function readableSourcesChecker(registry: RegistrySource, project: string): ReadableSources {
  return async (user, candidates) => {
    const permissions = (await registry.snapshot()).listPermissions(project);
    return candidates.filter(
      (source) => permissionDenial(permissions, { kind: 'dataSource', object: source }, ['READ_OFFLINE'], user) === null,
    );
  };
}
