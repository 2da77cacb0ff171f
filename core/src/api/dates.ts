/**
 * Dates in Feast commands are Python `datetime.isoformat()` strings. Feast's server reads them with
 * `fromisoformat` and treats naive values as UTC (`make_tzaware`), so a string without an offset
 * is UTC here too — JavaScript's Date would read it as local time. Precision is milliseconds.
 */
import { InvalidArgumentError } from '../errors.ts';

const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}:?\d{2})?$/;

export function parseIsoDate(value: unknown, field: string): Date | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new InvalidArgumentError(`"${field}" must be an ISO 8601 date string`);
  const m = ISO.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`"${field}" is not an ISO 8601 date: ${JSON.stringify(value)}`);
  const [, day, time = '00:00:00', zone = 'Z'] = m;
  // Trim sub-millisecond digits, which Date cannot hold.
  const clock = time.replace(/(\.\d{3})\d+$/, '$1');
  const date = new Date(`${day}T${clock}${zone}`);
  // Date rolls impossible days over (2024-02-30 → March 1); Python's fromisoformat refuses them, so does this.
  const calendarDay = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(date.getTime()) || Number.isNaN(calendarDay.getTime()) || calendarDay.toISOString().slice(0, 10) !== day) {
    throw new InvalidArgumentError(`"${field}" is not a valid date: ${JSON.stringify(value)}`);
  }
  return date;
}
