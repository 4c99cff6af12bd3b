/**
 * /healthz (the process answers; no token), /readyz (Orthanc reachable and the identity engine
 * ready, i.e. the segmentation model loaded), /metrics (Prometheus text format).
 */
import { Router } from 'express';
import type { RequestHandler } from 'express';

import type { IdentityEngine } from './identity/identity-engine';
import type { GatewayMetrics } from './metrics';
import type { OrthancClient } from './orthanc/orthanc-client';

export interface HealthRouterOptions {
  readonly upstreams: ReadonlyMap<string, OrthancClient>;
  readonly engine: IdentityEngine;
  readonly metrics: GatewayMetrics;
  /** Guards /readyz and /metrics (they need a token; /healthz does not). */
  readonly guardReady: RequestHandler;
  readonly guardMetrics: RequestHandler;
}

export function healthRouter(options: HealthRouterOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', options.guardReady, (_req, res, next) => {
    (async () => {
      const upstreams: Record<string, string> = {};
      await Promise.all(
        [...options.upstreams].map(async ([name, client]) => {
          try {
            await client.system();
            upstreams[name] = 'reachable';
          } catch {
            upstreams[name] = 'unreachable';
          }
        }),
      );
      const engine = options.engine.ready() ? 'ready' : 'not-ready';
      const ready = engine === 'ready' && Object.values(upstreams).every((s) => s === 'reachable');
      res
        .status(ready ? 200 : 503)
        .json({ status: ready ? 'ready' : 'not-ready', upstreams, engine });
    })().catch(next);
  });
  router.get('/metrics', options.guardMetrics, (_req, res, next) => {
    options.metrics.registry
      .metrics()
      .then((text) => {
        res.type(options.metrics.registry.contentType).send(text);
      })
      .catch(next);
  });
  return router;
}
