import type { AuditConfig, AuditStore } from './types';

/** Opens the configured store and applies pending migrations. */
export async function createAuditStore(_config: AuditConfig): Promise<AuditStore> {
  return Promise.reject(new Error('not implemented yet'));
}
