// Types of generate-schema-validator.js, for test/unit/config-schema-check.spec.ts.
/** The generated file, relative to the repository root. */
export const OUT: string;
/** The generated validator's source. */
export function validatorSource(): string;
