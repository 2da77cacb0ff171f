/**
 * The entity table a client uploads with get_historical_features, checked before any store sees
 * it: what no store could answer sensibly is refused here, with the column named, whatever the
 * store. (Each store still checks what only it knows, such as join key types.)
 */
import type { Table } from 'apache-arrow';
import { InvalidArgumentError } from '../errors.ts';
import { entityTimestampColumn } from '../retrieval.ts';

export function checkEntityTable(table: Table): void {
  const seen = new Set<string>();
  for (const field of table.schema.fields) {
    // Two columns of one name make every reference to it ambiguous: which one is the join key?
    if (seen.has(field.name)) throw new InvalidArgumentError(`The entity dataframe has more than one column named "${field.name}"`);
    seen.add(field.name);
  }
  // Throws Feast's EntityTimestampInferenceException, or names a timestamp column that holds no times.
  entityTimestampColumn(table.schema);
}
