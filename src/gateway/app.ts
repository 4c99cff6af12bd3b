/**
 * The composition root of the HTTP gateway (STYLE.md "Compose in one place"): every dependency comes
 * in as an argument, nothing is read from the environment, nothing is a module singleton.
 *
 *   /healthz /readyz /metrics
 *   {root}/studies...  POST: STOW-RS (modality) · GET: WADO-RS / QIDO-RS (viewer)
 *   {root}/series... {root}/instances...          GET: QIDO-RS (viewer)
 *   {root}/studies/{s}[/series/{se}[/instances/{i}]]/identity, {root}/identity/extract (auditor)
 *   /admin/rules, /admin/rules/test (admin), /audit (auditor): extraRouters
 */
import express from 'express';
import type { Express, Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

import type { AuditStore } from './audit/types';
import type { Authenticator } from './auth/authenticator';
import { principalOf } from './auth/middleware';
import type { GatewayConfig } from './config';
import { cors } from './cors';
import { cachedRoleGuards } from './auth/cached-role-guard';
import { DICOMWEB_READ_PATH, dicomWebProxyHandler } from './dicomweb/dicomweb-proxy-router';
import { healthRouter } from './health-router';
import { errorMiddleware, sendError } from './http-errors';
import type { IdentityEngine } from './identity/identity-engine';
import { identityRouter } from './identity/identity-router';
import { createMetrics } from './metrics';
import type { GatewayMetrics } from './metrics';
import type { OrthancClient } from './orthanc/orthanc-client';
import type { RuleSet } from './rules/types';
import { STOW_PATH, stowHandler } from './stow/stow-router';

export interface AppDependencies {
  readonly config: GatewayConfig;
  /** One client per configured upstream, by name. */
  readonly orthanc: ReadonlyMap<string, OrthancClient>;
  readonly engine: IdentityEngine;
  readonly audit: AuditStore;
  readonly authenticator: Authenticator;
  /** The rules in force now (RuleStore's `rules` getter): read once per instance. */
  readonly rules: () => RuleSet;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
  /**
   * Routers mounted at the top level, beside /healthz (admin rules, audit trail): they guard their
   * own routes with the authenticator.
   */
  readonly extraRouters?: readonly RequestHandler[];
}

export interface GatewayApp {
  readonly app: Express;
  readonly metrics: GatewayMetrics;
}

export function createApp(deps: AppDependencies): GatewayApp {
  const { config, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const upstream = deps.orthanc.get(config.defaultUpstream);
  if (upstream === undefined) {
    throw new Error(`no Orthanc client for the default upstream [${config.defaultUpstream}]`);
  }
  const root = config.http.root;
  const baseUrl = (req: Request): string =>
    `${config.http.publicBaseUrl ?? `${req.protocol}://${req.headers.host ?? `${config.http.host}:${config.http.port}`}`}${root}`;
  const principal = (req: Request) => principalOf(req);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // One line per request: method, path (UIDs, never the query: QIDO queries may hold names),
  // status, duration, caller subject. Not even the listener when info is off (production: warn).
  app.use((req, res, next) => {
    if (!logger.isLevelEnabled('info')) {
      next();
      return;
    }
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info(
        {
          method: req.method,
          path: req.path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          caller: principalOf(req)?.subject,
        },
        'request',
      );
    });
    next();
  });
  // No layer at all where no origin is allowed (the default): every request would pass it.
  if (config.http.cors.origins.length > 0) app.use(cors(config.http.cors));

  const auth = deps.authenticator;
  // STOW/WADO/QIDO/identity: one verification per token and few seconds, not per instance.
  const guards = cachedRoleGuards(auth);
  // The DICOMweb routes first (nearly every request), one layer per route family with its guard in
  // front of its handler: a request walks three layers at most, none of them a router it does not
  // use, and a guard matches exactly the paths its handler serves (trailing slash included).
  const dicomWeb = express.Router();
  dicomWeb.post(
    STOW_PATH,
    guards.requireRole('modality'),
    stowHandler({
      upstreams: deps.orthanc,
      defaultUpstream: config.defaultUpstream,
      rules: deps.rules,
      engine: deps.engine,
      audit: deps.audit,
      metrics,
      logger,
      maxPartBytes: config.stow.maxPartBytes,
      maxRequestBytes: config.stow.maxRequestBytes,
      concurrency: config.stow.concurrency,
      baseUrl,
      principal,
    }),
  );
  dicomWeb.all(
    /^\/(identity\/extract|studies\/.+\/identity)\/?$/,
    guards.requireRole('auditor'),
    identityRouter({
      upstream,
      engine: deps.engine,
      audit: deps.audit,
      metrics,
      principal,
      maxUploadBytes: config.stow.maxPartBytes,
      concurrency: 2,
    }),
  );
  dicomWeb.get(
    DICOMWEB_READ_PATH,
    guards.requireRole('viewer'),
    dicomWebProxyHandler({ upstream, baseUrl, metrics }),
  );
  app.use(root === '' ? '/' : root, dicomWeb);

  app.use(
    healthRouter({
      upstreams: deps.orthanc,
      engine: deps.engine,
      metrics,
      guardReady: auth.requireRole('modality', 'viewer', 'auditor', 'admin'),
      guardMetrics: auth.requireRole('admin'),
    }),
  );
  for (const router of deps.extraRouters ?? []) app.use(router);

  app.use((req, res) => {
    sendError(res, 404, 'NOT_FOUND', `no route for [${req.method} ${req.path.slice(0, 100)}]`);
  });
  app.use(errorMiddleware(logger));
  return { app, metrics };
}
