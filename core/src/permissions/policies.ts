/**
 * Feast's policies: whether a user is granted, and the explanation Feast gives when not. Every
 * policy has "any of" semantics with exact, case-sensitive string comparison; an empty list
 * never grants.
 */
import type { User } from '../auth.ts';
import type { Policy } from '../registry/model.ts';
import { pythonStrListRepr } from './python-repr.ts';

export interface PolicyDecision {
  readonly granted: boolean;
  /** Empty exactly when granted (Feast's `validate_user` returns `(True, "")`). */
  readonly explanation: string;
}

/** The user Feast evaluates when a call has none: `User("", [])`, which holds no role, group or namespace. */
export const EMPTY_USER: User = Object.freeze({ username: '', roles: [], groups: [], namespaces: [] });

const GRANTED: PolicyDecision = Object.freeze({ granted: true, explanation: '' });

function anyOf(wanted: readonly string[], held: readonly string[]): boolean {
  return wanted.some((w) => held.includes(w));
}

/** Evaluates one policy for a user (`null` = no user). */
export function evaluatePolicy(policy: Policy, user: User | null): PolicyDecision {
  const u = user ?? EMPTY_USER;
  switch (policy.kind) {
    case 'allow_all':
      return GRANTED;
    case 'role':
      return anyOf(policy.roles, u.roles) ? GRANTED : denied(`Requires roles ${pythonStrListRepr(policy.roles)}`);
    case 'group':
      return anyOf(policy.groups, u.groups) ? GRANTED : denied('User is not added into the permitted groups');
    case 'namespace':
      return anyOf(policy.namespaces, u.namespaces) ? GRANTED : denied('User is not added into the permitted namespaces');
    case 'combined':
      return anyOf(policy.groups, u.groups) || anyOf(policy.namespaces, u.namespaces)
        ? GRANTED
        : denied('User must be in at least one of the permitted groups or namespaces');
    default:
      // A policy kind this code does not know can only deny.
      return denied(`Unknown policy ${JSON.stringify((policy as { kind?: unknown }).kind)}`);
  }
}

function denied(explanation: string): PolicyDecision {
  return { granted: false, explanation };
}
