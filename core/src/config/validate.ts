/**
 * JSON Schema validation of feature_store.yaml sections with ajv, turning ajv's errors into
 * ConfigErrors that name the file, the key path and what was expected.
 */
import type { ErrorObject } from 'ajv';
import { ConfigError } from './errors.ts';
import { schemaValidator } from './schema-validators.ts';

/** Validates `value` (found at `basePath` in `file`) against `schema`; throws the first problem. */
export function validateSection(schema: object, value: unknown, file: string, basePath: string): void {
  const check = schemaValidator(schema);
  if (check(value)) return;
  const error = mostSpecific(check.errors ?? []);
  if (!error) throw new ConfigError(file, basePath, 'is invalid');
  throw new ConfigError(file, keyPath(basePath, error), describe(error));
}

/**
 * With `anyOf` branches ajv reports one error per branch; the one deepest in the document is the
 * most useful to a reader (e.g. `registry.cache_mode` rather than "registry must be a string").
 */
function mostSpecific(errors: ErrorObject[]): ErrorObject | undefined {
  const concrete = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  const depth = (e: ErrorObject) => e.instancePath.split('/').length + (e.keyword === 'type' ? 0 : 0.5);
  return concrete.sort((a, b) => depth(b) - depth(a))[0] ?? errors[0];
}

function keyPath(basePath: string, error: ErrorObject): string {
  const parts = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'additionalProperties') parts.push(String(error.params.additionalProperty));
  if (error.keyword === 'required') parts.push(String(error.params.missingProperty));
  return [basePath, ...parts].filter(Boolean).join('.');
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'additionalProperties':
      return 'is not a known key here';
    case 'required':
      return 'is required';
    case 'enum':
      return `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(error.params.allowedValue)}`;
    case 'type':
      return `must be of type ${String(error.params.type)}`;
    default:
      return error.message ?? 'is invalid';
  }
}
