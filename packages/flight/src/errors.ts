/**
 * Errors that end a Flight call with a chosen gRPC status. A handler throws one of these (or
 * anything shaped like FlightError: a numeric `code` and a `wireMessage()` method) and the server
 * sends its code and bounded message; any other error is a bug and becomes INTERNAL.
 */
import { status } from '@grpc/grpc-js';

/** A gRPC status code, as grpc-js numbers them. */
export type GrpcStatus = (typeof status)[keyof typeof status];

/** Base of every error reported to the client with a chosen gRPC status. */
export class FlightError extends Error {
  constructor(
    message: string,
    readonly code: GrpcStatus = status.INTERNAL,
  ) {
    super(message);
    this.name = new.target.name;
  }
  /** The text sent as the gRPC status message (bounded by the server before it is sent). */
  wireMessage(): string {
    return this.message;
  }
}

/** Bad input from the client: a field, a ticket, a table. The message names what was wrong. */
export class InvalidArgumentError extends FlightError {
  constructor(message: string) {
    super(message, status.INVALID_ARGUMENT);
  }
}

/** An RPC or a feature the server does not provide. */
export class UnimplementedError extends FlightError {
  constructor(message: string) {
    super(message, status.UNIMPLEMENTED);
  }
}

/** A ticket or other server-side object that does not exist (or no longer exists). */
export class NotFoundError extends FlightError {
  constructor(message: string) {
    super(message, status.NOT_FOUND);
  }
}

/** The server cannot do this in its current state; retrying will not help. */
export class FailedPreconditionError extends FlightError {
  constructor(message: string) {
    super(message, status.FAILED_PRECONDITION);
  }
}

/** A transient condition: clients retry UNAVAILABLE with backoff. */
export class UnavailableError extends FlightError {
  constructor(message: string) {
    super(message, status.UNAVAILABLE);
  }
}

/** The server ran out of something a call needs; the message names what and where. */
export class ResourceExhaustedError extends FlightError {
  constructor(message: string) {
    super(message, status.RESOURCE_EXHAUSTED);
  }
}

/** True for a FlightError, or any error shaped like one (a plugin may bundle its own copy of the classes). */
export function isFlightError(error: unknown): error is FlightError {
  if (error instanceof FlightError) return true;
  const e = error as Partial<FlightError> | null;
  return !!e && typeof e.code === 'number' && typeof e.wireMessage === 'function';
}
