/**
 * Permission enforcement, attached to the `beforeCall` hook when an auth provider is configured
 * (with `no_auth` nothing is checked, as in Feast). Each resource a call records is checked once,
 * against the Permission objects of the server's project as the registry holds them now — the
 * registry is re-read when it changes, so a permission applied with `feast apply` takes effect on
 * the next call.
 */
import type { CallRecord, LarderHooks, ResourceAccess } from './hooks.ts';
import { assertPermissions } from './permissions/enforce.ts';
import type { RegistrySource } from './registry/model.ts';

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
