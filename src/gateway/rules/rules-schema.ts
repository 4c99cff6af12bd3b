/**
 * The zod schema of the rules YAML (docs/rules.md). Raw shapes only: parse-rules.ts compiles them
 * into the typed RuleSet (regexes, failure reasons) and adds the cross-field checks.
 */
import { z } from 'zod';

import { SEGMENTER_NAMES } from '../../segmentation/segmenter';
import { ROLES } from '../auth/types';
import { EMBED_PROFILES, LOSSY_POLICIES, ON_FAILURE_POLICIES, UID_POLICIES } from './types';

const text = z.string().min(1, 'must not be empty');
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const ignoreCase = z.boolean().optional();

export type RawMatcher =
  | string
  | string[]
  | { equals: string; ignoreCase?: boolean | undefined }
  | { in: string[]; ignoreCase?: boolean | undefined }
  | { glob: string; ignoreCase?: boolean | undefined }
  | { regex: string; ignoreCase?: boolean | undefined }
  | { present: boolean }
  | { not: RawMatcher };

const MATCHER_HELP =
  'must be a value, a list of values, or an object with one of equals, in, glob, regex ' +
  '(each with optional ignoreCase), present, not';

export const matcherSchema: z.ZodType<RawMatcher> = z.lazy(() =>
  z.union(
    [
      scalar,
      z.array(scalar).min(1, 'must list at least one value'),
      z.strictObject({ equals: scalar, ignoreCase }),
      z.strictObject({ in: z.array(scalar).min(1, 'must list at least one value'), ignoreCase }),
      z.strictObject({ glob: text, ignoreCase }),
      z.strictObject({ regex: text, ignoreCase }),
      z.strictObject({ present: z.boolean() }),
      z.strictObject({ not: matcherSchema }),
    ],
    { error: (issue) => (issue.code === 'invalid_union' ? MATCHER_HELP : undefined) },
  ),
);

/** DICOM keyword (PS3.6 column "Keyword"): letters and digits, starting with an upper-case letter. */
export const KEYWORD_PATTERN = /^[A-Z][A-Za-z0-9]*$/;
const keyword = z.string().regex(KEYWORD_PATTERN, 'must be a DICOM keyword such as StationName');

const callerSchema = z.strictObject({
  subject: matcherSchema.optional(),
  roles: z.array(z.enum(ROLES)).min(1, 'must list at least one role').optional(),
});

const matchSchema = z.strictObject({
  attributes: z.record(z.string(), matcherSchema).optional(),
  caller: callerSchema.optional(),
});

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ruleName = z
  .string()
  .regex(
    NAME_PATTERN,
    'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  );

const common = {
  destination: text.optional(),
};

const embedFields = {
  action: z.literal('embed'),
  profile: z.enum(EMBED_PROFILES).default('fidelity'),
  identityFields: z.array(keyword).min(1, 'must list at least one field').optional(),
  segmenter: z.enum(SEGMENTER_NAMES).default('onnx-maskrcnn'),
  marginPx: z.number().int('must be an integer').min(0).max(64).default(4),
  uidPolicy: z.enum(UID_POLICIES).default('keep'),
  onFailure: z.enum(ON_FAILURE_POLICIES).default('store-original'),
  // No zod default: the parsed rule carries it only when the YAML names it ('passthrough' otherwise).
  lossyPolicy: z.enum(LOSSY_POLICIES).optional(),
};

/** Hex digits as a string ("0x0122", "C000") or a YAML integer (0x0122). */
const failureReason = z.union([z.number().int(), z.string().regex(/^(0x)?[0-9A-Fa-f]{1,4}$/i)], {
  error: 'must be a PS3.18 Table I.2-2 failure reason in hex, e.g. 0x0122 or C000',
});

const actionError = {
  error: (issue: { code: string }) =>
    issue.code === 'invalid_union' ? 'action must be one of embed, passthrough, reject' : undefined,
};

function actions<T extends z.ZodRawShape>(extra: T) {
  return z.discriminatedUnion(
    'action',
    [
      z.strictObject({ ...extra, ...common, ...embedFields }),
      z.strictObject({ ...extra, ...common, action: z.literal('passthrough') }),
      z.strictObject({ ...extra, ...common, action: z.literal('reject'), failureReason }),
    ],
    actionError,
  );
}

export const ruleSchema = actions({
  name: ruleName,
  description: z.string().optional(),
  match: matchSchema.default({}),
});

export const defaultRuleSchema = actions({
  name: ruleName.default('default'),
  description: z.string().optional(),
});

/** The file's outer shape; each rule and the default are then parsed on their own. */
export const rulesFileShapeSchema = z.strictObject({
  version: z.literal(1, 'version must be 1').default(1),
  rules: z.array(z.unknown(), 'must be a list of rules').default([]),
  default: z.custom<unknown>((value) => value !== undefined, 'is required'),
});

export type RawRule = z.output<typeof ruleSchema>;
export type RawDefaultRule = z.output<typeof defaultRuleSchema>;
