/**
 * WADO-RS and QIDO-RS (PS3.18 10.4, 10.6): every GET under /studies, /series and /instances goes to
 * Orthanc's DICOMweb plugin and streams back as it arrives (no whole study in memory). In textual
 * answers (DICOM JSON, XML, multipart of them) Orthanc's own base URL (RetrieveURL, BulkDataURI) is
 * replaced by the gateway's public one, so a viewer never talks to Orthanc directly.
 */
import { Router } from 'express';
import type { Request, Response } from 'express';
import { pipeline } from 'node:stream/promises';

import type { OrthancClient } from '../orthanc/orthanc-client';
import type { GatewayMetrics } from '../metrics';
import { sendError } from '../http-errors';
import { replaceStream } from './replace-stream';

export interface DicomWebProxyOptions {
  readonly upstream: OrthancClient;
  readonly baseUrl: (req: Request) => string;
  readonly metrics: GatewayMetrics;
}

/** Path segments: UIDs, resource names, frame lists (1,2,3). No '.', '..', or encoded slashes. */
const SEGMENT = /^[A-Za-z0-9_,-]+(\.[A-Za-z0-9_,-]+)*$/;
const FORWARDED_REQUEST_HEADERS = ['accept', 'if-none-match', 'if-modified-since'] as const;
const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'etag',
  'last-modified',
  'cache-control',
  'content-disposition',
] as const;
const TEXTUAL = /json|xml|text\//i;

export function dicomWebProxyRouter(options: DicomWebProxyOptions): Router {
  const router = Router();
  const handler = async (req: Request, res: Response): Promise<void> => {
    const queryAt = req.url.indexOf('?');
    const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
    const query = queryAt === -1 ? '' : req.url.slice(queryAt);
    const segments = path.split('/').slice(1);
    if (segments.length === 0 || segments.length > 9 || !segments.every((s) => SEGMENT.test(s))) {
      sendError(res, 400, 'DICOMWEB_BAD_PATH', 'the DICOMweb path is malformed');
      return;
    }
    if (query.length > 4096 || /[\s]/.test(query)) {
      sendError(res, 400, 'DICOMWEB_BAD_QUERY', 'the query string is malformed');
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let upstream;
    try {
      upstream = await options.upstream.dicomWeb('GET', `${path}${query}`, headers);
    } catch (error) {
      options.metrics.upstreamErrors.inc({ operation: 'dicomweb' });
      throw error;
    }
    if (upstream.status >= 500) options.metrics.upstreamErrors.inc({ operation: 'dicomweb' });
    res.status(upstream.status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    const contentType = upstream.headers['content-type'] ?? '';
    const rewrite = TEXTUAL.test(contentType);
    const contentLength = upstream.headers['content-length'];
    if (!rewrite && contentLength !== undefined) res.setHeader('content-length', contentLength);
    const source = upstream.body;
    req.on('close', () => {
      if (!res.writableFinished) source.destroy();
    });
    try {
      if (rewrite) {
        const base = options.baseUrl(req);
        const [orthancBase] = options.upstream.dicomWebBaseUrls;
        await pipeline(source, replaceStream(orthancBase ?? '', base), res);
      } else {
        await pipeline(source, res);
      }
    } catch {
      // client went away or Orthanc broke off: nothing more can be sent on this response.
      if (!res.headersSent) sendError(res, 502, 'UPSTREAM_ERROR', 'Orthanc broke off the answer');
      else res.destroy();
    }
  };
  router.get(/^\/(studies|series|instances)(\/.*)?$/, (req, res, next) => {
    handler(req, res).catch(next);
  });
  return router;
}
