/**
 * CORS for browser viewers (configurable origins). Preflight requests are answered here, before
 * authentication, as the Fetch standard sends them without credentials.
 */
import type { RequestHandler } from 'express';

export interface CorsOptions {
  readonly origins: readonly string[];
  readonly maxAgeSec: number;
}

export function cors(options: CorsOptions): RequestHandler {
  const any = options.origins.includes('*');
  const allowed = new Set(options.origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (options.origins.length === 0 || origin === undefined || (!any && !allowed.has(origin))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    if (!any) res.setHeader('Vary', 'Origin');
    res.setHeader(
      'Access-Control-Expose-Headers',
      'Warning, Content-Type, Content-Length, Content-Location',
    );
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, DELETE, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Accept');
      res.setHeader('Access-Control-Max-Age', String(options.maxAgeSec));
      res.status(204).end();
      return;
    }
    next();
  };
}
