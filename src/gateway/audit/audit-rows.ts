/**
 * Shared by both stores: records -> rows (with the UID guard), filters -> WHERE clauses, rows ->
 * entries.
 */
import { StegoGatewayError } from '../../stego/errors';
import { AUDIT_KINDS, EXTRACTION_RESULTS, STORE_OUTCOMES } from './types';
import type {
  AuditEntry,
  AuditFilter,
  ExtractionRecord,
  ExtractionResult,
  StoreOutcome,
  StoreRecord,
} from './types';

/** Columns in insert order. */
export const COLUMNS = [
  'kind',
  'at',
  'caller',
  'outcome',
  'rule',
  'profile',
  'key_id',
  'study_uid',
  'series_uid',
  'sop_uid',
  'failure_reason',
  'destination',
  'detail',
] as const;

export type RowValues = readonly [
  kind: 'store' | 'extraction',
  at: Date,
  caller: string,
  outcome: string,
  rule: string | null,
  profile: string | null,
  keyId: string | null,
  studyUid: string | null,
  seriesUid: string | null,
  sopUid: string | null,
  failureReason: number | null,
  destination: string | null,
  detail: string | null,
];

/** PS3.5 9.1: digits and dots, at most 64 characters. */
const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * Only well-formed UIDs reach the trail: a hostile file could carry a patient name in its Study
 * Instance UID, and the audit rows must hold no patient attribute. Anything else is stored as null.
 */
export function safeUid(uid: string | null | undefined): string | null {
  return uid !== null && uid !== undefined && uid.length <= 64 && UID.test(uid) ? uid : null;
}

/** Rule, profile, key id, destination, detail, caller: short machine names, capped. */
function short(value: string | null | undefined, max = 200): string | null {
  if (value === null || value === undefined) return null;
  return value.length <= max ? value : value.slice(0, max);
}

function checkDate(at: Date): Date {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) {
    throw new StegoGatewayError(
      'AUDIT_RECORD_INVALID',
      'audit record time [at] is not a valid date',
    );
  }
  return at;
}

function checkOneOf(value: string, allowed: readonly string[], field: string): string {
  if (!allowed.includes(value)) {
    throw new StegoGatewayError(
      'AUDIT_RECORD_INVALID',
      `audit record ${field} is not one of ${allowed.join(', ')} [${value}]`,
    );
  }
  return value;
}

export function storeRow(r: StoreRecord): RowValues {
  return [
    'store',
    checkDate(r.at),
    short(r.caller) ?? '',
    checkOneOf(r.outcome, STORE_OUTCOMES, 'outcome'),
    short(r.rule),
    short(r.profile),
    short(r.keyId),
    safeUid(r.studyUid),
    safeUid(r.seriesUid),
    safeUid(r.sopUid),
    r.failureReason === undefined ? null : r.failureReason,
    short(r.destination),
    short(r.detail),
  ];
}

export function extractionRow(r: ExtractionRecord): RowValues {
  return [
    'extraction',
    checkDate(r.at),
    short(r.caller) ?? '',
    checkOneOf(r.result, EXTRACTION_RESULTS, 'result'),
    null,
    short(r.profile),
    short(r.keyId),
    safeUid(r.studyUid),
    safeUid(r.seriesUid),
    safeUid(r.sopUid),
    null,
    null,
    short(r.detail),
  ];
}

export const MAX_QUERY_LIMIT = 1000;

/** WHERE clause and parameters for a filter; `placeholder(n)` is `?` (SQLite) or `$n` (pg). */
export function whereClause(
  filter: AuditFilter,
  placeholder: (index: number) => string,
  toParam: (at: Date) => unknown,
): { readonly sql: string; readonly params: unknown[] } {
  checkFilter(filter);
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown): void => {
    params.push(value);
    conditions.push(sql.replace('?', placeholder(params.length)));
  };
  if (filter.from !== undefined) add('at >= ?', toParam(filter.from));
  if (filter.to !== undefined) add('at < ?', toParam(filter.to));
  if (filter.caller !== undefined) add('caller = ?', filter.caller);
  if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
  if (filter.kind !== undefined) add('kind = ?', filter.kind);
  if (filter.studyUid !== undefined) add('study_uid = ?', filter.studyUid);
  return { sql: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

function checkFilter(filter: AuditFilter): void {
  const problems: string[] = [];
  if (!Number.isInteger(filter.limit) || filter.limit < 1 || filter.limit > MAX_QUERY_LIMIT) {
    problems.push(`limit must be an integer in 1..${MAX_QUERY_LIMIT} [${filter.limit}]`);
  }
  if (!Number.isInteger(filter.offset) || filter.offset < 0) {
    problems.push(`offset must be a non-negative integer [${filter.offset}]`);
  }
  for (const [name, at] of [
    ['from', filter.from],
    ['to', filter.to],
  ] as const) {
    if (at !== undefined && Number.isNaN(at.getTime()))
      problems.push(`${name} is not a valid date`);
  }
  if (filter.kind !== undefined && !AUDIT_KINDS.includes(filter.kind))
    problems.push(`kind must be store or extraction [${String(filter.kind)}]`);
  if (problems.length > 0) {
    throw new StegoGatewayError('AUDIT_QUERY_INVALID', problems.join('; '), { httpStatus: 400 });
  }
}

/** A row as both drivers return it (pg: id as string, at as Date; SQLite: at as ISO text). */
export interface AuditRow {
  readonly id: number | string;
  readonly kind: string;
  readonly at: string | Date;
  readonly caller: string;
  readonly outcome: string;
  readonly rule: string | null;
  readonly profile: string | null;
  readonly key_id: string | null;
  readonly study_uid: string | null;
  readonly series_uid: string | null;
  readonly sop_uid: string | null;
  readonly failure_reason: number | null;
  readonly destination: string | null;
  readonly detail: string | null;
}

export function entryFromRow(row: AuditRow): AuditEntry {
  const base = {
    id: Number(row.id),
    at: row.at instanceof Date ? row.at : new Date(row.at),
    caller: row.caller,
    studyUid: row.study_uid,
    seriesUid: row.series_uid,
    sopUid: row.sop_uid,
    profile: row.profile,
    keyId: row.key_id,
    detail: row.detail,
  };
  if (row.kind === 'extraction') {
    return { ...base, kind: 'extraction', outcome: row.outcome as ExtractionResult };
  }
  return {
    ...base,
    kind: 'store',
    outcome: row.outcome as StoreOutcome,
    rule: row.rule,
    failureReason: row.failure_reason,
    destination: row.destination,
  };
}
