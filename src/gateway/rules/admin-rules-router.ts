/**
 * GET/PUT /admin/rules and POST /admin/rules/test (admin role): read the rules in force, replace
 * them (validated, atomic, previous rules kept on error), and ask which rule an instance would
 * match and why. Mounted by createApp through `extraRouters`.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';

import type { Authenticator } from '../auth/authenticator';
import { principalOf } from '../auth/middleware';
import { ROLES } from '../auth/types';
import { readInstanceHeader } from '../stow/read-instance-header';
import { matchRule } from './match-rule';
import { MAX_RULES_TEXT_CHARS } from './parse-rules';
import type { RuleStore } from './rule-store';
import type { MatchInput, MatchResult } from './types';

export const RULES_MEDIA_TYPES = [
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'text/x-yaml',
  'text/plain',
];

export interface AdminRulesRouterOptions {
  readonly store: RuleStore;
  readonly authenticator: Pick<Authenticator, 'requireRole'>;
  readonly logger?: Logger;
  /** Largest DICOM file POST /admin/rules/test accepts (only its header is read). Default 64 MiB. */
  readonly maxTestBytes?: number;
}

function sendJsonError(
  res: Response,
  status: number,
  code: string,
  message: string,
  details?: readonly { path: string; message: string }[],
): void {
  res
    .status(status)
    .type('application/json')
    .send(
      JSON.stringify({
        error: details === undefined ? { code, message } : { code, message, details },
      }),
    );
}

const testBodySchema = z.strictObject({
  attributes: z.record(
    z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a DICOM keyword'),
    z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))]),
  ),
  caller: z
    .strictObject({
      subject: z.string().max(200).default('test'),
      roles: z.array(z.enum(ROLES)).default(['modality']),
    })
    .default({ subject: 'test', roles: ['modality'] }),
});

/** `?subject=ct-1&roles=modality,viewer`: who the simulated sender is (default: test, modality). */
function callerFromQuery(req: Request): MatchInput['caller'] | string {
  const { subject, roles } = req.query as Record<string, unknown>;
  if (subject !== undefined && typeof subject !== 'string') return 'subject must be given once';
  if (roles !== undefined && typeof roles !== 'string')
    return 'roles must be given once, comma-separated';
  const roleList = roles === undefined ? ['modality'] : roles.split(',').filter((r) => r !== '');
  const unknown = roleList.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0) return `unknown roles [${unknown.join(', ')}]`;
  return { subject: subject ?? 'test', roles: roleList };
}

function describeResult(result: MatchResult, revision: number): Record<string, unknown> {
  return {
    revision,
    rule: result.ruleName,
    ruleIndex: result.ruleIndex,
    isDefault: result.isDefault,
    action: result.action,
    ...(result.destination === undefined ? {} : { destination: result.destination }),
    explanation: result.explanation,
  };
}

export function adminRulesRouter(options: AdminRulesRouterOptions): Router {
  const { store, logger } = options;
  const router = express.Router();
  const admin = options.authenticator.requireRole('admin');
  const yamlBody = express.text({ type: RULES_MEDIA_TYPES, limit: MAX_RULES_TEXT_CHARS * 4 });
  const dicomBody = express.raw({
    type: ['application/dicom', 'application/octet-stream'],
    limit: options.maxTestBytes ?? 64 * 1024 * 1024,
  });
  const jsonBody = express.json({ limit: '256kb' });

  router.get('/admin/rules', admin, (_req, res) => {
    res
      .status(200)
      .type('application/yaml; charset=utf-8')
      .set('X-Rules-Revision', String(store.revision))
      .send(store.text);
  });

  router.put('/admin/rules', admin, yamlBody, async (req, res) => {
    if (typeof req.body !== 'string') {
      sendJsonError(
        res,
        415,
        'RULES_MEDIA_TYPE',
        `send the rules as YAML (${RULES_MEDIA_TYPES.join(', ')})`,
      );
      return;
    }
    const result = await store.replace(req.body);
    if (!result.ok) {
      sendJsonError(
        res,
        400,
        'RULES_INVALID',
        `${result.errors.length} problem${result.errors.length === 1 ? '' : 's'}; the previous rules stay in force`,
        result.errors,
      );
      return;
    }
    logger?.info(
      {
        revision: store.revision,
        caller: principalOf(req)?.subject,
        rules: result.rules.rules.length,
      },
      'rules replaced',
    );
    res.status(200).json({
      revision: store.revision,
      rules: [...result.rules.rules.map((r) => r.name), result.rules.default.name],
    });
  });

  router.post('/admin/rules/test', admin, dicomBody, jsonBody, (req, res) => {
    const rules = store.rules;
    const revision = store.revision;
    if (Buffer.isBuffer(req.body)) {
      const caller = callerFromQuery(req);
      if (typeof caller === 'string') {
        sendJsonError(res, 400, 'RULES_TEST_INVALID', caller);
        return;
      }
      const read = readInstanceHeader(
        new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.byteLength),
      );
      if (!read.ok) {
        sendJsonError(
          res,
          400,
          'RULES_TEST_UNREADABLE',
          `the body is not a readable DICOM instance (${read.reason})`,
        );
        return;
      }
      const header = read.header;
      res
        .status(200)
        .json(
          describeResult(
            matchRule(rules, { attributes: (k) => header.attribute(k), caller }),
            revision,
          ),
        );
      return;
    }
    const parsed = testBodySchema.safeParse(req.body);
    if (!parsed.success) {
      sendJsonError(
        res,
        400,
        'RULES_TEST_INVALID',
        'send application/dicom, or JSON { attributes: { Keyword: value }, caller?: { subject, roles } }',
        parsed.error.issues.map((i) => ({
          path: i.path.map(String).join('.'),
          message: i.message,
        })),
      );
      return;
    }
    const { attributes, caller } = parsed.data;
    const lookup = (keyword: string): string | undefined => {
      const value = attributes[keyword];
      if (value === undefined) return undefined;
      return Array.isArray(value) ? value.map(String).join('\\') : String(value);
    };
    res
      .status(200)
      .json(describeResult(matchRule(rules, { attributes: lookup, caller }), revision));
  });

  return router;
}
