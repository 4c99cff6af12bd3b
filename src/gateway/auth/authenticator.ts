import type { RequestHandler } from 'express';

import type { AuthConfig, AuthResult, Role } from './types';

export interface Authenticator {
  /** Verifies an `Authorization` header value (`Bearer <jwt or api key>`) -> principal. */
  authenticate(authorizationHeader: string | undefined): Promise<AuthResult>;
  /** Express middleware: attaches the principal (see principalOf) or answers 401. */
  middleware(): RequestHandler;
  /** authenticate + requireRole in one middleware. */
  requireRole(...roles: Role[]): RequestHandler;
}

export async function createAuthenticator(_config: AuthConfig): Promise<Authenticator> {
  return Promise.reject(new Error('not implemented yet'));
}
