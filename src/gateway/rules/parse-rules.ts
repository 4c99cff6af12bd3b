import { parseDocument } from 'yaml';
import type { z } from 'zod';

import { globToRegExp } from './glob';
import type { RawDefaultRule, RawMatcher, RawRule } from './rules-schema';
import {
  defaultRuleSchema,
  KEYWORD_PATTERN,
  ruleSchema,
  rulesFileShapeSchema,
} from './rules-schema';
import type {
  AttributeCondition,
  CallerCondition,
  DefaultRule,
  ParseRulesOptions,
  ParseRulesResult,
  Rule,
  RuleAction,
  RuleError,
  RuleMatch,
  ValueMatcher,
} from './types';

/** Rules files are small; a bigger one is a mistake (or an attack on PUT /admin/rules). */
export const MAX_RULES_TEXT_CHARS = 1_000_000;

/**
 * Parses and validates the rules YAML. Reports every problem at once, each with its path (e.g.
 * `rules[2].match.attributes.Modality.regex`) and reason; the result is deeply frozen.
 */
export function parseRules(text: string, options: ParseRulesOptions = {}): ParseRulesResult {
  if (text.length > MAX_RULES_TEXT_CHARS) {
    return fail([{ path: '', message: `rules text is over ${MAX_RULES_TEXT_CHARS} characters` }]);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return fail(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: pos === undefined ? '(yaml)' : `(yaml line ${pos.line}, column ${pos.col})`,
          message: (e.message.split('\n')[0] ?? e.message).replace(
            / at line \d+, column \d+:?$/,
            '',
          ),
        };
      }),
    );
  }
  let raw: unknown;
  try {
    // Aliases are expanded; a bounded count refuses "billion laughs" documents.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return fail([{ path: '(yaml)', message: reason }]);
  }
  if (raw === null || raw === undefined) {
    return fail([{ path: '', message: 'the rules file is empty: a `default` rule is required' }]);
  }
  // The file, then each rule on its own: one bad rule does not hide the problems of the others.
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return fail([
      { path: '', message: 'the rules file must be a mapping with `rules` and `default`' },
    ]);
  }
  // The outer shape's problems are reported, then the rules are checked anyway (all at once).
  const errors: RuleError[] = [];
  const shape = rulesFileShapeSchema.safeParse(raw, REPORT_INPUT);
  if (!shape.success) errors.push(...shape.error.issues.map((issue) => formatIssue(issue, raw)));
  const fields = raw as Record<string, unknown>;
  const rawRules: unknown[] = Array.isArray(fields['rules']) ? fields['rules'] : [];
  const rawDefault = fields['default'];
  const names = new Map<string, number>();
  const rules: Rule[] = [];
  for (const [index, rawRule] of rawRules.entries()) {
    const at = `rules[${index}]`;
    checkDestination(fieldOf(rawRule, 'destination'), `${at}.destination`, options, errors);
    const parsed = ruleSchema.safeParse(rawRule, REPORT_INPUT);
    if (!parsed.success) {
      errors.push(...parsed.error.issues.map((issue) => formatIssue(issue, rawRule, at)));
      const rawName = fieldOf(rawRule, 'name');
      if (rawName !== undefined && !names.has(rawName)) names.set(rawName, index);
      continue;
    }
    const earlier = names.get(parsed.data.name);
    if (earlier !== undefined) {
      errors.push({
        path: `${at}.name`,
        message: `duplicate rule name [${parsed.data.name}] (also rules[${earlier}])`,
      });
    } else {
      names.set(parsed.data.name, index);
    }
    rules.push(compileRule(parsed.data, at, options, errors));
  }
  checkDestination(fieldOf(rawDefault, 'destination'), 'default.destination', options, errors);
  let defaultRule: DefaultRule | undefined;
  if (rawDefault !== undefined) {
    // (A missing default was reported with the file's shape.)
    const parsedDefault = defaultRuleSchema.safeParse(rawDefault, REPORT_INPUT);
    if (!parsedDefault.success) {
      errors.push(
        ...parsedDefault.error.issues.map((issue) => formatIssue(issue, rawDefault, 'default')),
      );
    } else {
      defaultRule = compileDefault(parsedDefault.data, errors);
      if (names.has(defaultRule.name)) {
        errors.push({ path: 'default.name', message: `duplicate rule name [${defaultRule.name}]` });
      }
    }
  }
  if (errors.length === 0 && defaultRule !== undefined) {
    return { ok: true, rules: deepFreeze({ version: 1, rules, default: defaultRule }) };
  }
  return fail(errors);
}

