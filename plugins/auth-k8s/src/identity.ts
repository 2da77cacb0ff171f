/**
 * Turning a caller that Kubernetes has vouched for into Feast's User: its roles from RBAC
 * bindings and its namespaces, derived the way Feast's KubernetesTokenParser derives them.
 */
import type { User } from '@larder/core';
import type { KubeApi } from './kube-api.ts';
import { bindingIncludes, listClusterRoleBindings, listRoleBindings, type Binding } from './rbac.ts';
import type { ReviewedUser } from './token-review.ts';

export interface ServiceAccountName {
  readonly namespace: string;
  readonly name: string;
}

/** `system:serviceaccount:<namespace>:<name>` → its parts; null for any other user. */
export function serviceAccountOf(username: string): ServiceAccountName | null {
  const parts = username.split(':');
  if (parts.length !== 4 || parts[0] !== 'system' || parts[1] !== 'serviceaccount' || !parts[2] || !parts[3]) return null;
  return { namespace: parts[2], name: parts[3] };
}

/**
 * Roles are the `roleRef.name` of every binding whose subjects include the caller, the caller's
 * groups or (for a service account) the account itself. As in Feast, a service account's
 * RoleBindings are read in `serverNamespace` only, a user's in every namespace; ClusterRoleBindings
 * count for both.
 */
export async function resolveUser(api: KubeApi, caller: ReviewedUser, serverNamespace: string): Promise<User> {
  const serviceAccount = serviceAccountOf(caller.username);
  const [roleBindings, clusterRoleBindings] = await Promise.all([
    listRoleBindings(api, serviceAccount ? serverNamespace : undefined),
    listClusterRoleBindings(api),
  ]);
  const roles = [...roleBindings, ...clusterRoleBindings].filter((b) => bindingIncludes(b, caller)).map((b) => b.roleRef.name);
  const namespaces = serviceAccount ? [serviceAccount.namespace] : dashboardNamespaces(roleBindings, caller.username);
  namespaces.push(...serviceAccountGroupNamespaces(caller.groups));
  return { username: caller.username, roles: sortedSet(roles), groups: sortedSet(caller.groups), namespaces: sortedSet(namespaces) };
}

/**
 * A user's namespaces, as Feast reads them: those where the user (by name, not by group) holds
 * `ClusterRole/admin` or an OpenShift AI dashboard permission binding.
 */
function dashboardNamespaces(roleBindings: readonly Binding[], username: string): string[] {
  const grantsNamespace = (b: Binding) =>
    (b.metadata.name.startsWith('dashboard-permissions-') && b.metadata.labels?.['opendatahub.io/dashboard'] === 'true') ||
    (b.roleRef.kind === 'ClusterRole' && b.roleRef.name === 'admin');
  return roleBindings
    .filter((b) => b.metadata.namespace && grantsNamespace(b) && (b.subjects ?? []).some((s) => s.kind === 'User' && s.name === username))
    .map((b) => b.metadata.namespace!);
}

/** Membership of `system:serviceaccounts:<ns>` puts the caller in namespace `<ns>` (Feast does the same). */
function serviceAccountGroupNamespaces(groups: readonly string[]): string[] {
  return groups
    .map((g) => g.split(':'))
    .filter((p) => p.length >= 3 && p[0] === 'system' && p[1] === 'serviceaccounts' && p[2])
    .map((p) => p[2]!);
}

function sortedSet(values: readonly string[]): string[] {
  return [...new Set(values)].sort();
}
