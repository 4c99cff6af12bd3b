import { createHash, timingSafeEqual } from 'node:crypto';

import type { Request, RequestHandler, Response } from 'express';
import { decodeProtectedHeader, errors as joseErrors, importSPKI, jwtVerify } from 'jose';
import type { JWTPayload, KeyLike } from 'jose';

import { StegoGatewayError } from '../../stego/errors';
import { API_KEY_HASH_PATTERN, API_KEY_PATTERN } from './credentials';
import { attachPrincipal, requireRole, sendAuthError } from './middleware';
import { ROLES } from './types';
import type { ApiKeyRecord, AuthConfig, AuthFailure, AuthResult, Principal, Role } from './types';

export interface Authenticator {
  /** Verifies an `Authorization` header value (`Bearer <jwt or api key>`) -> principal. */
  authenticate(authorizationHeader: string | undefined): Promise<AuthResult>;
  /** Express middleware: attaches the principal (see principalOf) or answers 401. */
  middleware(): RequestHandler;
  /** authenticate + requireRole in one middleware: 401 or 403 with a JSON body. */
  requireRole(...roles: Role[]): RequestHandler;
}

const CODES: Record<AuthFailure, string> = {
  missing: 'AUTH_MISSING',
  malformed: 'AUTH_MALFORMED',
  invalid: 'AUTH_INVALID',
  expired: 'AUTH_EXPIRED',
};

/** Longest Authorization header we look at; JWTs with a few claims are well under 2 kB. */
const MAX_CREDENTIALS_CHARS = 8192;

interface RsaKey {
  readonly kid: string | undefined;
  readonly key: KeyLike;
}

/**
 * Builds the authenticator from the (already zod-validated) auth configuration. Async because
 * RS256 public keys are imported once here. Bad configuration throws AUTH_CONFIG_INVALID.
 */
