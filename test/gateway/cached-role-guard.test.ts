import type { NextFunction, Request, RequestHandler, Response } from 'express';

import type { Authenticator } from '../../src/gateway/auth/authenticator';
import { principalOf } from '../../src/gateway/auth/middleware';
import type { AuthResult, Role } from '../../src/gateway/auth/types';
import { cachedRoleGuards } from '../../src/gateway/auth/cached-role-guard';

/** An unsigned JWT-shaped token with the given exp (the fake authenticator does not verify it). */
function token(expSec: number, sub = 'viewer-1'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub, exp: expSec })}.sig`;
}

function fakeAuthenticator(valid: (header: string) => boolean) {
  const calls = { authenticate: 0, fallback: 0 };
  const authenticator: Pick<Authenticator, 'authenticate' | 'requireRole'> = {
    authenticate(header): Promise<AuthResult> {
      calls.authenticate += 1;
      return Promise.resolve(
        header !== undefined && valid(header)
          ? { ok: true, principal: { subject: 'viewer-1', roles: ['viewer'], via: 'jwt' } }
          : { ok: false, reason: 'invalid', message: 'bad token' },
      );
    },
    requireRole(..._roles: Role[]): RequestHandler {
      return (_req, res) => {
        calls.fallback += 1;
        res.status(401);
      };
    },
  };
  return { authenticator, calls };
}

async function run(guard: RequestHandler, authorization: string | undefined) {
  const req = { headers: { authorization } } as unknown as Request;
  let status: number | undefined;
  const res = {
    status(code: number) {
      status = code;
      return res;
    },
    set: () => res,
    json: () => res,
  } as unknown as Response;
  let passed = false;
  const next: NextFunction = () => {
    passed = true;
  };
  await guard(req, res, next);
  return { passed, status, principal: principalOf(req) };
}

describe('cachedRoleGuards', () => {
  it('verifies a token once, then admits it from the cache with its principal', async () => {
    const { authenticator, calls } = fakeAuthenticator(() => true);
    const guard = cachedRoleGuards(authenticator).requireRole('viewer');
    const header = `Bearer ${token(Math.floor(Date.now() / 1000) + 3600)}`;
    for (let i = 0; i < 5; i += 1) {
      const result = await run(guard, header);
      expect(result.passed).toBe(true);
      expect(result.principal?.subject).toBe('viewer-1');
    }
    expect(calls.authenticate).toBe(1);
  });

  it('still checks the role on a cached token (403 from the role check)', async () => {
    const { authenticator } = fakeAuthenticator(() => true);
    const guards = cachedRoleGuards(authenticator);
    const header = `Bearer ${token(Math.floor(Date.now() / 1000) + 3600)}`;
    expect((await run(guards.requireRole('viewer'), header)).passed).toBe(true);
    const asAdmin = await run(guards.requireRole('admin'), header);
    expect(asAdmin.passed).toBe(false);
    expect(asAdmin.status).toBe(403);
  });

  it('leaves failures to the authenticator and caches nothing for them', async () => {
    const { authenticator, calls } = fakeAuthenticator(() => false);
    const guard = cachedRoleGuards(authenticator).requireRole('viewer');
    for (const header of [undefined, 'Bearer nope', 'Bearer nope']) {
      const result = await run(guard, header);
      expect(result.passed).toBe(false);
      expect(result.status).toBe(401);
    }
    expect(calls.fallback).toBe(3);
    expect(calls.authenticate).toBe(2);
  });

  it('verifies again after the ttl and never trusts a token past its exp', async () => {
    let nowMs = 1_000_000_000_000;
    let valid = true;
    const { authenticator, calls } = fakeAuthenticator(() => valid);
    const guard = cachedRoleGuards(authenticator, { ttlMs: 10_000, now: () => nowMs }).requireRole(
      'viewer',
    );
    const shortLived = `Bearer ${token(nowMs / 1000 + 2)}`;
    expect((await run(guard, shortLived)).passed).toBe(true);
    nowMs += 1_000;
    expect((await run(guard, shortLived)).passed).toBe(true);
    expect(calls.authenticate).toBe(1);
    nowMs += 1_500; // past exp: back to the authenticator, which now refuses
    valid = false;
    expect((await run(guard, shortLived)).passed).toBe(false);
    valid = true;
    const longLived = `Bearer ${token(nowMs / 1000 + 3600)}`;
    expect((await run(guard, longLived)).passed).toBe(true);
    nowMs += 10_001;
    expect((await run(guard, longLived)).passed).toBe(true);
    expect(calls.authenticate).toBe(4);
  });
});
