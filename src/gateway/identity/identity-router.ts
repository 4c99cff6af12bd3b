/**
 * Identity routes for auditors: what is hidden in a stored instance (or a file the auditor sends),
 * and whether it agrees with the header. Every extraction is audited (who, what, result).
 */
import express, { Router } from 'express';
import type { Request, Response } from 'express';

import { StegoGatewayError } from '../../stego/errors';
import type { AuditStore } from '../audit/types';
import type { Principal } from '../auth/types';
import { sendError } from '../http-errors';
import type { GatewayMetrics } from '../metrics';
import type { InstanceUids, OrthancClient } from '../orthanc/orthanc-client';
import type { IdentityEngine, IdentityInspection } from './identity-engine';

export interface IdentityRouterOptions {
  readonly upstream: OrthancClient;
  readonly engine: IdentityEngine;
  readonly audit: AuditStore;
  readonly metrics: GatewayMetrics;
  readonly principal: (req: Request) => Principal | undefined;
  readonly maxUploadBytes: number;
  /** Instances inspected at the same time for study/series requests. */
  readonly concurrency: number;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

export type InstanceIdentity = Partial<InstanceUids> & IdentityInspection;

export function identityRouter(options: IdentityRouterOptions): Router {
  const router = Router();
  const caller = (req: Request): string => options.principal(req)?.subject ?? 'anonymous';

  const inspect = async (
    req: Request,
    bytes: Uint8Array,
    uids: Partial<InstanceUids>,
  ): Promise<InstanceIdentity> => {
    let inspection: IdentityInspection;
    try {
      inspection = await options.engine.inspect(bytes);
    } catch (error) {
      inspection = {
        payloadPresent: false,
        result: 'failed',
        message:
          error instanceof StegoGatewayError
            ? `${error.code}: ${error.message}`
            : 'extraction failed',
      };
    }
    options.metrics.extractions.inc({ result: inspection.result });
    try {
      await options.audit.recordExtraction({
        caller: caller(req),
        studyUid: uids.studyInstanceUid ?? null,
        seriesUid: uids.seriesInstanceUid ?? null,
        sopUid: uids.sopInstanceUid ?? null,
        result: inspection.result,
        ...(inspection.profile === undefined ? {} : { profile: inspection.profile }),
        ...(inspection.keyId === undefined ? {} : { keyId: inspection.keyId }),
        at: new Date(),
      });
    } catch {
      // The answer still goes out; the audit store reports its own failures.
    }
    return { ...uids, ...inspection };
  };

  const checkUids = (res: Response, ...values: (string | string[] | undefined)[]): boolean => {
    if (values.every((v) => typeof v === 'string' && UID.test(v) && v.length <= 64)) return true;
    sendError(res, 400, 'IDENTITY_BAD_UID', 'a UID in the path is malformed');
    return false;
  };

  router.get('/studies/:study/series/:series/instances/:instance/identity', (req, res, next) => {
    const { study, series, instance } = req.params;
    if (!checkUids(res, study, series, instance)) return;
    const uids = {
      studyInstanceUid: String(study),
      seriesInstanceUid: String(series),
      sopInstanceUid: String(instance),
    };
    (async () => {
      const id = await options.upstream.findInstance(uids);
      if (id === undefined) {
        sendError(res, 404, 'IDENTITY_NOT_FOUND', 'no such instance in the archive');
        return;
      }
      const bytes = await options.upstream.instanceFile(id);
      res.json(await inspect(req, bytes, uids));
    })().catch(next);
  });

  const many = (req: Request, res: Response, study: string, series?: string): Promise<void> =>
    (async () => {
      const refs = await options.upstream.listInstances(study, series);
      if (refs.length === 0) {
        sendError(res, 404, 'IDENTITY_NOT_FOUND', 'no such study or series in the archive');
        return;
      }
      const results: InstanceIdentity[] = new Array<InstanceIdentity>(refs.length);
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < refs.length) {
          const index = next;
          next += 1;
          const ref = refs[index];
          if (ref === undefined) continue;
          const { orthancId, ...uids } = ref;
          results[index] = await inspect(req, await options.upstream.instanceFile(orthancId), uids);
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency, refs.length) }, worker));
      const summary: Record<string, number> = {};
      for (const r of results) summary[r.result] = (summary[r.result] ?? 0) + 1;
      res.json({
        studyInstanceUid: study,
        ...(series === undefined ? {} : { seriesInstanceUid: series }),
        summary,
        instances: results,
      });
    })();

  router.get('/studies/:study/series/:series/identity', (req, res, next) => {
    const { study, series } = req.params;
    if (!checkUids(res, study, series)) return;
    many(req, res, String(study), String(series)).catch(next);
  });
  router.get('/studies/:study/identity', (req, res, next) => {
    const { study } = req.params;
    if (!checkUids(res, study)) return;
    many(req, res, String(study)).catch(next);
  });

  router.post(
    '/identity/extract',
    express.raw({
      type: ['application/dicom', 'application/octet-stream'],
      limit: options.maxUploadBytes,
    }),
    (req, res, next) => {
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
        sendError(
          res,
          415,
          'IDENTITY_UNSUPPORTED_MEDIA_TYPE',
          'send the DICOM file as application/dicom',
        );
        return;
      }
      const bytes: Buffer = req.body;
      inspect(req, bytes, {})
        .then((result) => {
          res.json(result);
        })
        .catch(next);
    },
  );
  return router;
}
