/**
 * WADO-RS and QIDO-RS (PS3.18 10.4, 10.6): every GET under /studies, /series and /instances goes to
 * Orthanc's DICOMweb plugin and streams back as it arrives (no whole study in memory). In textual
 * answers (DICOM JSON, XML, multipart of them) Orthanc's own base URL (RetrieveURL, BulkDataURI) is
 * replaced by the gateway's public one, and so it is in the part headers of binary multipart answers
 * (each frame's Content-Location: part-header-rewrite.ts), so a viewer never talks to Orthanc
 * directly. An instance or frames Orthanc fails to transcode are decoded here
 * (transcode-fallback.ts).
 */
import { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { Readable, Writable } from 'node:stream';

import type { OrthancClient } from '../orthanc/orthanc-client';
import type { GatewayMetrics } from '../metrics';
import { sendError } from '../http-errors';
import { relayStoredInstance } from './instance-file-relay';
import { multipartBoundary, rewritePartHeaders } from './part-header-rewrite';
import { replaceStream } from './replace-stream';
import { relayStoredFrames } from './stored-frames';
import { relayStoredStudy } from './stored-study';
import { acceptedTransferSyntax, retrieveScope, retrieveTarget } from './retrieve-target';

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

/** The paths relayed: everything under /studies, /series and /instances. */
export const DICOMWEB_READ_PATH = /^\/(studies|series|instances)(\/.*)?$/;

/** The relay as a router of its own (one GET route on DICOMWEB_READ_PATH). */
export function dicomWebProxyRouter(options: DicomWebProxyOptions): Router {
  const router = Router();
  router.get(DICOMWEB_READ_PATH, dicomWebProxyHandler(options));
  return router;
}

/**
 * The relay as a plain handler, for a GET route on DICOMWEB_READ_PATH: createApp puts it behind the
 * viewer guard in one layer, with no router of its own to walk on every WADO-RS request.
 */
export function dicomWebProxyHandler(options: DicomWebProxyOptions): RequestHandler {
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
    // An instance or frames of one, and the transfer syntax the client accepts them in.
    const target = retrieveTarget(segments);
    const syntax =
      target === undefined
        ? undefined
        : acceptedTransferSyntax(headers.accept, target.frames !== undefined);
    // Answered from the stored files where they can be (an instance, its frames, a study or
    // series); a request with a query or a condition goes to the plugin, which decides on those.
    const plain =
      query === '' &&
      headers['if-none-match'] === undefined &&
      headers['if-modified-since'] === undefined;
    const answeredBy = (relayed: string): string => (relayed === 'use-plugin' ? 'plugin' : relayed);
    if (target !== undefined && target.frames === undefined) {
      // One instance in its stored syntax (instance-file-relay.ts).
      const relayed =
        plain && syntax !== undefined
          ? await relayStoredInstance(options.upstream, target, syntax, res)
          : 'use-plugin';
      options.metrics.instanceRetrieves.inc({ source: answeredBy(relayed) });
      if (relayed !== 'use-plugin') return;
    } else if (target?.frames !== undefined) {
      // Frames of an instance stored natively, in Orthanc's storage folder (stored-frames.ts).
      const frames = target.frames;
      const relayed =
        plain && syntax !== undefined
          ? await relayStoredFrames(
              options.upstream,
              { ...target, frames },
              syntax,
              (n) =>
                `${options.baseUrl(req)}/studies/${target.studyInstanceUid}/series/${target.seriesInstanceUid}/instances/${target.sopInstanceUid}/frames/${n}`,
              res,
            )
          : 'use-plugin';
      options.metrics.frameRetrieves.inc({ source: answeredBy(relayed) });
      if (relayed !== 'use-plugin') return;
    } else {
      // A whole study or series as stored, in Orthanc's storage folder (stored-study.ts).
      const scope = retrieveScope(segments);
      const asked = scope === undefined ? undefined : acceptedTransferSyntax(headers.accept, false);
      if (scope !== undefined && asked !== undefined) {
        const relayed = plain
          ? await relayStoredStudy(options.upstream, scope, asked, res)
          : 'use-plugin';
        options.metrics.studyRetrieves.inc({
          level: scope.seriesInstanceUid === undefined ? 'study' : 'series',
          source: answeredBy(relayed),
        });
        if (relayed !== 'use-plugin') return;
      }
    }
    let upstream;
    try {
      upstream = await options.upstream.dicomWeb('GET', `${path}${query}`, headers);
    } catch (error) {
      options.metrics.upstreamErrors.inc({ operation: 'dicomweb' });
      throw error;
    }
    if (upstream.status >= 500) {
      // Loaded on the first failure only: it brings in the DICOM adapter (dcmjs and its codecs),
      // about a quarter of the event loop's heap, which every full GC would mark.
      const { transcodeFallback } = await import('./transcode-fallback');
      if (target !== undefined && syntax !== undefined && syntax !== '*') {
        // Orthanc could not transcode (no JPEG 2000 decoder in 1.10): see transcode-fallback.ts.
        upstream.body.resume();
        const answer = await transcodeFallback(options.upstream, target, syntax);
        if (answer === undefined) {
          options.metrics.upstreamErrors.inc({ operation: 'dicomweb' });
          sendError(res, 502, 'UPSTREAM_ERROR', `Orthanc answered HTTP ${upstream.status}`);
        } else if (answer.status === 200) {
          res.status(200).type(answer.contentType).send(answer.body);
        } else {
          sendError(res, answer.status, answer.code, answer.message);
        }
        return;
      }
      options.metrics.upstreamErrors.inc({ operation: 'dicomweb' });
    }
    res.status(upstream.status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = upstream.headers[name];
      if (value !== undefined) res.setHeader(name, value);
    }
    const contentType = upstream.headers['content-type'] ?? '';
    const textual = TEXTUAL.test(contentType);
    // Binary multipart (frames): Orthanc's URL in each part's Content-Location, bodies untouched.
    const boundary = textual ? undefined : multipartBoundary(contentType);
    const contentLength = upstream.headers['content-length'];
    if (!textual && boundary === undefined && contentLength !== undefined) {
      res.setHeader('content-length', contentLength);
    }
    const source = upstream.body;
    let ok: boolean;
    if (textual || boundary !== undefined) {
      const base = options.baseUrl(req);
      const [orthancBase] = options.upstream.dicomWebBaseUrls;
      const replacing =
        boundary === undefined
          ? replaceStream(orthancBase ?? '', base)
          : rewritePartHeaders(boundary, orthancBase ?? '', base);
      replacing.on('error', () => source.destroy());
      source.pipe(replacing);
      ok = await relay(source, replacing, res);
    } else {
      // Other binary bodies (a rendered image, a bulk data value) byte for byte, as they come.
      ok = await relay(source, source, res);
    }
    if (!ok) {
      // client went away or Orthanc broke off: nothing more can be sent on this response.
      if (!res.headersSent) sendError(res, 502, 'UPSTREAM_ERROR', 'Orthanc broke off the answer');
      else res.destroy();
    }
  };
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

/**
 * Pipes `output` (what `source` becomes) into the response; resolves true when the response is
 * complete, false when Orthanc broke off or the client went away (both streams then destroyed).
 * Plain pipe() and three listeners: stream/promises' pipeline() costs an AbortController and a
 * DOMException per call, a tenth of the gateway's CPU per WADO-RS instance.
 */
function relay(source: Readable, output: Readable, res: Writable): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (!ok) {
        output.unpipe(res);
        source.destroy();
        output.destroy();
      }
      resolve(ok);
    };
    output.on('error', () => settle(false));
    if (output !== source) source.on('error', () => settle(false));
    res.on('error', () => settle(false));
    // 'aborted' / premature close of Orthanc's answer: the body ends without 'end'.
    source.once('close', () => {
      if (!source.readableEnded) settle(false);
    });
    res.once('finish', () => settle(true));
    res.once('close', () => {
      if (!res.writableFinished) settle(false);
    });
    output.pipe(res);
  });
}
