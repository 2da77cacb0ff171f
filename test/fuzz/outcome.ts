/**
 * How the fuzz properties judge one call: it must end, within a deadline, with a status a client
 * mistake may legitimately get. INTERNAL and UNKNOWN mean larder treated hostile input as its own
 * bug; DEADLINE_EXCEEDED (the client's deadline) means it hung; UNAVAILABLE means it stopped
 * serving (the properties run one call at a time, so no concurrency cap can explain it).
 */
import * as grpc from '@grpc/grpc-js';

/** The client-side deadline of every fuzz call. Generous: the machine is small and shared. */
export const CALL_DEADLINE_MS = Number(process.env.LARDER_FUZZ_DEADLINE_MS ?? 10_000);

export const ALLOWED_CODES: ReadonlySet<grpc.status> = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.UNIMPLEMENTED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE,
  // Feast's SavedDatasetLocationAlreadyExists (persist onto an existing destination).
  grpc.status.ALREADY_EXISTS,
]);

export interface Outcome {
  readonly code: grpc.status;
  readonly details: string;
}

/** The status a call ended with: OK when it resolved, the gRPC error's code otherwise. */
export async function outcomeOf(call: Promise<unknown>): Promise<Outcome> {
  try {
    await call;
    return { code: grpc.status.OK, details: '' };
  } catch (error) {
    const e = error as { code?: unknown; details?: unknown; message?: unknown };
    if (typeof e.code === 'number') return { code: e.code, details: String(e.details ?? e.message ?? '') };
    // Not a gRPC status: the client could not make sense of what the server sent back.
    return { code: grpc.status.UNKNOWN, details: `client-side failure: ${String(e.message ?? error)}` };
  }
}

/** Throws (failing the property) unless the outcome is one a hostile client may get. */
export function assertAllowed(outcome: Outcome, what: string): void {
  if (ALLOWED_CODES.has(outcome.code)) return;
  throw new Error(`${what} ended with ${grpc.status[outcome.code] ?? outcome.code}: ${outcome.details.slice(0, 500)}`);
}

/** A client interceptor that puts a deadline on every call made through the channel. */
export const deadlineInterceptor: grpc.Interceptor = (options, nextCall) =>
  new grpc.InterceptingCall(nextCall({ ...options, deadline: options.deadline ?? Date.now() + CALL_DEADLINE_MS }));
