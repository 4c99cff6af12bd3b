/**
 * Routing rules: the typed, validated form of the YAML file PACS admins edit (docs/rules.md).
 * Pure data. Parsing lives in parse-rules.ts, matching in match-rule.ts.
 */
import type { LossyPolicy } from '../../dicom';
import type { SegmenterName } from '../../segmentation/segmenter';
import type { Role } from '../auth/types';

export const EMBED_PROFILES = ['paper', 'fidelity', 'robust'] as const;
export type EmbedProfile = (typeof EMBED_PROFILES)[number];

export const UID_POLICIES = ['keep', 'derive'] as const;
/**
 * `keep` (default): the changes lie outside the diagnostic region and are not expected to affect
 * interpretation (PS3.3 C.7.6.1.1), so the instance keeps its SOP Instance UID.
 * `derive`: a new SOP Instance UID and the derived-image attributes (see derive-uid-edits.ts).
 */
export type UidPolicy = (typeof UID_POLICIES)[number];

export const ON_FAILURE_POLICIES = ['store-original', 'reject'] as const;
/** What to do when embedding fails: store the original with a warning, or reject the instance. */
export type OnFailurePolicy = (typeof ON_FAILURE_POLICIES)[number];

/**
 * Lossy input (JPEG baseline, JPEG-LS near-lossless, lossy JPEG 2000...) is never re-encoded lossily
 * after embedding. `passthrough` (default): stored untouched with a warning. `store-explicit-le`:
 * embedded and stored as Explicit VR Little Endian (Lossy Image Compression stays "01").
 */
export const LOSSY_POLICIES = [
  'passthrough',
  'store-explicit-le',
] as const satisfies readonly LossyPolicy[];

/** How one string value is tested. `not` negates any matcher. */
export type ValueMatcher =
  | { readonly kind: 'equals'; readonly value: string; readonly ignoreCase: boolean }
  | { readonly kind: 'in'; readonly values: readonly string[]; readonly ignoreCase: boolean }
  | {
      readonly kind: 'glob';
      readonly pattern: string;
      readonly ignoreCase: boolean;
      readonly regex: RegExp;
    }
  | {
      readonly kind: 'regex';
      readonly pattern: string;
      readonly ignoreCase: boolean;
      readonly regex: RegExp;
    }
  | { readonly kind: 'present'; readonly present: boolean }
  | { readonly kind: 'not'; readonly matcher: ValueMatcher };

/** A DICOM keyword (e.g. `Modality`) and the test its value must pass. */
export interface AttributeCondition {
  readonly keyword: string;
  readonly matcher: ValueMatcher;
}

/** Conditions on the authenticated caller. Every given condition must hold. */
export interface CallerCondition {
  readonly subject?: ValueMatcher;
  /** The caller must hold at least one of these roles. */
  readonly anyRole?: readonly Role[];
}

/** All conditions must hold (AND). An empty match matches everything. */
export interface RuleMatch {
  readonly attributes: readonly AttributeCondition[];
  readonly caller?: CallerCondition;
}

export interface EmbedAction {
  readonly type: 'embed';
  readonly profile: EmbedProfile;
  /** DICOM keywords of the identity record; undefined = the engine's default field list. */
  readonly identityFields?: readonly string[];
  readonly segmenter: SegmenterName;
  readonly marginPx: number;
  readonly uidPolicy: UidPolicy;
  readonly onFailure: OnFailurePolicy;
  /** Undefined = 'passthrough' (kept out of the parsed rule unless the YAML names it). */
  readonly lossyPolicy?: LossyPolicy;
}

export interface PassthroughAction {
  readonly type: 'passthrough';
}

export interface RejectAction {
  readonly type: 'reject';
  /** PS3.18 Table I.2-2 Failure Reason, e.g. 0x0122 (SOP class not supported). */
  readonly failureReason: number;
}

export type RuleAction = EmbedAction | PassthroughAction | RejectAction;

export interface Rule {
  readonly name: string;
  readonly description?: string;
  readonly match: RuleMatch;
  readonly action: RuleAction;
  /** Name of a configured Orthanc upstream; undefined = the gateway's default upstream. */
  readonly destination?: string;
}

/** The default rule: no conditions, always matches; it ends every rule set. */
export interface DefaultRule {
  readonly name: string;
  readonly action: RuleAction;
  readonly destination?: string;
}

export interface RuleSet {
  readonly version: 1;
  readonly rules: readonly Rule[];
  readonly default: DefaultRule;
}

/** One validation problem: where (e.g. `rules[2].match.attributes.Modality.regex`) and why. */
export interface RuleError {
  readonly path: string;
  readonly message: string;
}

export type ParseRulesResult =
  | { readonly ok: true; readonly rules: RuleSet }
  | { readonly ok: false; readonly errors: readonly RuleError[] };

export interface ParseRulesOptions {
  /** Names of the configured Orthanc upstreams; when given, every `destination` must be one. */
  readonly destinations?: readonly string[];
  /** When given, attribute keywords must pass it (e.g. the DICOM dictionary of src/dicom). */
  readonly isKnownKeyword?: (keyword: string) => boolean;
}

/** What the matcher knows about one instance and its sender. */
export interface MatchInput {
  /** The instance's value for a DICOM keyword (multi-valued: joined with `\`), or undefined. */
  readonly attributes: (keyword: string) => string | undefined;
  readonly caller: { readonly subject: string; readonly roles: readonly string[] };
}

export interface MatchResult {
  readonly ruleName: string;
  /** Index into `rules`, or -1 for the default rule. */
  readonly ruleIndex: number;
  readonly isDefault: boolean;
  readonly action: RuleAction;
  readonly destination?: string;
  /** Why each earlier rule did not match, then which rule matched (for POST /admin/rules/test). */
  readonly explanation: readonly string[];
}
