/**
 * Role guards for the DICOMweb routes that remember verified credentials for a few seconds.
 * A viewer fetches a study one instance per request with the same bearer token; verifying the JWT
 * (base64, JSON, HMAC or RSA) on each was a measurable share of the gateway's CPU per WADO-RS
 * instance. Only successful verifications are kept, never beyond the token's own `exp`, at most
 * `ttlMs` and `maxEntries`; every failure goes through the authenticator's own guard, so the
 * answers (401/403, codes, challenges) are exactly the authenticator's.
 */
import type { RequestHandler } from 'express';
import { decodeJwt } from 'jose';

import type { Authenticator } from './authenticator';
import { attachPrincipal, requireRole } from './middleware';
import type { Principal, Role } from './types';

export interface VerifiedTokenCacheOptions {
  /** How long a verified credential is trusted without verifying it again. */
  readonly ttlMs?: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly principal: Principal;
  readonly untilMs: number;
}

export interface CachedRoleGuards {
  requireRole(...roles: Role[]): RequestHandler;
}

export function cachedRoleGuards(
  authenticator: Pick<Authenticator, 'authenticate' | 'requireRole'>,
  options: VerifiedTokenCacheOptions = {},
): CachedRoleGuards {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 1024;
  const now = options.now ?? Date.now;
  const verified = new Map<string, Entry>();

  const lookup = (header: string): Principal | undefined => {
    const entry = verified.get(header);
    if (entry === undefined) return undefined;
    if (entry.untilMs > now()) return entry.principal;
    verified.delete(header);
    return undefined;
  };

  const remember = (header: string, principal: Principal): void => {
    const untilMs = Math.min(now() + ttlMs, tokenExpiryMs(header));
    if (untilMs <= now()) return;
    if (verified.size >= maxEntries) {
      // Oldest first (Map keeps insertion order).
      const oldest = verified.keys().next();
      if (oldest.done !== true) verified.delete(oldest.value);
    }
    verified.set(header, { principal, untilMs });
  };

  return {
    requireRole(...roles: Role[]): RequestHandler {
      const authorize = requireRole(...roles);
      const fallback = authenticator.requireRole(...roles);
      return async (req, res, next) => {
        const header = req.headers.authorization;
        if (typeof header !== 'string') {
          await fallback(req, res, next);
          return;
        }
        let principal = lookup(header);
        if (principal === undefined) {
          const result = await authenticator.authenticate(header);
          if (!result.ok) {
            // The authenticator's own guard answers, with its codes and challenge.
            await fallback(req, res, next);
            return;
          }
          principal = result.principal;
          remember(header, principal);
        }
        attachPrincipal(req, principal);
        await authorize(req, res, next);
      };
    },
  };
}

/** A JWT's `exp` in ms; API keys (and JWTs without `exp`, refused anyway) never expire here. */
function tokenExpiryMs(header: string): number {
  const token = /^Bearer +(\S+)/i.exec(header)?.[1];
  if (token === undefined || token.startsWith('sgw_')) return Number.POSITIVE_INFINITY;
  try {
    const exp = decodeJwt(token).exp;
    return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY;
  } catch {
    return 0;
  }
}
