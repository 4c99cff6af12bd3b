import type { ParseRulesOptions, ParseRulesResult } from './types';

/** Parses and validates the rules YAML; reports every problem at once (path and reason). */
export function parseRules(_text: string, _options: ParseRulesOptions = {}): ParseRulesResult {
  return { ok: false, errors: [{ path: '', message: 'not implemented yet' }] };
}
