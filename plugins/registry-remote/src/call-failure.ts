/**
 * A failed call to the registry server, as one readable sentence: which server, which gRPC status,
 * and Feast's own message. Feast's registry server reports a FeastError by aborting with its JSON
 * (`{"module": …, "class": …, "message": …}`) as the status details; the message is what a
 * person needs, so it is taken out of the JSON.
 */
import { status, type ServiceError } from '@grpc/grpc-js';

/** What Python grpc answers when an exception escapes a servicer or an interceptor. */
const PYTHON_HANDLER_EXCEPTION = 'Error in service handler!';

export interface CallContext {
  readonly target: string;
  readonly method: string;
  readonly timeoutMs: number;
  /** Whether an `authorization` header was sent. */
  readonly sentToken: boolean;
}

export function callFailure(error: ServiceError, context: CallContext): Error {
  const code = codeName(error.code);
  const server = `registry server ${context.target}`;
  const details = feastMessage(error.details);
  switch (error.code) {
    case status.UNAVAILABLE:
      return new Error(`${server} is not reachable: ${code}: ${details}`, { cause: error });
    case status.DEADLINE_EXCEEDED:
      return new Error(
        `${server} did not answer ${context.method} in time (a registry read may take ${context.timeoutMs / 1000} s): ${code}`,
        { cause: error },
      );
    case status.UNKNOWN:
      if (details === PYTHON_HANDLER_EXCEPTION)
        return new Error(`${server} refused ${context.method}: ${code}: ${details} ${authHint(context)}`, { cause: error });
      break;
  }
  return new Error(`${server} refused ${context.method}: ${code}: ${details}`, { cause: error });
}

/**
 * Feast's auth interceptor raises outside the servicer, which Python grpc can only report as
 * this generic UNKNOWN: the likeliest cause is the token.
 */
function authHint(context: CallContext): string {
  return context.sentToken
    ? "(this is how Feast's registry server answers a bearer token it does not accept: check the token larder presents — INTRA_COMMUNICATION_BASE64, or the auth section's token settings — and the server's logs)"
    : "(this is how Feast's registry server answers a call without a bearer token when it has auth enabled: larder sent none because its auth type is no_auth)";
}

/**
 * The `message` of a FeastError JSON, or the details as they are (less the empty "Resolution
 * note:" grpc-js ends a connection failure with).
 */
export function feastMessage(details: string): string {
  const text = details.replace(/\s*Resolution note:\s*$/, '').trim();
  if (!text.startsWith('{')) return text;
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : text;
  } catch {
    return text;
  }
}

export function codeName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? `code ${code}`;
}
