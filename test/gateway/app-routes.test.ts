/**
 * Every route of the real app (real Orthanc, real auth) with every role, with no token and with a
 * forged one: the role table of docs/api.md holds, /healthz alone is open, CORS preflights are
 * answered before authentication.
 */
import http from 'node:http';

import { generateHs256Secret, mintToken } from '../../src/gateway/auth/credentials';
import { ROLES } from '../../src/gateway/auth/types';
import type { Role } from '../../src/gateway/auth/types';
import { createIdentityEngine } from '../../src/gateway/identity/create-identity-engine';
import { PASSTHROUGH_RULES, startHarness } from './harness';
import type { Harness } from './harness';

const S = '1.2.3.4';
const SE = '1.2.3.4.5';
const I = '1.2.3.4.5.6';

interface Route {
  readonly method: 'GET' | 'POST' | 'PUT';
  /** `@` = the DICOMweb root, `/` = the server's top level. */
  readonly path: string;
  readonly roles: readonly Role[] | 'any' | 'open';
  readonly contentType?: string;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/healthz', roles: 'open' },
  { method: 'GET', path: '/readyz', roles: 'any' },
  { method: 'GET', path: '/metrics', roles: ['admin'] },
  {
    method: 'POST',
    path: '@/studies',
    roles: ['modality'],
    contentType: 'multipart/related; type="application/dicom"; boundary=x',
  },
  {
    method: 'POST',
    path: `@/studies/${S}`,
    roles: ['modality'],
    contentType: 'multipart/related; type="application/dicom"; boundary=x',
  },
  // A trailing slash reaches the same handler, so it must meet the same guard.
  {
    method: 'POST',
    path: `@/studies/${S}/`,
    roles: ['modality'],
    contentType: 'multipart/related; type="application/dicom"; boundary=x',
  },
  { method: 'GET', path: '@/studies', roles: ['viewer'] },
  { method: 'GET', path: '@/series', roles: ['viewer'] },
  { method: 'GET', path: '@/instances', roles: ['viewer'] },
  { method: 'GET', path: `@/studies/${S}`, roles: ['viewer'] },
  { method: 'GET', path: `@/studies/${S}/metadata`, roles: ['viewer'] },
  { method: 'GET', path: `@/studies/${S}/series`, roles: ['viewer'] },
  { method: 'GET', path: `@/studies/${S}/series/${SE}/instances/${I}`, roles: ['viewer'] },
  {
    method: 'GET',
    path: `@/studies/${S}/series/${SE}/instances/${I}/frames/1`,
    roles: ['viewer'],
  },
  {
    method: 'GET',
    path: `@/studies/${S}/series/${SE}/instances/${I}/rendered`,
    roles: ['viewer'],
  },
  { method: 'GET', path: `@/studies/${S}/identity`, roles: ['auditor'] },
  { method: 'GET', path: `@/studies/${S}/series/${SE}/identity`, roles: ['auditor'] },
  {
    method: 'GET',
    path: `@/studies/${S}/series/${SE}/instances/${I}/identity`,
    roles: ['auditor'],
  },
  { method: 'GET', path: `@/studies/${S}/series/${SE}/identity/`, roles: ['auditor'] },
  {
    method: 'POST',
    path: '@/identity/extract/',
    roles: ['auditor'],
    contentType: 'application/dicom',
  },
  {
    method: 'POST',
    path: '@/identity/extract',
    roles: ['auditor'],
    contentType: 'application/dicom',
  },
  { method: 'GET', path: '/audit', roles: ['auditor'] },
  { method: 'GET', path: '/admin/rules', roles: ['admin'] },
  { method: 'PUT', path: '/admin/rules', roles: ['admin'], contentType: 'application/yaml' },
  {
    method: 'POST',
    path: '/admin/rules/test',
    roles: ['admin'],
    contentType: 'application/json',
  },
];

describe('every route with every role', () => {
  let h: Harness;
  let forged: string;

  beforeAll(async () => {
    h = await startHarness({
      rules: PASSTHROUGH_RULES,
      engine: createIdentityEngine,
      config: (base) => ({
        ...base,
        http: { ...base.http, cors: { origins: ['https://viewer.example'], maxAgeSec: 60 } },
      }),
    });
    forged = await mintToken({ secret: generateHs256Secret(), subject: 'x', roles: [...ROLES] });
  });
  afterAll(async () => {
    await h.stop();
  });

  const call = (route: Route, token: string | undefined): Promise<Response> => {
    const url = route.path.startsWith('@')
      ? `${h.gateway.url}${route.path.slice(1)}`
      : `http://127.0.0.1:${h.gateway.port}${route.path}`;
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (route.contentType !== undefined) headers['Content-Type'] = route.contentType;
    const body =
      route.method === 'GET'
        ? undefined
        : route.contentType === 'application/json'
          ? JSON.stringify({ attributes: { Modality: 'CT' } })
          : route.contentType === 'application/yaml'
            ? PASSTHROUGH_RULES
            : '--x--\r\n';
    return fetch(url, { method: route.method, headers, ...(body === undefined ? {} : { body }) });
  };

  const cases = ROUTES.flatMap((route) =>
    ROLES.map(
      (role) =>
        [
          `${route.method} ${route.path}`,
          role,
          route.roles === 'open' || route.roles === 'any' || route.roles.includes(role),
          route,
        ] as const,
    ),
  );

  it.each(cases)('%s as %s: allowed %s', async (_name, role, allowed, route) => {
    const response = await call(route, h.tokens[role]);
    await response.arrayBuffer();
    if (allowed) expect([401, 403]).not.toContain(response.status);
    else expect(response.status).toBe(403);
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))(
    '%s without a token or with a forged one',
    async (_name, route) => {
      const missing = await call(route, undefined);
      const wrong = await call(route, forged);
      await Promise.all([missing.arrayBuffer(), wrong.arrayBuffer()]);
      if (route.roles === 'open') {
        expect(missing.status).toBe(200);
      } else {
        expect(missing.status).toBe(401);
        expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(wrong.status).toBe(401);
      }
    },
  );

  it('answers CORS preflights for allowed origins before authentication', async () => {
    const preflight = await fetch(`${h.gateway.url}/studies`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://viewer.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://viewer.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    const other = await fetch(`${h.gateway.url}/studies`, {
      headers: { Origin: 'https://evil.example', ...h.auth('viewer') },
    });
    await other.arrayBuffer();
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await fetch(`${h.gateway.url}/studies`, {
      headers: { Origin: 'https://viewer.example', ...h.auth('viewer') },
    });
    await allowed.arrayBuffer();
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://viewer.example');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('Warning');
  });

  it('refuses DICOMweb paths that try to leave the DICOMweb root', async () => {
    // Raw requests: fetch would normalise the dot segments away before sending.
    const get = (path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const request = http.get(
          `http://127.0.0.1:${h.gateway.port}${path}`,
          { headers: h.auth('viewer') },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => {
              body += chunk.toString('utf8');
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
      });
    for (const path of [
      '/dicom-web/studies/../../system',
      '/dicom-web/studies/..%2F..%2Fsystem',
      '/dicom-web/studies/%2e%2e/%2e%2e/system',
      '/dicom-web/instances/a%00b',
    ]) {
      // Refused (400), or resolved to a gateway path that does not exist (404): never proxied.
      const { status, body } = await get(path);
      expect([400, 404]).toContain(status);
      expect(body).not.toContain('ApiVersion');
    }
  });
});
