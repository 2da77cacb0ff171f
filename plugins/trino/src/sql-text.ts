/** Quoting for the SQL the trino store builds: every name and value that reaches Trino goes through these. */

/** A quoted identifier: `"a ""b"""`. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted string literal: `'it''s'`. */
export function str(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** An interval literal of a TTL in seconds, kept to the millisecond (Trino's interval precision). */
export function interval(seconds: number): string {
  return `INTERVAL '${(Math.round(seconds * 1000) / 1000).toFixed(3)}' SECOND`;
}

/** A naive UTC timestamp literal of an instant (millisecond precision, as JS dates have). */
export function utcTimestamp(date: Date): string {
  return `TIMESTAMP '${date.toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/**
 * The precision of a Trino timestamp type name (`timestamp(6)` → 6, `timestamp(3) with time
 * zone` → 3); 3 for a bare `timestamp` (what clients without PARAMETRIC_DATETIME see).
 */
export function timestampPrecision(type: string): number {
  const m = /^timestamp\((\d+)\)/.exec(type);
  return m ? Number(m[1]) : 3;
}

/**
 * A source column as a naive UTC timestamp, whatever its time type: a `timestamp with time zone`
 * converted to UTC, a naive timestamp read as UTC (as every larder store reads it), a date as
 * its midnight. Comparisons then never depend on the session's time zone.
 */
export function asUtcTimestamp(column: string, type: string): string {
  if (type === 'date') return `CAST(${column} AS timestamp(3))`;
  if (type.endsWith('with time zone')) return `CAST(${column} AT TIME ZONE 'UTC' AS timestamp(${timestampPrecision(type)}))`;
  return column;
}

/** Whether a Trino type name holds times (a timestamp of any precision, with or without zone, or a date). */
export function isTimeType(type: string): boolean {
  return type === 'date' || type.startsWith('timestamp');
}
