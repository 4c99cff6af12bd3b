export * from './types';
export { createAuthenticator } from './authenticator';
export type { Authenticator } from './authenticator';
export { requireRole, principalOf, attachPrincipal } from './middleware';
export { cachedRoleGuards } from './cached-role-guard';
export type { CachedRoleGuards, VerifiedTokenCacheOptions } from './cached-role-guard';
export type { AuthErrorBody } from './middleware';
export { generateApiKey, hashApiKey, generateHs256Secret, mintToken } from './credentials';
export type { MintTokenOptions } from './credentials';
