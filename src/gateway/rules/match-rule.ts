import type {
  CallerCondition,
  MatchInput,
  MatchResult,
  RuleMatch,
  RuleSet,
  ValueMatcher,
} from './types';

/**
 * Keywords whose values an explanation must not repeat: it is shown to admins and may be logged,
 * and it never carries a patient (or other person's) attribute.
 */
const PERSONAL_KEYWORD = /Patient|Physician|Operator|Person|Accession|Birth|Address|Telephone/;

/**
 * First match wins; the default rule matches when no other does. The explanation says why each
 * earlier rule did not match (its first failing condition), then which rule applies.
 */
export function matchRule(rules: RuleSet, input: MatchInput): MatchResult {
  const explanation: string[] = [];
  for (const [index, rule] of rules.rules.entries()) {
    const label = `rule ${index + 1} [${rule.name}]`;
    const failure = firstFailure(rule.match, input);
    if (failure === undefined) {
      explanation.push(`${label} matched`);
      return {
        ruleName: rule.name,
        ruleIndex: index,
        isDefault: false,
        action: rule.action,
        ...(rule.destination === undefined ? {} : { destination: rule.destination }),
        explanation,
      };
    }
    explanation.push(`${label} did not match: ${failure}`);
  }
  explanation.push(`no rule matched: default rule [${rules.default.name}] applies`);
  return {
    ruleName: rules.default.name,
    ruleIndex: -1,
    isDefault: true,
    action: rules.default.action,
    ...(rules.default.destination === undefined ? {} : { destination: rules.default.destination }),
    explanation,
  };
}

/** Undefined when every condition holds, else why the first failing one does not. */
function firstFailure(match: RuleMatch, input: MatchInput): string | undefined {
  for (const { keyword, matcher } of match.attributes) {
    const raw = input.attributes(keyword);
    const value = raw === undefined ? undefined : raw.trim();
    if (!testMatcher(matcher, value)) {
      const shown =
        value === undefined
          ? 'absent'
          : PERSONAL_KEYWORD.test(keyword)
            ? '[(not shown)]'
            : `[${value}]`;
      return `${keyword} is ${shown}, wanted ${describeMatcher(matcher)}`;
    }
  }
  return match.caller === undefined ? undefined : callerFailure(match.caller, input.caller);
}

function callerFailure(
  condition: CallerCondition,
  caller: MatchInput['caller'],
): string | undefined {
  if (condition.subject !== undefined && !testMatcher(condition.subject, caller.subject)) {
    return `caller subject is [${caller.subject}], wanted ${describeMatcher(condition.subject)}`;
  }
  if (
    condition.anyRole !== undefined &&
    !condition.anyRole.some((role) => caller.roles.includes(role))
  ) {
    const held = caller.roles.length === 0 ? 'none' : caller.roles.join(', ');
    return `caller roles are [${held}], wanted one of [${condition.anyRole.join(', ')}]`;
  }
  return undefined;
}

/** Whether a (trimmed) value passes; undefined = the attribute is absent. */
export function testMatcher(matcher: ValueMatcher, value: string | undefined): boolean {
  switch (matcher.kind) {
    case 'not':
      return !testMatcher(matcher.matcher, value);
    case 'present':
      return matcher.present === (value !== undefined && value !== '');
    case 'equals':
      return value !== undefined && same(value, matcher.value, matcher.ignoreCase);
    case 'in':
      return value !== undefined && matcher.values.some((v) => same(value, v, matcher.ignoreCase));
    case 'glob':
    case 'regex':
      return value !== undefined && matcher.regex.test(value);
  }
}

function same(a: string, b: string, ignoreCase: boolean): boolean {
  return ignoreCase ? a.toUpperCase() === b.toUpperCase() : a === b;
}

/** `equals [CT]`, `not (glob [CT*])`, ... */
export function describeMatcher(matcher: ValueMatcher): string {
  const ic = 'ignoreCase' in matcher && matcher.ignoreCase ? ' (ignoring case)' : '';
  switch (matcher.kind) {
    case 'not':
      return `not (${describeMatcher(matcher.matcher)})`;
    case 'present':
      return matcher.present ? 'present' : 'absent or empty';
    case 'equals':
      return `equals [${matcher.value}]${ic}`;
    case 'in':
      return `one of [${matcher.values.join(', ')}]${ic}`;
    case 'glob':
      return `glob [${matcher.pattern}]${ic}`;
    case 'regex':
      return `regex [${matcher.pattern}]${ic}`;
  }
}
