/**
 * Reading RBAC bindings (rbac.authorization.k8s.io/v1) and deciding whether a binding's subjects
 * include a reviewed caller, by the rules Kubernetes' own RBAC authorizer uses.
 */
import { UnavailableError } from '@larder/core';
import type { KubeApi } from './kube-api.ts';
import type { ReviewedUser } from './token-review.ts';

export interface Subject {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** A RoleBinding or ClusterRoleBinding, reduced to what larder reads. */
export interface Binding {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly subjects?: readonly Subject[];
  readonly roleRef: { readonly kind: string; readonly name: string };
}

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

/** RoleBindings of one namespace, or of every namespace when `namespace` is omitted. */
export async function listRoleBindings(api: KubeApi, namespace?: string): Promise<Binding[]> {
  const where = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return checkedBindings(`${RBAC}${where}/rolebindings`, await api.get<unknown>(`${RBAC}${where}/rolebindings`));
}

export async function listClusterRoleBindings(api: KubeApi): Promise<Binding[]> {
  return checkedBindings(`${RBAC}/clusterrolebindings`, await api.get<unknown>(`${RBAC}/clusterrolebindings`));
}

/**
 * A binding list, checked before use: a list that is not what the API server sends would
 * otherwise fail deep inside the matching as a TypeError (INTERNAL), or, worse, be read as "no
 * bindings" and give the caller fewer roles than it has. Either way the check cannot be made now.
 */
function checkedBindings(apiPath: string, list: unknown): Binding[] {
  const items = isObject(list) ? (list.items ?? []) : undefined;
  if (!Array.isArray(items)) throw malformed(apiPath, 'items is not a list');
  items.forEach((item, i) => {
    const problem = bindingProblem(item);
    if (problem) throw malformed(apiPath, `items[${i}]: ${problem}`);
  });
  return items as Binding[];
}

function bindingProblem(item: unknown): string | null {
  if (!isObject(item)) return 'not an object';
  if (!isObject(item.metadata) || typeof item.metadata.name !== 'string') return 'no metadata.name';
  if (item.metadata.namespace !== undefined && typeof item.metadata.namespace !== 'string') return 'metadata.namespace is not a string';
  if (item.metadata.labels !== undefined && !isObject(item.metadata.labels)) return 'metadata.labels is not an object';
  if (!isObject(item.roleRef) || typeof item.roleRef.kind !== 'string' || typeof item.roleRef.name !== 'string')
    return 'no roleRef kind and name';
  const subjects = item.subjects ?? [];
  if (!Array.isArray(subjects)) return 'subjects is not a list';
  const bad = subjects.findIndex(
    (s) =>
      !isObject(s) ||
      typeof s.kind !== 'string' ||
      typeof s.name !== 'string' ||
      (s.namespace !== undefined && typeof s.namespace !== 'string'),
  );
  return bad >= 0 ? `subjects[${bad}] has no kind and name` : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(apiPath: string, problem: string): UnavailableError {
  return new UnavailableError(`The Kubernetes API server sent a malformed answer to GET ${apiPath}: ${problem}`);
}

/**
 * Whether `subject` names the caller. A ServiceAccount subject means the user
 * `system:serviceaccount:<namespace>:<name>`; in a RoleBinding its namespace defaults to the binding's.
 */
export function subjectIncludes(subject: Subject, user: ReviewedUser, bindingNamespace?: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const namespace = subject.namespace || bindingNamespace;
      return namespace !== undefined && `system:serviceaccount:${namespace}:${subject.name}` === user.username;
    }
    default:
      return false;
  }
}

export function bindingIncludes(binding: Binding, user: ReviewedUser): boolean {
  return (binding.subjects ?? []).some((s) => subjectIncludes(s, user, binding.metadata.namespace));
}
