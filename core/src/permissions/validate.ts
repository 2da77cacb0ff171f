/**
 * The load-time checks of Feast's `Permission.__init__`, which larder's registry decoder does not
 * make. Feast cannot load a stored permission with an empty `actions` list or an empty policy
 * (how its `AllowAll` default serializes), and one such entry fails every permission lookup of
 * the project. The decoder turns an empty policy into `allow_all`; accepting that here would
 * silently grant everyone, so it is refused the way Feast refuses it.
 */
import { FailedPreconditionError } from '../errors.ts';
import type { Permission } from '../registry/model.ts';

/** A stored permission Feast could not load; the message is Feast's ValueError text. */
export class InvalidPermissionError extends FailedPreconditionError {
  constructor(
    readonly permissionName: string,
    message: string,
  ) {
    super(message);
  }
}

/** Throws InvalidPermissionError for the first permission Feast would fail to load (same order of checks). */
export function validatePermissions(permissions: readonly Permission[]): void {
  for (const p of permissions) {
    if (p.actions.length === 0) throw new InvalidPermissionError(p.name, "The list 'actions' must be non-empty.");
    if (p.policy.kind === 'allow_all') throw new InvalidPermissionError(p.name, "The list 'policy' must be non-empty.");
  }
}
