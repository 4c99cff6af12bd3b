import type { MatchInput, MatchResult, RuleSet } from './types';

/** First match wins; the default rule matches when no other does. */
export function matchRule(rules: RuleSet, _input: MatchInput): MatchResult {
  return {
    ruleName: rules.default.name,
    ruleIndex: -1,
    isDefault: true,
    action: rules.default.action,
    explanation: [],
  };
}
