/**
 * Feast's `assert_permissions` as the offline server uses it (spec §5.9), minus the
 * intra-communication bypass: larder never accepts the unsigned token that bypass relies on,
 * so a user whose name equals the bypass value is checked like anyone else.
 */
import type { User } from '../auth.ts';
import { FeastPermissionError } from '../errors.ts';
import type { AuthzedAction, Permission } from '../registry/model.ts';
import { permissionMatches } from './matching.ts';
import { evaluatePolicy } from './policies.ts';
import { pythonActionListRepr, pythonStrListRepr } from './python-repr.ts';
import { pythonClassOf, pythonClassRepr, resourceName, type ProtectedResource } from './resources.ts';
import { validatePermissions } from './validate.ts';

export const NO_PERMISSIONS_NO_USER = 'No permissions defined and no authenticated user context. Access denied.';

/**
 * Why (resource, actions) is refused to `user` under `permissions` (the server project's, in
 * registry order), or `null` when it is allowed. Throws InvalidPermissionError when a permission
 * is one Feast could not load.
 */
export function permissionDenial(
  permissions: readonly Permission[],
  resource: ProtectedResource,
  actions: readonly AuthzedAction[],
  user: User | null,
): string | null {
  validatePermissions(permissions);
  // No permission at all (Feast ≥ 0.66): any authenticated user may do anything.
  if (permissions.length === 0) return user !== null && user.username !== '' ? null : NO_PERMISSIONS_NO_USER;

  const cls = pythonClassOf(resource);
  const name = resourceName(resource);
  const matching = permissions.filter((p) => permissionMatches(p, resource, actions));
  if (matching.length === 0) {
    return `No permissions defined to manage ${pythonActionListRepr(actions)} on ${pythonClassRepr(cls)}/${pythonName(name)}.`;
  }

  // AFFIRMATIVE: the first granting permission decides; a denial needs every one to deny.
  const explanations: string[] = [];
  const requested = pythonStrListRepr(actions.map((a) => a.toUpperCase()));
  for (const p of matching) {
    const decision = evaluatePolicy(p.policy, user);
    if (decision.granted) return null;
    explanations.push(`Permission ${p.name} denied execution of ${requested} to ${cls.name}:${pythonName(name)}: ${decision.explanation}`);
  }
  return explanations.join(',');
}

/** Throws FeastPermissionError (`Permission error:\n<details>`) unless the access is allowed. */
export function assertPermissions(
  permissions: readonly Permission[],
  resource: ProtectedResource,
  actions: readonly AuthzedAction[],
  user: User | null,
): void {
  const details = permissionDenial(permissions, resource, actions, user);
  if (details !== null) throw new FeastPermissionError(details);
}

/** How an f-string prints a missing name. */
function pythonName(name: string | null): string {
  return name ?? 'None';
}
