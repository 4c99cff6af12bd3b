import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { StegoGatewayError } from '../../stego/errors';
import { parseRules } from './parse-rules';
import type { ParseRulesOptions, ParseRulesResult, RuleError, RuleSet } from './types';

export interface RuleStoreOptions extends ParseRulesOptions {
  /** When set, accepted rules are written here (atomically: temp file + rename). */
  readonly persistPath?: string;
}

export type RuleStoreResult =
  | { readonly ok: true; readonly store: RuleStore }
  | { readonly ok: false; readonly errors: readonly RuleError[] };

/**
 * Holds the current rules. `replace` validates new YAML and swaps it in atomically; on any error
 * (validation or persistence) the previous rules stay in force. Readers always see one whole rule
 * set: a request that matched against version N finishes with version N.
 */
export class RuleStore {
  private state: { readonly rules: RuleSet; readonly text: string; readonly revision: number };
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    rules: RuleSet,
    text: string,
    private readonly options: RuleStoreOptions,
  ) {
    this.state = { rules, text, revision: 1 };
  }

  /** Builds a store from YAML text; reports every problem if the text is invalid. */
  static fromText(text: string, options: RuleStoreOptions = {}): RuleStoreResult {
    const parsed = parseRules(text, options);
    if (!parsed.ok) return parsed;
    return { ok: true, store: new RuleStore(parsed.rules, text, options) };
  }

  /** Reads the rules file; with `persist`, accepted replacements are written back to it. */
  static async load(
    file: string,
    options: ParseRulesOptions & { readonly persist?: boolean } = {},
  ): Promise<RuleStoreResult> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new StegoGatewayError('RULES_FILE_UNREADABLE', `cannot read rules file [${file}]`, {
        cause,
      });
    }
    const { persist, ...parseOptions } = options;
    return RuleStore.fromText(
      text,
      persist === true ? { ...parseOptions, persistPath: file } : parseOptions,
    );
  }

  get rules(): RuleSet {
    return this.state.rules;
  }

  /** The YAML source of the current rules (GET /admin/rules). */
  get text(): string {
    return this.state.text;
  }

  /** Increases by one with every accepted replacement. */
  get revision(): number {
    return this.state.revision;
  }

  /**
   * Validates `text` and, if valid and persisted without error, makes it the current rule set.
   * Replacements are serialised, so concurrent PUTs apply in call order.
   */
  replace(text: string): Promise<ParseRulesResult> {
    const next = this.queue.then(() => this.replaceNow(text));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async replaceNow(text: string): Promise<ParseRulesResult> {
    const parsed = parseRules(text, this.options);
    if (!parsed.ok) return parsed;
    if (this.options.persistPath !== undefined) {
      const error = await writeAtomically(this.options.persistPath, text);
      if (error !== undefined) return { ok: false, errors: [error] };
    }
    this.state = { rules: parsed.rules, text, revision: this.state.revision + 1 };
    return parsed;
  }
}

async function writeAtomically(file: string, text: string): Promise<RuleError | undefined> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await writeFile(temp, text, { encoding: 'utf8', mode: 0o640 });
    await rename(temp, file);
    return undefined;
  } catch (cause) {
    await rm(temp, { force: true });
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      path: '(file)',
      message: `rules are valid but could not be saved to [${file}]: ${reason}; previous rules kept`,
    };
  }
}
