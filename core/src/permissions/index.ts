/** The permission engine: Feast's permission matching and enforcement, as pure functions. */
export { assertPermissions, permissionDenial, NO_PERMISSIONS_NO_USER } from './enforce.ts';
export { permissionMatches, matchesType, matchesName, matchesRequiredTags, matchesActions } from './matching.ts';
export { evaluatePolicy, EMPTY_USER, type PolicyDecision } from './policies.ts';
export {
  pythonClassOf,
  pythonClassRepr,
  dataSourceClassPath,
  isInstanceOfType,
  resourceName,
  resourceTags,
  type ProtectedResource,
  type PythonClass,
} from './resources.ts';
export { pythonFullMatch, compilePythonPattern, translatePythonPattern } from './name-pattern.ts';
export { pythonStrRepr, pythonStrListRepr, pythonActionRepr, pythonActionListRepr } from './python-repr.ts';
export { validatePermissions, InvalidPermissionError } from './validate.ts';
