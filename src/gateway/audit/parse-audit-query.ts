import { z } from 'zod';

import { MAX_QUERY_LIMIT } from './audit-rows';
import { AUDIT_KINDS, EXTRACTION_RESULTS, STORE_OUTCOMES } from './types';
import type { AuditFilter } from './types';

const DEFAULT_LIMIT = 100;

const date = z
  .string()
  .refine(
    (s) => /^\d{4}-\d{2}-\d{2}/.test(s) && !Number.isNaN(Date.parse(s)),
    'must be an ISO 8601 date or date-time',
  )
  .transform((s) => new Date(s));
const integer = (min: number, max: number) =>
  z.coerce.number().int('must be an integer').min(min).max(max);

const querySchema = z.strictObject({
  from: date.optional(),
  to: date.optional(),
  caller: z.string().min(1).max(200).optional(),
  outcome: z.enum([...STORE_OUTCOMES, ...EXTRACTION_RESULTS]).optional(),
  kind: z.enum(AUDIT_KINDS).optional(),
  studyUid: z
    .string()
    .regex(/^[0-9.]{1,64}$/, 'must be a UID')
    .optional(),
  limit: integer(1, MAX_QUERY_LIMIT).default(DEFAULT_LIMIT),
  offset: integer(0, Number.MAX_SAFE_INTEGER).default(0),
});

export type ParseAuditQueryResult =
  | { readonly ok: true; readonly filter: AuditFilter }
  | { readonly ok: false; readonly errors: readonly { path: string; message: string }[] };

/**
 * GET /audit's query string (express's `req.query`) -> AuditFilter. Repeated parameters, unknown
 * parameters and bad values are errors, all reported together.
 */
export function parseAuditQuery(query: unknown): ParseAuditQueryResult {
  const parsed = querySchema.safeParse(query);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((issue) => ({
        path: issue.path.map(String).join('.'),
        message:
          issue.code === 'unrecognized_keys'
            ? `unknown parameter${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `[${k}]`).join(', ')}`
            : issue.message,
      })),
    };
  }
  const { from, to, caller, outcome, kind, studyUid, limit, offset } = parsed.data;
  return {
    ok: true,
    filter: {
      limit,
      offset,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
      ...(caller === undefined ? {} : { caller }),
      ...(outcome === undefined ? {} : { outcome }),
      ...(kind === undefined ? {} : { kind }),
      ...(studyUid === undefined ? {} : { studyUid }),
    },
  };
}
