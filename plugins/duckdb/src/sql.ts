/** Quoting for the SQL larder builds; every name and path that reaches DuckDB goes through these. */

/** A quoted identifier: `"a ""b"""`. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted string literal: `'it''s'`. */
export function str(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A BIGINT literal of nanoseconds since the epoch, from a Date (millisecond precision). */
export function epochNs(date: Date): string {
  return `${BigInt(date.getTime()) * 1_000_000n}`;
}

/** A BIGINT literal of nanoseconds, from seconds (TTLs may carry fractions). */
export function secondsAsNs(seconds: number): string {
  return `${BigInt(Math.round(seconds * 1e6)) * 1000n}`;
}
