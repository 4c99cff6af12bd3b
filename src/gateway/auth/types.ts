/** Access control: who may call what (docs/security.md). */

export const ROLES = ['modality', 'viewer', 'auditor', 'admin'] as const;
/** modality: STOW; viewer: WADO/QIDO; auditor: identity extraction and audit; admin: rules. */
export type Role = (typeof ROLES)[number];

/** The authenticated caller. Never contains the token itself. */
export interface Principal {
  /** JWT `sub`, or the API key's configured subject. */
  readonly subject: string;
  readonly roles: readonly Role[];
  readonly via: 'jwt' | 'api-key';
  /** JWT `kid` or API key id, for the audit trail (never the secret). */
  readonly credentialId?: string;
}

/** An API key as configured: only its SHA-256 is stored. */
export interface ApiKeyRecord {
  /** Public part of the key, also embedded in the key string (`sgw_<id>_<secret>`). */
  readonly id: string;
  readonly subject: string;
  readonly roles: readonly Role[];
  /** `sha256:<64 hex digits>` of the whole key string. */
  readonly hash: string;
}

export interface Rs256PublicKey {
  /** Matched against the JWT header's `kid`; keys without kid are tried in turn. */
  readonly kid?: string;
  /** SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
  readonly pem: string;
}

export interface JwtConfig {
  /** HS256 shared secret (at least 32 bytes); enables HS256. */
  readonly hs256Secret?: string;
  /** RS256 public keys; enables RS256. */
  readonly rs256PublicKeys?: readonly Rs256PublicKey[];
  readonly issuer?: string;
  readonly audience?: string;
  /** Claim holding the roles (string array or space-separated string). Default `roles`. */
  readonly rolesClaim?: string;
  /** Default 30 s. */
  readonly clockToleranceSec?: number;
}

export interface AuthConfig {
  readonly jwt?: JwtConfig;
  readonly apiKeys?: readonly ApiKeyRecord[];
  /** Realm in WWW-Authenticate. Default `stego-gateway`. */
  readonly realm?: string;
}

export const AUTH_FAILURES = ['missing', 'malformed', 'invalid', 'expired'] as const;
export type AuthFailure = (typeof AUTH_FAILURES)[number];

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | { readonly ok: false; readonly reason: AuthFailure; readonly message: string };
