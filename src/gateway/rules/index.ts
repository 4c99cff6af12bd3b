export * from './types';
export { parseRules } from './parse-rules';
export { matchRule, testMatcher, describeMatcher } from './match-rule';
export { RuleStore } from './rule-store';
export type { RuleStoreOptions, RuleStoreResult } from './rule-store';
export {
  deriveUidEdits,
  deriveSopInstanceUid,
  SOURCE_IMAGE_FOR_PROCESSING,
} from './derive-uid-edits';
export type { CodedEntry, DerivedInstanceEdits, DerivedInstanceInput } from './derive-uid-edits';
export { adminRulesRouter, RULES_MEDIA_TYPES } from './admin-rules-router';
export type { AdminRulesRouterOptions } from './admin-rules-router';
