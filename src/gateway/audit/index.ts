export * from './types';
export { createAuditStore } from './create-audit-store';
