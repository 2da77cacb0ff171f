/** Quoting for the SQL larder builds; every name and value that reaches PostgreSQL goes through these. */

/** A quoted identifier: `"a ""b"""`. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A quoted string literal: `'it''s'` (standard_conforming_strings is on since PostgreSQL 9.1). */
export function str(value: string): string {
  if (value.includes('\u0000')) throw new Error('a string literal cannot contain NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/** A timestamptz literal of an instant (millisecond precision, as JS dates have). */
export function timestamptz(date: Date): string {
  return `${str(date.toISOString())}::timestamptz`;
}

/** An interval literal of a TTL in seconds, kept to the microsecond (PostgreSQL's precision). */
export function interval(seconds: number): string {
  return `interval '${Math.round(seconds * 1e6)} microseconds'`;
}
