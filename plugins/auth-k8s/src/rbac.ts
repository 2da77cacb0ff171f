/**
 * Reading RBAC bindings (rbac.authorization.k8s.io/v1) and deciding whether a binding's subjects
 * include a reviewed caller, by the rules Kubernetes' own RBAC authorizer uses.
 */
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
  return (await api.get<{ items?: Binding[] }>(`${RBAC}${where}/rolebindings`)).items ?? [];
}

export async function listClusterRoleBindings(api: KubeApi): Promise<Binding[]> {
  return (await api.get<{ items?: Binding[] }>(`${RBAC}/clusterrolebindings`)).items ?? [];
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