/** zod leaves `issue.input` out unless asked; it tells a missing field from a wrong one. */
const REPORT_INPUT = { reportInput: true } as const;

/** A string field of a not yet validated rule, for checks that must run even when it is invalid. */
function fieldOf(rawRule: unknown, field: string): string | undefined {
  if (rawRule === null || typeof rawRule !== 'object') return undefined;
  const value = (rawRule as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}

function fail(errors: RuleError[]): ParseRulesResult {
  return { ok: false, errors };
}

function compileRule(
  raw: RawRule,
  at: string,
  options: ParseRulesOptions,
  errors: RuleError[],
): Rule {
  const match: RuleMatch = compileMatch(raw.match, `${at}.match`, options, errors);
  const rule: Rule = {
    name: raw.name,
    match,
    action: compileAction(raw, at, errors),
    ...(raw.description === undefined ? {} : { description: raw.description }),
    ...(raw.destination === undefined ? {} : { destination: raw.destination }),
  };
  return rule;
}

function compileDefault(raw: RawDefaultRule, errors: RuleError[]): DefaultRule {
  return {
    name: raw.name,
    action: compileAction(raw, 'default', errors),
    ...(raw.destination === undefined ? {} : { destination: raw.destination }),
  };
}

function checkDestination(
  destination: string | undefined,
  at: string,
  options: ParseRulesOptions,
  errors: RuleError[],
): void {
  if (destination === undefined || options.destinations === undefined) return;
  if (!options.destinations.includes(destination)) {
    errors.push({
      path: at,
      message: `unknown destination [${destination}]; configured upstreams: ${options.destinations.join(', ')}`,
    });
  }
}

function compileMatch(
  raw: RawRule['match'],
  at: string,
  options: ParseRulesOptions,
  errors: RuleError[],
): RuleMatch {
  const attributes: AttributeCondition[] = [];
  for (const [keyword, rawMatcher] of Object.entries(raw.attributes ?? {})) {
    const path = `${at}.attributes.${keyword}`;
    if (!KEYWORD_PATTERN.test(keyword)) {
      errors.push({ path, message: `[${keyword}] is not a DICOM keyword (e.g. StationName)` });
      continue;
    }
    if (options.isKnownKeyword !== undefined && !options.isKnownKeyword(keyword)) {
      errors.push({ path, message: `[${keyword}] is not in the DICOM dictionary (PS3.6)` });
      continue;
    }
    const matcher = compileMatcher(rawMatcher, path, errors);
    if (matcher !== undefined) attributes.push({ keyword, matcher });
  }
  let caller: CallerCondition | undefined;
  if (raw.caller !== undefined) {
    const subject =
      raw.caller.subject === undefined
        ? undefined
        : compileMatcher(raw.caller.subject, `${at}.caller.subject`, errors);
    caller = {
      ...(subject === undefined ? {} : { subject }),
      ...(raw.caller.roles === undefined ? {} : { anyRole: raw.caller.roles }),
    };
  }
  return caller === undefined ? { attributes } : { attributes, caller };
}

function compileMatcher(
  raw: RawMatcher,
  at: string,
  errors: RuleError[],
): ValueMatcher | undefined {
  if (typeof raw === 'string') return { kind: 'equals', value: raw, ignoreCase: false };
  if (Array.isArray(raw)) return { kind: 'in', values: raw, ignoreCase: false };
  if ('not' in raw) {
    const inner = compileMatcher(raw.not, `${at}.not`, errors);
    return inner === undefined ? undefined : { kind: 'not', matcher: inner };
  }
  if ('present' in raw) return { kind: 'present', present: raw.present };
  const ignoreCase = raw.ignoreCase === true;
  if ('equals' in raw) return { kind: 'equals', value: raw.equals, ignoreCase };
  if ('in' in raw) return { kind: 'in', values: raw.in, ignoreCase };
  if ('glob' in raw)
    return {
      kind: 'glob',
      pattern: raw.glob,
      ignoreCase,
      regex: globToRegExp(raw.glob, ignoreCase),
    };
  try {
    return {
      kind: 'regex',
      pattern: raw.regex,
      ignoreCase,
      regex: new RegExp(raw.regex, ignoreCase ? 'iu' : 'u'),
    };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    errors.push({ path: `${at}.regex`, message: `invalid regular expression: ${reason}` });
    return undefined;
  }
}

/**
 * PS3.18 Table I.2-2 failure reasons: 0x0110 processing failure, 0x0122 SOP class not supported,
 * A7xx out of resources, A9xx data set does not match SOP class, Cxxx cannot understand (C122:
 * transfer syntax not supported); plus 0x0124 "Refused: Not authorized" (PS3.7 Annex C), for rules
 * that refuse a sender. Warnings (Bxxx) and success are not failures.
 */
export function isFailureReason(code: number): boolean {
  return (
    code === 0x0110 ||
    code === 0x0122 ||
    code === 0x0124 ||
    (code >= 0xa700 && code <= 0xa7ff) ||
    (code >= 0xa900 && code <= 0xa9ff) ||
    (code >= 0xc000 && code <= 0xcfff)
  );
}

function compileAction(raw: RawRule | RawDefaultRule, at: string, errors: RuleError[]): RuleAction {
  switch (raw.action) {
    case 'passthrough':
      return { type: 'passthrough' };
    case 'reject': {
      const code =
        typeof raw.failureReason === 'number'
          ? raw.failureReason
          : Number.parseInt(raw.failureReason.replace(/^0x/i, ''), 16);
      if (!isFailureReason(code)) {
        const hex = `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
        errors.push({
          path: `${at}.failureReason`,
          message:
            `[${hex}] is not a PS3.18 Table I.2-2 failure reason (0x0110, 0x0122, 0x0124, A7xx, A9xx, Cxxx);` +
            ' write hex with 0x (YAML reads 0122 as decimal 122)',
        });
      }
      return { type: 'reject', failureReason: code };
    }
    case 'embed':
      return {
        type: 'embed',
        profile: raw.profile,
        segmenter: raw.segmenter,
        marginPx: raw.marginPx,
        uidPolicy: raw.uidPolicy,
        onFailure: raw.onFailure,
        ...(raw.identityFields === undefined ? {} : { identityFields: raw.identityFields }),
        ...(raw.lossyPolicy === undefined ? {} : { lossyPolicy: raw.lossyPolicy }),
      };
  }
}

/** `rules[2].match.attributes.Modality` from zod's path segments. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}

function formatIssue(issue: z.core.$ZodIssue, input: unknown, prefix = ''): RuleError {
  const path = joinPath(prefix, formatPath(issue.path));
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `[${k}]`).join(', ');
    const action = actionOf(input, issue.path);
    return {
      path,
      message:
        `unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}` +
        (action === undefined ? '' : ` for action ${action}`),
    };
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    return { path, message: 'is required' };
  }
  if (issue.code === 'invalid_value') {
    return { path, message: `must be one of ${issue.values.map((v) => String(v)).join(', ')}` };
  }
  return { path, message: issue.message };
}

function joinPath(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '') return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/** The `action` of the object at `path` inside `input`, if it has a string one. */
function actionOf(input: unknown, path: readonly PropertyKey[]): string | undefined {
  let node: unknown = input;
  for (const segment of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[segment];
  }
  if (node === null || typeof node !== 'object') return undefined;
  const action = (node as Record<string, unknown>)['action'];
  return typeof action === 'string' ? action : undefined;
}

function deepFreeze<T>(value: T): T {
  if (
    value !== null &&
    typeof value === 'object' &&
    !(value instanceof RegExp) &&
    !Object.isFrozen(value)
  ) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
