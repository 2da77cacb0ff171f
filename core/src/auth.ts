/**
 * The auth-provider plugin contract. With `auth.type: no_auth` no provider runs and every call is
 * anonymous. A provider turns the bearer token of a call into a User, or throws an
 * UnauthenticatedError that says what was wrong with the token.
 */
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { LarderError } from './errors.ts';

/** An authenticated caller, as Feast's permission policies see it. */
export interface User {
  readonly username: string;
  readonly roles: readonly string[];
  readonly groups: readonly string[];
  readonly namespaces: readonly string[];
}

export class UnauthenticatedError extends LarderError {
  constructor(message: string) {
    super(message, status.UNAUTHENTICATED);
  }
}

export interface AuthProvider {
  /** Verifies a bearer token (without the "Bearer " prefix). */
  authenticate(token: string): Promise<User>;
  /**
   * The token this server presents when it calls another Feast service (a registry server),
   * found where Feast's client of the same auth type finds it (a configured token, client
   * credentials, a service account token). Without it, `registry_type: remote` works only with
   * `INTRA_COMMUNICATION_BASE64` set.
   */
  serviceToken?(): Promise<string>;
  close?(): Promise<void>;
}

export interface AuthEnvironment {
  readonly repoPath: string;
  readonly logger: Logger;
}

/** The default export of an auth plugin module. `configSchema` validates the whole `auth` section. */
export interface AuthPlugin {
  readonly kind: 'auth';
  readonly name: string;
  readonly configSchema: Readonly<Record<string, unknown>>;
  create(config: Readonly<Record<string, unknown>>, env: AuthEnvironment): AuthProvider | Promise<AuthProvider>;
}
