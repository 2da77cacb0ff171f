/**
 * Config schemas are checked against the JSON Schema meta-schema by a validator the build compiles
 * (scripts/generate-schema-validator.js), not by ajv at every start (core/src/config/validate.ts):
 * the check accepts, rejects, reports and fills in defaults exactly as ajv's own check does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { repoConfigSchema } from '../../core/src/config/schema.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import { OUT, validatorSource } from '../../scripts/generate-schema-validator.js';
import { REPO_ROOT } from '../support/larder-process.ts';

/** What ajv itself does with the schema when it compiles it: the error it throws, or null. */
function ajvOwnCheck(schema: object): string | null {
  try {
    new Ajv({ allErrors: true, strict: false, useDefaults: true }).compile(schema);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function larderCheck(schema: object): string | null {
  try {
    validateSection(schema, {}, 'feature_store.yaml', 'offline_store');
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Each schema, and whether ajv refuses it. */
const schemas: Record<string, [() => object, boolean]> = {
  'a plugin schema': [() => ({ type: 'object', properties: { type: { type: 'string' }, path: { type: 'string', default: 'data' } }, additionalProperties: false }), false],
  'a misspelt type': [() => ({ type: 'object', properties: { path: { type: 'strin' } } }), true],
  'required as a string': [() => ({ type: 'object', required: 'path' }), true],
  'several problems at once': [() => ({ type: 'object', minProperties: -1, properties: { a: { enum: 'x' }, b: { items: 3 } } }), true],
  'draft-07 named explicitly, invalid': [() => ({ $schema: 'http://json-schema.org/draft-07/schema#', maximum: 'ten' }), true],
  'draft-07 named explicitly, valid': [() => ({ $schema: 'http://json-schema.org/draft-07/schema', type: 'object' }), false],
  'another meta-schema': [() => ({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object' }), true],
};

describe('config schemas checked against the meta-schema', () => {
  it('the compiled validator is current (else run `npm run build`)', () => {
    expect(readFileSync(path.join(REPO_ROOT, OUT), 'utf8')).to.equal(validatorSource());
  });

  for (const [name, [make, refused]] of Object.entries(schemas)) {
    it(`${name}: accepted or refused as ajv does, with ajv's message, and filled in alike`, () => {
      const ours = make();
      const theirs = make();
      const expected = ajvOwnCheck(theirs);
      expect(expected !== null, 'ajv refuses it').to.equal(refused);
      expect(larderCheck(ours)).to.equal(expected);
      // The meta-schema's defaults (e.g. `properties: {}`), written into the schema by ajv's check.
      expect(ours).to.deep.equal(theirs);
    });
  }

  it("refuses a plugin's invalid schema before any value is checked against it", () => {
    expect(() => validateSection({ type: 'object', properties: { path: { type: 'strin' } } }, { path: 'x' }, 'feature_store.yaml', 'offline_store')).to.throw(
      'schema is invalid: data/properties/path/type must be equal to one of the allowed values',
    );
  });

  it("feature_store.yaml's own schema is valid JSON Schema", () => {
    expect(new Ajv({ strict: false }).validateSchema(structuredClone(repoConfigSchema))).to.equal(true);
  });
});
