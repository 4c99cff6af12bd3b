import type { ApiKeyRecord, Role } from './types';

/** A new API key (`sgw_<id>_<43 base64url chars>`, 256 random bits) and the record to store. */
export function generateApiKey(
  _subject: string,
  _roles: readonly Role[],
  _id?: string,
): { readonly key: string; readonly record: ApiKeyRecord } {
  throw new Error('not implemented yet');
}

/** `sha256:<hex>` of an API key string. */
export function hashApiKey(_key: string): string {
  throw new Error('not implemented yet');
}

/** A random HS256 secret, base64url, 256 bits. */
export function generateHs256Secret(): string {
  throw new Error('not implemented yet');
}

export interface MintTokenOptions {
  readonly secret: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  /** jose duration string or seconds; default '30d'. */
  readonly expiresIn?: string | number;
  readonly issuer?: string;
  readonly audience?: string;
  readonly rolesClaim?: string;
}

/** An HS256 JWT for `npm start`'s first-start tokens and for tests. */
export async function mintToken(_options: MintTokenOptions): Promise<string> {
  return Promise.reject(new Error('not implemented yet'));
}
