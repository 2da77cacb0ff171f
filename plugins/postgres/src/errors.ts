/**
 * PostgreSQL failures as errors a client can act on. The message says what PostgreSQL refused
 * and for what; it never contains the password (node-postgres errors do not carry the config,
 * and larder never interpolates it).
 */
import { FailedPreconditionError, InvalidArgumentError, LarderError, UnavailableError } from '@larder/core';

interface PgError {
  readonly code?: string;
  readonly message: string;
  readonly position?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
]);

/** Where the store talks to, for messages: user@host:port/database (never the password). */
export interface ServerName {
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

export function describeServer(s: ServerName): string {
  return `${s.user}@${s.host}:${s.port}/${s.database}`;
}

/** A failure to obtain a connection. */
export function connectionError(error: unknown, server: ServerName): LarderError {
  if (error instanceof LarderError) return error;
  const e = error as PgError;
  const where = describeServer(server);
  if (e.code?.startsWith('28') || e.code === '3D000') {
    // Wrong password, unknown user or database: retrying will not help.
    return new FailedPreconditionError(`PostgreSQL refused the connection ${where}: ${e.message}`);
  }
  if (
    (e.code && NETWORK_CODES.has(e.code)) ||
    e.code?.startsWith('08') ||
    e.code?.startsWith('57P') ||
    /timeout|terminated/i.test(e.message)
  ) {
    return new UnavailableError(`PostgreSQL at ${where} is unreachable: ${e.message}`);
  }
  return new LarderError(`Could not connect to PostgreSQL at ${where}: ${e.message}`);
}

/**
 * A failure of a statement larder ran for `what` (e.g. "data source driver_stats"). Errors in
 * the SQL a user wrote or named (missing table, syntax, types, a write in a read-only
 * transaction) are the client's to fix: INVALID_ARGUMENT.
 */
export function queryError(error: unknown, what: string, signal?: AbortSignal): Error {
  if (error instanceof LarderError) return error;
  if (signal?.aborted) return new LarderError(`${what}: cancelled, the call was aborted`);
  const e = error as PgError;
  // 08: connection exceptions; 57P: the server shutting down, crashed, or still starting.
  if (!e.code || NETWORK_CODES.has(e.code) || e.code.startsWith('08') || e.code.startsWith('57P')) {
    return new UnavailableError(`${what}: the connection to PostgreSQL failed: ${e.message}`);
  }
  const clientSide = ['42', '22', '23', '0A', '2F', '38', '39', '44'].some((c) => e.code!.startsWith(c)) || e.code === '25006';
  const detail = e.code === '25006' ? `${e.message} (larder runs this SQL read-only)` : e.message;
  const text = `${what}: PostgreSQL error ${e.code}: ${detail}`;
  return clientSide ? new InvalidArgumentError(text) : new LarderError(text);
}