export async function createAuthenticator(config: AuthConfig): Promise<Authenticator> {
  const realm = config.realm ?? 'stego-gateway';
  const jwt = config.jwt;
  const rolesClaim = jwt?.rolesClaim ?? 'roles';
  const hsSecret =
    jwt?.hs256Secret === undefined ? undefined : new TextEncoder().encode(jwt.hs256Secret);
  if (hsSecret !== undefined && hsSecret.length < 32) {
    // RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits).
    throw configError('auth.jwt.hs256Secret must be at least 32 bytes');
  }
  const rsaKeys: RsaKey[] = [];
  for (const [index, entry] of (jwt?.rs256PublicKeys ?? []).entries()) {
    try {
      rsaKeys.push({ kid: entry.kid, key: await importSPKI(entry.pem, 'RS256') });
    } catch (cause) {
      throw configError(
        `auth.jwt.rs256PublicKeys[${index}] is not an RSA SPKI PEM public key`,
        cause,
      );
    }
  }
  const apiKeys = indexApiKeys(config.apiKeys ?? []);
  const verifyOptions = {
    clockTolerance: jwt?.clockToleranceSec ?? 30,
    requiredClaims: ['sub', 'exp'],
    ...(jwt?.issuer === undefined ? {} : { issuer: jwt.issuer }),
    ...(jwt?.audience === undefined ? {} : { audience: jwt.audience }),
  };

  async function verifyJwt(token: string): Promise<AuthResult> {
    let alg: string | undefined;
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      alg = header.alg;
      kid = header.kid;
    } catch {
      return failure('malformed', 'the bearer token is neither a JWT nor an API key');
    }
    let candidates: readonly (KeyLike | Uint8Array)[];
    if (alg === 'HS256' && hsSecret !== undefined) {
      candidates = [hsSecret];
    } else if (alg === 'RS256' && rsaKeys.length > 0) {
      const byKid = kid === undefined ? [] : rsaKeys.filter((k) => k.kid === kid);
      candidates = (byKid.length > 0 ? byKid : rsaKeys.filter((k) => k.kid === undefined)).map(
        (k) => k.key,
      );
      if (candidates.length === 0)
        return failure('invalid', `no RS256 key with kid [${kid ?? ''}]`);
    } else {
      return failure('invalid', `JWT algorithm [${alg ?? 'none'}] is not accepted`);
    }
    let lastError: unknown;
    for (const key of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, { ...verifyOptions, algorithms: [alg] });
        return principalFromJwt(payload, kid);
      } catch (error) {
        lastError = error;
        if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) break;
      }
    }
    return jwtFailure(lastError);
  }

  function principalFromJwt(payload: JWTPayload, kid: string | undefined): AuthResult {
    const subject = payload.sub;
    if (typeof subject !== 'string' || subject === '') {
      return failure('invalid', 'the JWT has no subject');
    }
    const principal: Principal = {
      subject,
      roles: rolesFrom(payload[rolesClaim]),
      via: 'jwt',
      ...(kid === undefined ? {} : { credentialId: kid }),
    };
    return { ok: true, principal };
  }

  function verifyApiKey(key: string): AuthResult {
    const match = API_KEY_PATTERN.exec(key);
    const record = match?.[1] === undefined ? undefined : apiKeys.get(match[1]);
    const presented = createHash('sha256').update(key, 'utf8').digest();
    // Compare even when the id is unknown, so timing does not tell which ids exist.
    const stored = record === undefined ? DUMMY_DIGEST : Buffer.from(record.hash.slice(7), 'hex');
    const equal = timingSafeEqual(presented, stored);
    if (record === undefined || !equal) return failure('invalid', 'unknown or revoked API key');
    return {
      ok: true,
      principal: {
        subject: record.subject,
        roles: [...record.roles],
        via: 'api-key',
        credentialId: record.id,
      },
    };
  }

  async function authenticate(header: string | undefined): Promise<AuthResult> {
    if (header === undefined || header.trim() === '') {
      return failure('missing', 'a bearer token is required (Authorization: Bearer ...)');
    }
    if (header.length > MAX_CREDENTIALS_CHARS)
      return failure('malformed', 'the Authorization header is too long');
    const match = /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header);
    const credentials = match?.[1];
    if (credentials === undefined) {
      return failure('malformed', 'the Authorization header must be "Bearer <token>"');
    }
    if (credentials.startsWith('sgw_')) return verifyApiKey(credentials);
    return verifyJwt(credentials);
  }

  function challenge(result: Extract<AuthResult, { ok: false }>): string {
    if (result.reason === 'missing') return `Bearer realm="${realm}"`;
    // RFC 6750 3: quoted-string without " or \ (our messages never contain them, but be safe).
    const description = result.message.replace(/["\\]/g, "'");
    const error = result.reason === 'malformed' ? 'invalid_request' : 'invalid_token';
    return `Bearer realm="${realm}", error="${error}", error_description="${description}"`;
  }

  /** Attaches the principal and returns true, or answers 401 and returns false. */
  async function admit(req: Request, res: Response): Promise<boolean> {
    const result = await authenticate(req.headers.authorization);
    if (!result.ok) {
      sendAuthError(res, 401, CODES[result.reason], result.message, challenge(result));
      return false;
    }
    attachPrincipal(req, result.principal);
    return true;
  }

  return {
    authenticate,
    middleware(): RequestHandler {
      return async (req, res, next) => {
        if (await admit(req, res)) next();
      };
    },
    requireRole(...roles: Role[]): RequestHandler {
      const authorize = requireRole(...roles);
      return async (req, res, next) => {
        if (await admit(req, res)) await authorize(req, res, next);
      };
    },
  };
}

const DUMMY_DIGEST = Buffer.alloc(32);

function failure(reason: AuthFailure, message: string): AuthResult {
  return { ok: false, reason, message };
}

/** jose's errors -> our reasons; messages name the failed check, never the token. */
function jwtFailure(error: unknown): AuthResult {
  if (error instanceof joseErrors.JWTExpired) return failure('expired', 'the JWT has expired');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return failure('invalid', 'the JWT signature does not verify');
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return failure('invalid', `the JWT claim [${error.claim}] is invalid (${error.reason})`);
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) {
    return failure('invalid', 'the JWT algorithm is not accepted');
  }
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) {
    return failure('malformed', 'the JWT is malformed');
  }
  return failure('invalid', 'the JWT could not be verified');
}

/** A roles claim: an array of names or one space-separated string; unknown names are ignored. */
function rolesFrom(claim: unknown): Role[] {
  const names = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(' ') : [];
  return ROLES.filter((role) => names.includes(role));
}

function indexApiKeys(records: readonly ApiKeyRecord[]): Map<string, ApiKeyRecord> {
  const byId = new Map<string, ApiKeyRecord>();
  for (const [index, record] of records.entries()) {
    if (!API_KEY_HASH_PATTERN.test(record.hash)) {
      throw configError(`auth.apiKeys[${index}].hash must be sha256:<64 hex digits>`);
    }
    if (byId.has(record.id))
      throw configError(`auth.apiKeys[${index}].id is a duplicate [${record.id}]`);
    byId.set(record.id, record);
  }
  return byId;
}

function configError(message: string, cause?: unknown): StegoGatewayError {
  return new StegoGatewayError('AUTH_CONFIG_INVALID', message, {
    httpStatus: 500,
    ...(cause === undefined ? {} : { cause }),
  });
}
