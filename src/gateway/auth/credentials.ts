import { createHash, randomBytes } from 'node:crypto';

import { SignJWT } from 'jose';

import { StegoGatewayError } from '../../stego/errors';
import type { ApiKeyRecord, Role } from './types';

/** API keys look like `sgw_<id>_<secret>`; the id selects the stored hash, the secret is 256 bits. */
export const API_KEY_PATTERN = /^sgw_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{43})$/;
export const API_KEY_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * `sha256:<hex>` of an API key string. A single SHA-256 suffices (no scrypt): the key carries
 * 256 random bits, so the hash cannot be brute-forced; slow hashes are for low-entropy passwords.
 */
export function hashApiKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** A new API key and the record to store (the key itself is shown once, never stored). */
export function generateApiKey(
  subject: string,
  roles: readonly Role[],
  id: string = randomBytes(6).toString('hex'),
): { readonly key: string; readonly record: ApiKeyRecord } {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) {
    throw new StegoGatewayError(
      'AUTH_CONFIG_INVALID',
      `API key id must be 1-64 letters, digits or "-" [${id}]`,
    );
  }
  const key = `sgw_${id}_${randomBytes(32).toString('base64url')}`;
  return { key, record: { id, subject, roles: [...roles], hash: hashApiKey(key) } };
}

/** A random HS256 secret: 256 bits, base64url (43 characters, used as its UTF-8 bytes). */
export function generateHs256Secret(): string {
  return randomBytes(32).toString('base64url');
}

export interface MintTokenOptions {
  readonly secret: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  /** Lifetime in seconds; default 30 days. */
  readonly expiresInSec?: number;
  readonly issuer?: string;
  readonly audience?: string;
  readonly rolesClaim?: string;
  /** Default now; tests mint tokens in the past. */
  readonly issuedAt?: Date;
  /** JWT header `kid`. */
  readonly kid?: string;
}

export const DEFAULT_TOKEN_LIFETIME_SEC = 30 * 24 * 3600;

/** An HS256 JWT for `npm start`'s first-start tokens and for tests. */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const issuedAtSec = Math.floor((options.issuedAt ?? new Date()).getTime() / 1000);
  const header =
    options.kid === undefined
      ? { alg: 'HS256', typ: 'JWT' }
      : { alg: 'HS256', typ: 'JWT', kid: options.kid };
  let jwt = new SignJWT({ [options.rolesClaim ?? 'roles']: [...options.roles] })
    .setProtectedHeader(header)
    .setSubject(options.subject)
    .setIssuedAt(issuedAtSec)
    .setExpirationTime(issuedAtSec + (options.expiresInSec ?? DEFAULT_TOKEN_LIFETIME_SEC));
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
