/**
 * The validator of a config JSON Schema (feature_store.yaml's, a plugin's), checked first against
 * the JSON Schema meta-schema, exactly as ajv's `compile` checks and compiles it, but without
 * loading ajv at start-up where the build already did the work:
 *
 * - the meta-schema check runs the draft-07 validator the build compiled
 *   (scripts/generate-schema-validator.js): ajv would compile the meta-schema at every start;
 * - the schemas of feature_store.yaml and of the built-in plugins come precompiled
 *   (scripts/generate-config-validators.js), found by the schema's JSON text, so a schema that
 *   changed since the build, or a third-party plugin's, is compiled by ajv here as before.
 *
 * Both are built with the options of the Ajv instance below, so errors, messages and the defaults
 * filled in (`useDefaults`, and the meta-schema's own defaults ajv writes into a schema it checks)
 * are ajv's. Without a build (a source checkout) everything is done by ajv.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ValidateFunction } from 'ajv';

/** The options every config validator is compiled with (the build's generators use the same). */
const AJV_OPTIONS = { allErrors: true, strict: false, useDefaults: true } as const;
const DRAFT_07 = 'http://json-schema.org/draft-07/schema';

const require = createRequire(import.meta.url);
let ajv: Ajv | undefined;
const validators = new WeakMap<object, ValidateFunction>();

/** The validator of `schema`; throws ajv's "schema is invalid: …" for a schema that is not valid JSON Schema. */
export function schemaValidator(schema: object): ValidateFunction {
  let validate = validators.get(schema);
  if (validate) return validate;
  // The key is taken before the meta-schema check writes its defaults into the schema, as the
  // build took it.
  const key = JSON.stringify(schema);
  checkSchema(schema);
  validate = prebuilt()?.byKey(key) ?? runtimeAjv().compile(schema);
  validators.set(schema, validate);
  return validate;
}

/** ajv, loaded and set up on first need; it checks no schema itself (checkSchema does). */
function runtimeAjv(): Ajv {
  if (!ajv) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    ajv = new AjvClass({ ...AJV_OPTIONS, validateSchema: false });
  }
  return ajv;
}

function checkSchema(schema: object): void {
  const metaSchema = (schema as { $schema?: unknown }).$schema;
  const draft07 = metaSchema === undefined || metaSchema === DRAFT_07 || metaSchema === `${DRAFT_07}#` ? prebuilt()?.draft07 : undefined;
  if (!draft07) {
    runtimeAjv().validateSchema(schema, true);
    return;
  }
  if (!draft07(schema)) throw new Error(`schema is invalid: ${runtimeAjv().errorsText(draft07.errors)}`);
}

interface Prebuilt {
  readonly draft07: ValidateFunction;
  byKey(key: string): ValidateFunction | undefined;
}
let loaded: Prebuilt | null | undefined;

/** What the build compiled (core/generated/), or null in a checkout that was not built. */
function prebuilt(): Prebuilt | null {
  if (loaded === undefined) loaded = loadPrebuilt();
  return loaded;
}

function loadPrebuilt(): Prebuilt | null {
  const file = (name: string) => fileURLToPath(new URL(`../../generated/${name}`, import.meta.url));
  const [metaFile, configFile] = [file('json-schema-draft-07.cjs'), file('config-validators.cjs')];
  if (!existsSync(metaFile) || !existsSync(configFile)) return null;
  const config = require(configFile) as Record<string, ValidateFunction> & { bySchema: Record<string, string> };
  return {
    draft07: require(metaFile) as ValidateFunction,
    byKey: (key) => {
      const name = Object.hasOwn(config.bySchema, key) ? config.bySchema[key] : undefined;
      return name === undefined ? undefined : config[name];
    },
  };
}
