/** get_table_column_names_and_types_from_data_source and validate_data_source on a source the target made. */
import type { Check } from '../check.ts';
import { cityRows } from '../kit-data.ts';
import { callContext, type KitRun } from '../kit-run.ts';

export function sourceChecks(run: KitRun): Check[] {
  return [
    {
      name: 'get_table_column_names_and_types: every column of the source, each with its type',
      async run() {
        const source = await run.source(`${run.prefix()}_cities`, cityRows, 'ts', '');
        const columns = await run.withStore((store) => store.getTableColumnNamesAndTypes(source, callContext()));
        if (!Array.isArray(columns))
          throw new Error(`getTableColumnNamesAndTypes returned ${String(columns)}, not an array of {name, type}`);
        const names = columns.map((c) => c.name);
        const expected = cityRows.columns.map((c) => c.name);
        if (names.length !== expected.length || !expected.every((n) => names.includes(n))) {
          throw new Error(`getTableColumnNamesAndTypes of a source with columns [${expected.join(', ')}] returned [${names.join(', ')}]`);
        }
        const untyped = columns.filter((c) => typeof c.type !== 'string' || c.type.length === 0);
        if (untyped.length > 0) throw new Error(`columns without a type name: ${untyped.map((c) => c.name).join(', ')}`);
      },
    },
    {
      name: 'validate_data_source: a readable source is accepted',
      async run() {
        const source = await run.source(`${run.prefix()}_cities`, cityRows, 'ts', '');
        await run.withStore((store) => store.validateDataSource(source, callContext()));
      },
    },
  ];
}
