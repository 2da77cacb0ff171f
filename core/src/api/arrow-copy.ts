/**
 * apache-arrow ships two module copies (ESM and CommonJS). Arrow types made by the other copy are
 * not `instanceof` this copy's classes, and the IPC encoder then writes them wrongly without
 * complaint (a Float64 column goes out as Float16 zeros). A store plugin that loads apache-arrow
 * with `require` does exactly that, so its results are checked once per call and refused with an
 * error that says how to fix the plugin, rather than sent corrupted.
 */
import { DataType, type Field, type Schema } from 'apache-arrow';
import { LarderError } from '../errors.ts';

export function assertOwnArrowCopy(schema: Schema, what: string): void {
  const foreign = findForeignField(schema.fields);
  if (foreign) {
    throw new LarderError(
      `${what} returned Arrow data made by a different copy of apache-arrow (column "${foreign}"): ` +
        'the store plugin must load apache-arrow with `import`, not `require`',
    );
  }
}

function findForeignField(fields: readonly Field[], prefix = ''): string | null {
  for (const field of fields) {
    const name = prefix + field.name;
    if (!(field.type instanceof DataType)) return name;
    const nested = findForeignField((field.type.children ?? []) as Field[], `${name}.`);
    if (nested) return nested;
  }
  return null;
}
