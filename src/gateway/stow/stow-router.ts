/**
 * STOW-RS (PS3.18 10.5): POST {root}/studies and {root}/studies/{study}, `multipart/related;
 * type="application/dicom"`. The body is read as a stream (chunked or not), each part processed as
 * soon as it is complete, `concurrency` parts at a time; the answer is the Store Instances Response.
 */
import type { Request, RequestHandler, Response } from 'express';

import type { Principal } from '../auth/types';
import { sendError } from '../http-errors';
import { parseMediaType } from './media-type';
import { processInstance } from './process-instance';
import type { InstanceResult, StowDependencies } from './process-instance';
import { MultipartError, readMultipart } from './read-multipart';
import { storeInstancesResponse } from './store-instances-response';
import type { FailedInstance, ReferencedInstance } from './store-instances-response';

export interface StowRouterOptions extends StowDependencies {
  readonly maxPartBytes: number;
  readonly maxRequestBytes: number;
  readonly concurrency: number;
  /** The gateway's public DICOMweb base URL for this request (scheme, host, root). */
  readonly baseUrl: (req: Request) => string;
  readonly principal: (req: Request) => Principal | undefined;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/**
 * The paths of STOW-RS: /studies and /studies/{study}, with or without a trailing slash (as express
 * matches its string paths), so that the route's guard and this handler see the same requests.
 */
export const STOW_PATH = /^\/studies(?:\/([^/]+))?\/?$/;

/**
 * The STOW-RS handler, for a POST route on STOW_PATH: a plain handler rather than a router of its
 * own, so that a request walks one layer of express routing to reach it.
 */
export function stowHandler(options: StowRouterOptions): RequestHandler {
  const handler = async (req: Request, res: Response): Promise<void> => {
    const study = studyOfPath(req.path);
    if (study !== undefined && (!UID.test(study) || study.length > 64)) {
      sendError(
        res,
        400,
        'STOW_BAD_STUDY_UID',
        `the study UID in the URL is not a UID [${study.slice(0, 80)}]`,
      );
      return;
    }
    const mediaType = parseMediaType(req.headers['content-type']);
    if (mediaType === undefined || mediaType.essence !== 'multipart/related') {
      sendError(
        res,
        415,
        'STOW_UNSUPPORTED_MEDIA_TYPE',
        'STOW-RS takes multipart/related; type="application/dicom"',
      );
      return;
    }
    const type = mediaType.parameters.get('type')?.toLowerCase();
    if (type !== undefined && type !== 'application/dicom') {
      sendError(
        res,
        415,
        'STOW_UNSUPPORTED_MEDIA_TYPE',
        `multipart/related of type [${type.slice(0, 80)}] is not supported; use application/dicom`,
      );
      return;
    }
    // RFC 2046 allows 70 characters; Orthanc sends 71 and more (two UUIDs), so allow some slack.
    const boundary = mediaType.parameters.get('boundary');
    if (boundary === undefined || boundary === '' || boundary.length > 200) {
      sendError(
        res,
        400,
        'STOW_MALFORMED_MULTIPART',
        'the Content-Type has no valid boundary parameter',
      );
      return;
    }
    const declared = Number(req.headers['content-length'] ?? '0');
    if (Number.isFinite(declared) && declared > options.maxRequestBytes) {
      res.set('Connection', 'close');
      sendError(
        res,
        413,
        'STOW_REQUEST_TOO_LARGE',
        `request body over the limit of [${options.maxRequestBytes}] bytes`,
      );
      return;
    }
    const caller = options.principal(req) ?? {
      subject: 'anonymous',
      roles: [],
      via: 'api-key' as const,
    };
    const base = options.baseUrl(req);
    const context = {
      caller,
      studyUidFromUrl: study,
      retrieveUrl: (s: string, se: string, i: string) =>
        `${base}/studies/${s}/series/${se}/instances/${i}`,
    };

    const results: InstanceResult[] = [];
    const inFlight = new Set<Promise<void>>();
    let framingError: MultipartError | undefined;
    try {
      for await (const part of readMultipart(req, boundary, options)) {
        const task = processInstance(part, context, options).then((result) => {
          results[part.index] = result;
        });
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        if (inFlight.size >= options.concurrency) await Promise.race(inFlight);
      }
    } catch (error) {
      if (!(error instanceof MultipartError)) throw error;
      framingError = error;
    }
    await Promise.all(inFlight);

    if (framingError !== undefined) {
      if (framingError.failure === 'aborted') return;
      res.set('Connection', 'close');
      if (framingError.failure === 'too-large') res.on('finish', () => req.destroy());
      else req.resume();
      if (results.length === 0) {
        sendError(res, framingError.httpStatus, framingError.code, framingError.message);
        return;
      }
    }
    const referenced: ReferencedInstance[] = [];
    const failed: FailedInstance[] = [];
    const warnings: string[] = [];
    const studies = new Set<string>();
    for (const result of results) {
      if (result.stored) {
        referenced.push(result.referenced);
        studies.add(result.studyInstanceUid);
        if (result.warning !== undefined) warnings.push(result.warning);
      } else {
        failed.push(result.failed);
      }
    }
    if (framingError !== undefined)
      warnings.push(`${framingError.code}: ${framingError.message}; later parts were not read`);
    const onlyStudy = studies.size === 1 ? [...studies][0] : undefined;
    const response = storeInstancesResponse(
      onlyStudy === undefined ? undefined : `${base}/studies/${onlyStudy}`,
      referenced,
      failed,
      warnings.length > 0,
    );
    if (warnings.length > 0) {
      // RFC 7234 5.5 / PS3.18 8.3.5: 299 Miscellaneous persistent warning.
      res.set(
        'Warning',
        [...new Set(warnings)]
          .slice(0, 10)
          .map((w) => `299 stego-gateway "${w.replace(/["\\]/g, '')}"`),
      );
    }
    // The headers express's type() and send() would set, without their MIME lookup and parsing.
    const body = JSON.stringify(response.body);
    res.statusCode = response.status;
    res.setHeader('Content-Type', 'application/dicom+json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };
  return (req, res, next) => {
    handler(req, res).catch(next);
  };
}

/** The `{study}` of the path, URL-decoded (as express decodes its route parameters). */
function studyOfPath(path: string): string | undefined {
  const raw = STOW_PATH.exec(path)?.[1];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Not valid percent-encoding: answered as a malformed UID.
    return raw;
  }
}
