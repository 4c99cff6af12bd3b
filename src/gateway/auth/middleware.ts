import type { Request, RequestHandler, Response } from 'express';

import type { Principal, Role } from './types';

const principals = new WeakMap<Request, Principal>();

/** The principal the authentication middleware attached to this request, if any. */
export function principalOf(req: Request): Principal | undefined {
  return principals.get(req);
}

/** Used by the authentication middleware (and tests) to attach the verified principal. */
export function attachPrincipal(req: Request, principal: Principal): void {
  principals.set(req, principal);
}

/** JSON error body of the auth middleware: `{ error: { code, message } }`. */
export interface AuthErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function sendAuthError(
  res: Response,
  status: 401 | 403,
  code: string,
  message: string,
  wwwAuthenticate: string,
): void {
  const body: AuthErrorBody = { error: { code, message } };
  res.status(status).set('WWW-Authenticate', wwwAuthenticate).json(body);
}

/**
 * Express middleware: 401 when no principal is attached (authentication middleware not run or
 * failed), 403 (RFC 6750 `insufficient_scope`) when the principal holds none of `roles`.
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, res, next) => {
    const principal = principalOf(req);
    if (principal === undefined) {
      sendAuthError(
        res,
        401,
        'AUTH_MISSING',
        'a bearer token is required',
        'Bearer realm="stego-gateway"',
      );
      return;
    }
    if (!roles.some((role) => principal.roles.includes(role))) {
      sendAuthError(
        res,
        403,
        'AUTH_FORBIDDEN',
        `this route needs role [${roles.join('|')}]`,
        `Bearer realm="stego-gateway", error="insufficient_scope", scope="${roles.join(' ')}"`,
      );
      return;
    }
    next();
  };
}
