/**
 * Trino failures as errors a client can act on: Trino unreachable or starting is UNAVAILABLE (the
 * Feast client retries it), a missing table is Feast's DataSourceNotFoundException, other errors
 * in the SQL a user wrote or named are INVALID_ARGUMENT. No message carries a password: larder
 * never puts the config's secrets into one.
 */
import { DataSourceNotFoundException, FailedPreconditionError, InvalidArgumentError, LarderError, UnavailableError } from '@larder/core';
import type { QueryError } from 'trino-client';

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

/** Trino's error name (`SYNTAX_ERROR`, `TABLE_NOT_FOUND`, …) behind a mapped error, if it came from a statement. */
export function trinoErrorName(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause instanceof TrinoStatementError ? cause.error.errorName : undefined;
}

/** A statement Trino ran and failed (the `error` of its final result page). */
export class TrinoStatementError extends Error {
  constructor(readonly error: QueryError) {
    super(`${error.errorName}: ${error.message}`);
    this.name = 'TrinoStatementError';
  }
}

/** Trino error names meaning "the relation a source names is not there". */
const NOT_FOUND_NAMES = new Set(['TABLE_NOT_FOUND', 'SCHEMA_NOT_FOUND', 'CATALOG_NOT_FOUND']);

/**
 * Any failure of a statement run for `what` (e.g. "Data source driver_stats (table x)"), where
 * `table` is the relation a missing-table error names (Feast's DataSourceNotFoundException text).
 */
export function trinoError(error: unknown, what: string, server: string, table?: string, signal?: AbortSignal): Error {
  if (error instanceof LarderError) return error;
  if (signal?.aborted) return new LarderError(`${what}: cancelled, the call was aborted`);
  if (error instanceof TrinoStatementError) {
    const e = error.error;
    if (table !== undefined && NOT_FOUND_NAMES.has(e.errorName)) return new DataSourceNotFoundException(table);
    const text = `${what}: Trino error ${e.errorName}: ${e.message}`;
    if (e.errorName === 'SERVER_STARTING_UP' || e.errorName === 'SERVER_SHUTTING_DOWN' || e.errorName === 'NO_NODES_AVAILABLE') {
      return new UnavailableError(text);
    }
    // The statement's error stays reachable as `cause`, for callers that act on Trino's error name.
    const mapped = e.errorType === 'USER_ERROR' ? new InvalidArgumentError(text) : new LarderError(text);
    return Object.assign(mapped, { cause: error });
  }
  // axios errors: no answer at all, or an HTTP status from the coordinator.
  const e = error as { code?: string; message?: string; response?: { status?: number; data?: unknown } };
  const status = e.response?.status;
  if (status === 401 || status === 403) {
    return new FailedPreconditionError(
      `Trino at ${server} refused user or credentials (HTTP ${status}); check offline_store.user and auth`,
    );
  }
  if ((e.code && NETWORK_CODES.has(e.code)) || status === 502 || status === 503 || status === 504 || (!status && !e.response)) {
    return new UnavailableError(`Trino at ${server} is unreachable: ${e.message ?? String(error)}`);
  }
  return new LarderError(`${what}: Trino at ${server} answered HTTP ${status}: ${e.message ?? String(error)}`);
}
