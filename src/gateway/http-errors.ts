/**
 * The gateway's JSON error body (`{ error: { code, message } }`, as the auth middleware answers) and
 * the one error middleware that maps thrown errors to it: StegoGatewayError keeps its code and
 * status, anything else becomes INTERNAL_ERROR 500 without its message (it may hold data).
 */
import type { ErrorRequestHandler, Response } from 'express';
import type { Logger } from 'pino';

import { StegoGatewayError } from '../stego/errors';

export function sendError(res: Response, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .status(status)
    .type('application/json')
    .send(JSON.stringify({ error: { code, message } }));
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof StegoGatewayError) {
      if (error.httpStatus >= 500) logger.error({ code: error.code }, error.message);
      sendError(res, error.httpStatus, error.code, error.message);
      return;
    }
    // express's body parsers and friends set `status` (e.g. 400 on bad JSON, 413 on too large).
    const status =
      typeof error === 'object' &&
      error !== null &&
      'status' in error &&
      typeof error.status === 'number'
        ? error.status
        : 500;
    if (status < 500) {
      sendError(res, status, 'BAD_REQUEST', 'the request could not be read');
      return;
    }
    logger.error(
      { code: 'INTERNAL_ERROR', err: error instanceof Error ? error.name : 'unknown' },
      'unhandled error',
    );
    sendError(res, 500, 'INTERNAL_ERROR', 'internal error');
  };
}
