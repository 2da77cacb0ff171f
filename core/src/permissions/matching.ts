/**
 * Whether a permission applies to (resource, requested actions) — Feast's `Permission.match_resource`
 * and `match_actions` — with one deliberate difference: `required_tags` are compared with the
 * resource's `tags`, as Feast documents, where Feast's code reads an attribute that real
 * resources lack and so never restricts anything.
 */
import type { AuthzedAction, Permission } from '../registry/model.ts';
import { pythonFullMatch } from './name-pattern.ts';
import { isInstanceOfType, pythonClassOf, resourceName, resourceTags, type ProtectedResource } from './resources.ts';

/** Type: an instance of one of `types` (subclasses included); no types = every type. */
export function matchesType(permission: Permission, resource: ProtectedResource): boolean {
  // "Every type" still requires a Feast object: anything else is an instance of none of them.
  if (permission.types.length === 0) return pythonClassOf(resource).types.length > 0;
  // An unknown type (`UNKNOWN_<n>`, from a newer Feast) is an instance check that never succeeds.
  return permission.types.some((t) => isInstanceOfType(resource, t));
}

/** Name: no patterns, or a nameless resource, passes; otherwise one pattern must match the whole name. */
export function matchesName(namePatterns: readonly string[], name: string | null): boolean {
  if (namePatterns.length === 0 || name === null) return true;
  // Patterns are trimmed on load (Permission.__init__); trimming again keeps hand-built ones equal.
  return namePatterns.some((p) => pythonFullMatch(p.trim(), name));
}

/**
 * Tags: every required key must be present in the resource's tags with an equal value. Required
 * keys and values are whitespace-trimmed, as Feast normalizes them on load; resource tags are not.
 */
export function matchesRequiredTags(requiredTags: Readonly<Record<string, string>>, tags: Readonly<Record<string, string>>): boolean {
  return Object.entries(requiredTags).every(([k, v]) => {
    const key = k.trim();
    return Object.hasOwn(tags, key) && tags[key] === String(v).trim();
  });
}

/** Actions: every requested action is allowed (an empty request is a subset of anything). */
export function matchesActions(allowed: readonly AuthzedAction[], requested: readonly AuthzedAction[]): boolean {
  return requested.every((a) => allowed.includes(a));
}

/** All four conditions of Feast's matching. */
export function permissionMatches(permission: Permission, resource: ProtectedResource, actions: readonly AuthzedAction[]): boolean {
  return (
    matchesType(permission, resource) &&
    matchesName(permission.namePatterns, resourceName(resource)) &&
    matchesRequiredTags(permission.requiredTags, resourceTags(resource)) &&
    matchesActions(permission.actions, actions)
  );
}
