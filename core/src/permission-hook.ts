/**
 * Permission enforcement, attached to the `beforeCall` hook when an auth provider is configured
 * (with `no_auth` nothing is checked, as in Feast). Each resource a call records is checked once,
 * against the Permission objects of the server's project as the registry holds them now — the
 * registry is re-read when it changes, so a permission applied with `feast apply` takes effect on
 * the next call.
 */
import type { CallRecord, LarderHooks } from './hooks.ts';
import { assertPermissions } from './permissions/enforce.ts';
import type { RegistrySource } from './registry/model.ts';

export function tapPermissions(hooks: LarderHooks, registry: RegistrySource, project: string): void {
  // A call may record resources in several steps (persist: the retrieval's, then the destination).
  const checked = new WeakMap<CallRecord, number>();
  hooks.beforeCall.tapPromise('permissions', async (record) => {
    const from = checked.get(record) ?? 0;
    if (from === record.resources.length) return;
    const permissions = (await registry.snapshot()).listPermissions(project);
    for (const access of record.resources.slice(from)) assertPermissions(permissions, access.resource, [access.action], record.user);
    checked.set(record, record.resources.length);
  });
}
