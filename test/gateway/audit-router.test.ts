import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';

import { auditRouter, createAuditStore } from '../../src/gateway/audit';
import type { AuditStore } from '../../src/gateway/audit';
import { createAuthenticator, generateHs256Secret, mintToken } from '../../src/gateway/auth';
import { StegoGatewayError } from '../../src/stego/errors';

describe('GET /audit', () => {
  let server: Server;
  let base: string;
  let audit: AuditStore;
  let auditor: string;
  let viewer: string;

  beforeAll(async () => {
    const secret = generateHs256Secret();
    const authenticator = await createAuthenticator({ jwt: { hs256Secret: secret } });
    auditor = await mintToken({ secret, subject: 'auditor-1', roles: ['auditor'] });
    viewer = await mintToken({ secret, subject: 'viewer-1', roles: ['viewer'] });
    audit = await createAuditStore({ kind: 'sqlite', path: ':memory:' });
    for (let i = 0; i < 5; i += 1) {
      await audit.recordStore({
        outcome: i === 4 ? 'rejected' : 'embedded',
        rule: 'r',
        profile: 'fidelity',
        keyId: 'k1',
        studyUid: '1.2.3',
        seriesUid: '1.2.3.4',
        sopUid: `1.2.3.4.${i}`,
        caller: 'ct-1',
        ...(i === 4 ? { failureReason: 0x0122 } : {}),
        at: new Date(Date.UTC(2026, 10, 26, 8, i)),
      });
    }
    const app = express();
    app.set('query parser', 'simple');
    app.use(auditRouter({ audit, authenticator }));
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        const status = error instanceof StegoGatewayError ? error.httpStatus : 500;
        res.status(status).json({
          error: { code: error instanceof StegoGatewayError ? error.code : 'INTERNAL_ERROR' },
        });
      },
    );
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await audit.close();
  });

  const get = (query: string, token = auditor): Promise<Response> =>
    fetch(`${base}/audit${query}`, { headers: { authorization: `Bearer ${token}` } });

  it('needs the auditor role', async () => {
    expect((await fetch(`${base}/audit`)).status).toBe(401);
    expect((await get('', viewer)).status).toBe(403);
  });

  it('returns the filtered trail, newest first, as JSON', async () => {
    const response = await get('?outcome=embedded&limit=2&offset=1');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      count: number;
      entries: { sopUid: string; at: string }[];
    };
    expect(body).toMatchObject({ limit: 2, offset: 1, count: 2 });
    expect(body.entries.map((e) => e.sopUid)).toEqual(['1.2.3.4.2', '1.2.3.4.1']);
    expect(body.entries[0]?.at).toBe('2026-11-26T08:02:00.000Z');
    const rejected = (await (await get('?outcome=rejected')).json()) as { entries: unknown[] };
    expect(rejected.entries).toEqual([
      expect.objectContaining({ kind: 'store', failureReason: 0x0122, rule: 'r' }),
    ]);
  });

  it('answers 400 with every problem for a bad query', async () => {
    const response = await get('?limit=0&kind=everything&from=soon&limit=3');
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; details: { path: string }[] };
    };
    expect(body.error.code).toBe('AUDIT_QUERY_INVALID');
    expect(body.error.details.map((d) => d.path).sort()).toEqual(['from', 'kind', 'limit']);
  });

  it('answers 503 AUDIT_UNAVAILABLE when the store is gone', async () => {
    const closedStore = await createAuditStore({ kind: 'sqlite', path: ':memory:' });
    await closedStore.close();
    const secret = generateHs256Secret();
    const app = express();
    app.use(
      auditRouter({
        audit: closedStore,
        authenticator: await createAuthenticator({ jwt: { hs256Secret: secret } }),
      }),
    );
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(error instanceof StegoGatewayError ? error.httpStatus : 500).json({
          error: { code: error instanceof StegoGatewayError ? error.code : 'INTERNAL_ERROR' },
        });
      },
    );
    const other = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const token = await mintToken({ secret, subject: 'a', roles: ['auditor'] });
      const response = await fetch(
        `http://127.0.0.1:${(other.address() as AddressInfo).port}/audit`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ error: { code: 'AUDIT_UNAVAILABLE' } });
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
