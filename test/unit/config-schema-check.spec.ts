/**
 * Config schemas are checked against the JSON Schema meta-schema by a validator the build compiles
 * (scripts/generate-schema-validator.js), and the built-in ones validated by validators the build
 * compiles (scripts/generate-config-validators.js), not by ajv at every start
 * (core/src/config/schema-validators.ts): both accept, reject, report and fill in defaults exactly
 * as ajv does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { repoConfigSchema } from '../../core/src/config/schema.ts';
import { schemaValidator } from '../../core/src/config/schema-validators.ts';
import { validateSection } from '../../core/src/config/validate.ts';
import fileRegistryPlugin from '../../core/src/registry/file-plugin.ts';
import { AJV_OPTIONS, OUT as CONFIG_OUT } from '../../scripts/generate-config-validators.js';
import { OUT, validatorSource } from '../../scripts/generate-schema-validator.js';
import { REPO_ROOT } from '../support/larder-process.ts';

/** What ajv itself does with the schema when it compiles it: the error it throws, or null. */
function ajvOwnCheck(schema: object): string | null {
  try {
    new Ajv({ ...AJV_OPTIONS }).compile(schema);
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
  'a plugin schema': [
    () => ({
      type: 'object',
      properties: { type: { type: 'string' }, path: { type: 'string', default: 'data' } },
      additionalProperties: false,
    }),
    false,
  ],
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
    expect(() =>
      validateSection({ type: 'object', properties: { path: { type: 'strin' } } }, { path: 'x' }, 'feature_store.yaml', 'offline_store'),
    ).to.throw('schema is invalid: data/properties/path/type must be equal to one of the allowed values');
  });

  it("feature_store.yaml's own schema is valid JSON Schema", () => {
    expect(new Ajv({ strict: false }).validateSchema(structuredClone(repoConfigSchema))).to.equal(true);
  });

  describe('the validators the build compiled for the built-in schemas', () => {
    /** feature_store.yaml's schema and every built-in plugin's, as the sources define them today. */
    async function builtinSchemas(): Promise<Record<string, object>> {
      const schemas: Record<string, object> = { 'feature_store.yaml': repoConfigSchema, 'file registry': fileRegistryPlugin.configSchema };
      for (const dir of readdirSync(path.join(REPO_ROOT, 'plugins')).sort()) {
        schemas[dir] = (
          (await import(path.join(REPO_ROOT, 'plugins', dir, 'src', 'index.ts'))) as { default: { configSchema: object } }
        ).default.configSchema;
      }
      return schemas;
    }
    const generated = () => createRequire(import.meta.url)(path.join(REPO_ROOT, CONFIG_OUT)) as { bySchema: Record<string, string> };

    it("cover today's schemas (else run `npm run build`)", async () => {
      const schemas = await builtinSchemas();
      expect(Object.keys(schemas)).to.have.length(readdirSync(path.join(REPO_ROOT, 'plugins')).length + 2);
      for (const [name, schema] of Object.entries(schemas)) {
        expect(Object.hasOwn(generated().bySchema, JSON.stringify(schema)), name).to.equal(true);
      }
    });

    it('accept, refuse, report and fill in defaults as ajv compiling the schema does', async () => {
      const samples = (type: string): unknown[] => [
        {},
        { type },
        { type, no_such_key: 1 },
        { type, path: 42, host: ['x'], port: 'five', url: null, cache_ttl_seconds: -1 },
        {
          project: 'p',
          registry: 'data/registry.db',
          provider: 'local',
          offline_store: { type: 'file' },
          entity_key_serialization_version: 3,
        },
        { project: 'bad name!', registry: { registry_type: 'sql', path: 3 }, offline_store: 'file', online_store: null },
      ];
      const outcomes = new Set<boolean>();
      for (const [name, schema] of Object.entries(await builtinSchemas())) {
        const ajvs = new Ajv({ ...AJV_OPTIONS }).compile(structuredClone(schema));
        const prebuilt = generated() as unknown as Record<string, unknown> & { bySchema: Record<string, string> };
        const exported = prebuilt[prebuilt.bySchema[JSON.stringify(schema)]!];
        const ours = schemaValidator(schema);
        expect(ours === exported, `${name}: the prebuilt validator is the one used`).to.equal(true);
        for (const sample of samples(name)) {
          const [a, b] = [structuredClone(sample), structuredClone(sample)];
          const valid = ours(a);
          outcomes.add(valid);
          expect(valid, `${name} ${JSON.stringify(sample)}`).to.equal(ajvs(b));
          expect(ours.errors ?? null, `${name} ${JSON.stringify(sample)}`).to.deep.equal(ajvs.errors ?? null);
          expect(a, `${name}: defaults filled in`).to.deep.equal(b);
        }
      }
      expect([...outcomes].sort(), 'samples both pass and fail').to.deep.equal([false, true]);
    });
  });
});
