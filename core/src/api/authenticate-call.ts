/**
 * Authentication of one Feast call: the bearer token of its `authorization` header, verified by
 * the auth provider. A refused call is logged here, at warn, because it never reaches the
 * afterCall hook (no user, no command yet) and an operator needs to see failed logins: the rpc,
 * the peer and the reason, never the token.
 */
import type { FlightCallInfo } from '@larder/flight';
import type { Logger } from 'pino';
import { UnauthenticatedError, type AuthProvider, type User } from '../auth.ts';

/** The message of the log line of a call refused by authentication. */
export const REFUSED_MESSAGE = 'call refused: not authenticated';

/** The caller's User, or throws (UnauthenticatedError, or what the provider threw) after logging the refusal. */
export async function authenticateCall(auth: AuthProvider, call: FlightCallInfo, logger: Logger): Promise<User> {
  const token = bearerToken(call);
  try {
    if (token instanceof UnauthenticatedError) throw token;
    return await auth.authenticate(token);
  } catch (error) {
    // A numeric code is a refusal the provider meant (UNAUTHENTICATED, UNAVAILABLE when it cannot
    // reach its identity provider); anything else is a bug the transport logs as an error.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') {
      const reason = typeof token === 'string' ? redact((error as Error).message, token) : (error as Error).message;
      logger.warn({ rpc: call.method, peer: call.peer, reason, code }, REFUSED_MESSAGE);
    }
    throw error;
  }
}

/** The token of `authorization: Bearer <token>`, or the error that says what is wrong with the header. */
function bearerToken(call: FlightCallInfo): string | UnauthenticatedError {
  const header = call.headers.authorization?.[0];
  if (!header) return new UnauthenticatedError('Missing authorization header: send "authorization: Bearer <token>"');
  const match = /^bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) return new UnauthenticatedError('Malformed authorization header: expected "Bearer <token>"');
  return match[1]!;
}

/** A provider's message with the token taken out, should a third-party provider quote it. */
function redact(message: string, token: string): string {
  return message.split(token).join('<token>');
}
