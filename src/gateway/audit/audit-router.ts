/**
 * GET /audit (auditor role): the filtered audit trail, newest first. Mounted by createApp through
 * `extraRouters`.
 */
import express from 'express';
import type { Router } from 'express';

import type { Authenticator } from '../auth/authenticator';
import { parseAuditQuery } from './parse-audit-query';
import type { AuditStore } from './types';

export interface AuditRouterOptions {
  readonly audit: AuditStore;
  readonly authenticator: Pick<Authenticator, 'requireRole'>;
}

export function auditRouter(options: AuditRouterOptions): Router {
  const router = express.Router();
  router.get('/audit', options.authenticator.requireRole('auditor'), async (req, res) => {
    const parsed = parseAuditQuery(req.query);
    if (!parsed.ok) {
      res
        .status(400)
        .type('application/json')
        .send(
          JSON.stringify({
            error: {
              code: 'AUDIT_QUERY_INVALID',
              message: 'invalid audit query',
              details: parsed.errors,
            },
          }),
        );
      return;
    }
    // AUDIT_UNAVAILABLE (503) goes to the gateway's error middleware.
    const entries = await options.audit.query(parsed.filter);
    res.status(200).json({
      limit: parsed.filter.limit,
      offset: parsed.filter.offset,
      count: entries.length,
      entries,
    });
  });
  return router;
}
