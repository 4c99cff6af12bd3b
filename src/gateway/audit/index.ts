export * from './types';
export { createAuditStore } from './create-audit-store';
export { SqliteAuditStore } from './sqlite-audit-store';
export { PostgresAuditStore } from './postgres-audit-store';
export { parseAuditQuery } from './parse-audit-query';
export type { ParseAuditQueryResult } from './parse-audit-query';
export { MAX_QUERY_LIMIT, safeUid } from './audit-rows';
export { MIGRATIONS } from './migrations';
