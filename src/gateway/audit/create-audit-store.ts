import { PostgresAuditStore } from './postgres-audit-store';
import { SqliteAuditStore } from './sqlite-audit-store';
import type { AuditConfig, AuditStore } from './types';

/** Opens the configured store and applies pending migrations. Fails with AUDIT_UNAVAILABLE. */
export async function createAuditStore(config: AuditConfig): Promise<AuditStore> {
  if (config.kind === 'sqlite') return SqliteAuditStore.open(config.path);
  return PostgresAuditStore.open(config.connectionString, config.poolSize);
}
