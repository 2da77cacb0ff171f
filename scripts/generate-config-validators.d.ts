// Types of generate-config-validators.js, for test/unit/config-schema-check.spec.ts.
/** The generated file, relative to the repository root. */
export const OUT: string;
/** The Ajv options the validators are compiled with. */
export const AJV_OPTIONS: { readonly allErrors: boolean; readonly strict: boolean; readonly useDefaults: boolean };
/** feature_store.yaml's schema and each built-in plugin's, from the built dist/. */
export function builtinSchemas(): Promise<object[]>;
/** The generated module's source. */
export function validatorsSource(): Promise<string>;
