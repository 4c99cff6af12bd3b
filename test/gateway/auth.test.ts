import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

import express from 'express';
import { SignJWT, UnsecuredJWT } from 'jose';

import {
  createAuthenticator,
  generateApiKey,
  generateHs256Secret,
  hashApiKey,
  mintToken,
  principalOf,
  requireRole,
  ROLES,
} from '../../src/gateway/auth';
import type { AuthConfig, AuthResult, Role } from '../../src/gateway/auth';

const SECRET = generateHs256Secret();
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PUBLIC_PEM = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function rsToken(
  claims: Record<string, unknown>,
  kid?: string,
  key = rsa.privateKey,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader(kid === undefined ? { alg: 'RS256' } : { alg: 'RS256', kid })
    .setSubject('rs-user')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}

function expectFailure(result: AuthResult, reason: string, message?: RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) {
    expect(result.reason).toBe(reason);
    if (message !== undefined) expect(result.message).toMatch(message);
  }
}

describe('createAuthenticator: JWT', () => {
  const config: AuthConfig = {
    jwt: { hs256Secret: SECRET, rs256PublicKeys: [{ kid: 'rsa-1', pem: RSA_PUBLIC_PEM }] },
  };

  it('accepts a valid HS256 token and reads subject and roles', async () => {
    const auth = await createAuthenticator(config);
    const token = await mintToken({
      secret: SECRET,
      subject: 'ct-1',
      roles: ['modality', 'viewer'],
    });
    const result = await auth.authenticate(`Bearer ${token}`);
    expect(result).toEqual({
      ok: true,
      principal: { subject: 'ct-1', roles: ['modality', 'viewer'], via: 'jwt' },
    });
    // The scheme is case-insensitive (RFC 7235 2.1).
    expect((await auth.authenticate(`bearer ${token}`)).ok).toBe(true);
  });

  it('accepts RS256 by kid and reads a space-separated roles claim, ignoring unknown roles', async () => {
    const auth = await createAuthenticator(config);
    const token = await rsToken({ roles: 'auditor superuser admin' }, 'rsa-1');
    const result = await auth.authenticate(`Bearer ${token}`);
    expect(result).toEqual({
      ok: true,
      principal: {
        subject: 'rs-user',
        roles: ['auditor', 'admin'],
        via: 'jwt',
        credentialId: 'rsa-1',
      },
    });
  });

  it('tries keys without kid for tokens without kid', async () => {
    const auth = await createAuthenticator({
      jwt: {
        rs256PublicKeys: [
          { pem: otherRsa.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
          { pem: RSA_PUBLIC_PEM },
        ],
      },
    });
    expect((await auth.authenticate(`Bearer ${await rsToken({ roles: ['viewer'] })}`)).ok).toBe(
      true,
    );
  });

  it('rejects a token signed with another secret (forged)', async () => {
    const auth = await createAuthenticator(config);
    const forged = await mintToken({
      secret: generateHs256Secret(),
      subject: 'ct-1',
      roles: ['admin'],
    });
    expectFailure(
      await auth.authenticate(`Bearer ${forged}`),
      'invalid',
      /signature does not verify/,
    );
  });

  it('rejects a token whose payload was altered after signing', async () => {
    const auth = await createAuthenticator(config);
    const token = await mintToken({ secret: SECRET, subject: 'viewer-1', roles: ['viewer'] });
    const [header, , signature] = token.split('.');
    const payload = Buffer.from(
      JSON.stringify({
        sub: 'viewer-1',
        roles: ['admin'],
        exp: Math.floor(Date.now() / 1000) + 3600,
      }),
    ).toString('base64url');
    expectFailure(await auth.authenticate(`Bearer ${header}.${payload}.${signature}`), 'invalid');
  });

  it('rejects an RS256 token signed by an unknown key, and an unknown kid', async () => {
    const auth = await createAuthenticator(config);
    const wrongKey = await rsToken({ roles: ['admin'] }, 'rsa-1', otherRsa.privateKey);
    expectFailure(await auth.authenticate(`Bearer ${wrongKey}`), 'invalid', /signature/);
    const unknownKid = await rsToken({ roles: ['admin'] }, 'rsa-9');
    expectFailure(
      await auth.authenticate(`Bearer ${unknownKid}`),
      'invalid',
      /no RS256 key with kid \[rsa-9\]/,
    );
  });

  it('rejects an expired token as expired', async () => {
    const auth = await createAuthenticator(config);
    const token = await mintToken({
      secret: SECRET,
      subject: 'ct-1',
      roles: ['modality'],
      issuedAt: new Date(Date.now() - 2 * 3600 * 1000),
      expiresInSec: 3600,
    });
    expectFailure(await auth.authenticate(`Bearer ${token}`), 'expired', /expired/);
  });

  it.each<[string, () => Promise<string>]>([
    [
      'alg none',
      async () =>
        new UnsecuredJWT({ roles: ['admin'] }).setSubject('x').setExpirationTime('1h').encode(),
    ],
    [
      'HS384',
      async () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS384' })
          .setSubject('x')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(SECRET + SECRET)),
    ],
  ])('rejects algorithm %s', async (_label, make) => {
    const auth = await createAuthenticator(config);
    expectFailure(
      await auth.authenticate(`Bearer ${await make()}`),
      'invalid',
      /algorithm \[\w+\] is not accepted/,
    );
  });

  it('rejects RS256 when only HS256 is configured, and HS256 when only RS256 is', async () => {
    const hsOnly = await createAuthenticator({ jwt: { hs256Secret: SECRET } });
    expectFailure(
      await hsOnly.authenticate(`Bearer ${await rsToken({ roles: ['admin'] }, 'rsa-1')}`),
      'invalid',
      /algorithm \[RS256\] is not accepted/,
    );
    // Algorithm confusion: an HS256 token "signed" with the RSA public key as the HMAC secret.
    const rsOnly = await createAuthenticator({
      jwt: { rs256PublicKeys: [{ kid: 'rsa-1', pem: RSA_PUBLIC_PEM }] },
    });
    const confused = await mintToken({
      secret: RSA_PUBLIC_PEM,
      subject: 'x',
      roles: ['admin'],
      kid: 'rsa-1',
    });
    expectFailure(
      await rsOnly.authenticate(`Bearer ${confused}`),
      'invalid',
      /algorithm \[HS256\] is not accepted/,
    );
  });

  it('requires sub and exp, and checks issuer and audience when configured', async () => {
    const auth = await createAuthenticator({
      jwt: { hs256Secret: SECRET, issuer: 'idp', audience: 'sgw' },
    });
    const key = new TextEncoder().encode(SECRET);
    const noExp = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer('idp')
      .setAudience('sgw')
      .sign(key);
    expectFailure(await auth.authenticate(`Bearer ${noExp}`), 'invalid', /claim \[exp\]/);
    const noSub = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('idp')
      .setAudience('sgw')
      .setExpirationTime('1h')
      .sign(key);
    expectFailure(await auth.authenticate(`Bearer ${noSub}`), 'invalid', /claim \[sub\]/);
    const wrongIssuer = await mintToken({
      secret: SECRET,
      subject: 'x',
      roles: ['admin'],
      issuer: 'evil',
      audience: 'sgw',
    });
    expectFailure(await auth.authenticate(`Bearer ${wrongIssuer}`), 'invalid', /claim \[iss\]/);
    const wrongAudience = await mintToken({
      secret: SECRET,
      subject: 'x',
      roles: ['admin'],
      issuer: 'idp',
      audience: 'other',
    });
    expectFailure(await auth.authenticate(`Bearer ${wrongAudience}`), 'invalid', /claim \[aud\]/);
    const good = await mintToken({
      secret: SECRET,
      subject: 'x',
      roles: ['admin'],
      issuer: 'idp',
      audience: 'sgw',
    });
    expect((await auth.authenticate(`Bearer ${good}`)).ok).toBe(true);
  });

  it.each<[string | undefined, string]>([
    [undefined, 'missing'],
    ['', 'missing'],
    ['Basic dXNlcjpwYXNz', 'malformed'],
    ['Bearer', 'malformed'],
    ['Bearer a b', 'malformed'],
    ['Bearer not-a-jwt', 'malformed'],
    ['Bearer eyJhbGciOiJIUzI1NiJ9.e30', 'malformed'],
    [`Bearer ${'a'.repeat(10_000)}`, 'malformed'],
  ])('rejects Authorization %j as %s', async (header, reason) => {
    const auth = await createAuthenticator(config);
    expectFailure(await auth.authenticate(header), reason);
  });

  it('refuses bad configuration with AUTH_CONFIG_INVALID', async () => {
    await expect(createAuthenticator({ jwt: { hs256Secret: 'short' } })).rejects.toMatchObject({
      code: 'AUTH_CONFIG_INVALID',
    });
    await expect(
      createAuthenticator({ jwt: { rs256PublicKeys: [{ pem: 'nope' }] } }),
    ).rejects.toMatchObject({
      code: 'AUTH_CONFIG_INVALID',
      message: expect.stringMatching(/rs256PublicKeys\[0\]/),
    });
    const { record } = generateApiKey('x', ['viewer'], 'dup');
    await expect(createAuthenticator({ apiKeys: [record, record] })).rejects.toMatchObject({
      code: 'AUTH_CONFIG_INVALID',
    });
    await expect(
      createAuthenticator({ apiKeys: [{ ...record, hash: 'plain' }] }),
    ).rejects.toMatchObject({
      code: 'AUTH_CONFIG_INVALID',
    });
  });
});

describe('createAuthenticator: API keys', () => {
  const generated = generateApiKey('pacs-router', ['modality'], 'router-1');

  it('stores only the SHA-256 of the key', () => {
    expect(generated.key).toMatch(/^sgw_router-1_[A-Za-z0-9_-]{43}$/);
    expect(generated.record).toEqual({
      id: 'router-1',
      subject: 'pacs-router',
      roles: ['modality'],
      hash: hashApiKey(generated.key),
    });
    expect(JSON.stringify(generated.record)).not.toContain(generated.key.slice(13));
  });

  it('accepts the key and refuses a wrong secret, an unknown id and a revoked key', async () => {
    const auth = await createAuthenticator({ apiKeys: [generated.record] });
    expect(await auth.authenticate(`Bearer ${generated.key}`)).toEqual({
      ok: true,
      principal: {
        subject: 'pacs-router',
        roles: ['modality'],
        via: 'api-key',
        credentialId: 'router-1',
      },
    });
    const last = generated.key.at(-1) === 'A' ? 'B' : 'A';
    expectFailure(
      await auth.authenticate(`Bearer ${generated.key.slice(0, -1)}${last}`),
      'invalid',
    );
    expectFailure(
      await auth.authenticate(`Bearer ${generated.key.replace('router-1', 'router-2')}`),
      'invalid',
      /unknown or revoked API key/,
    );
    expectFailure(await auth.authenticate('Bearer sgw_router-1_short'), 'invalid');
    const revoked = await createAuthenticator({ apiKeys: [] });
    expectFailure(await revoked.authenticate(`Bearer ${generated.key}`), 'invalid');
  });
});

describe('express middleware: every route with every role', () => {
  const routes: { path: string; roles: Role[] }[] = [
    { path: '/stow', roles: ['modality'] },
    { path: '/wado', roles: ['viewer'] },
    { path: '/identity', roles: ['auditor'] },
    { path: '/audit', roles: ['auditor'] },
    { path: '/admin/rules', roles: ['admin'] },
  ];
  let server: Server;
  let base: string;
  const tokens = new Map<Role, string>();
  const apiKey = generateApiKey('key-viewer', ['viewer'], 'kv');

  beforeAll(async () => {
    const auth = await createAuthenticator({
      jwt: { hs256Secret: SECRET },
      apiKeys: [apiKey.record],
    });
    for (const role of ROLES)
      tokens.set(role, await mintToken({ secret: SECRET, subject: `${role}-1`, roles: [role] }));
    const app = express();
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true });
    });
    for (const route of routes) {
      app.get(route.path, auth.requireRole(...route.roles), (req, res) => {
        res.json({ subject: principalOf(req)?.subject });
      });
    }
    // The two-step form: authenticate once for a router, then require roles per route.
    const router = express.Router();
    router.use(auth.middleware());
    router.get('/two-step', requireRole('viewer', 'auditor'), (req, res) => {
      res.json({ subject: principalOf(req)?.subject });
    });
    app.use('/r', router);
    app.get('/no-auth', requireRole('admin'), (_req, res) => {
      res.json({});
    });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const cases = routes.flatMap((route) =>
    ROLES.map((role) => [route.path, role, route.roles.includes(role)] as const),
  );
  it.each(cases)('%s as %s -> allowed %s', async (route, role, allowed) => {
    const response = await fetch(`${base}${route}`, {
      headers: { authorization: `Bearer ${tokens.get(role)}` },
    });
    if (allowed) {
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ subject: `${role}-1` });
    } else {
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
      expect(await response.json()).toEqual({
        error: { code: 'AUTH_FORBIDDEN', message: expect.stringContaining('needs role') },
      });
    }
  });

  it.each(routes.map((r) => r.path))(
    '%s without a token -> 401 with a challenge',
    async (route) => {
      const response = await fetch(`${base}${route}`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="stego-gateway"');
      expect(await response.json()).toEqual({
        error: { code: 'AUTH_MISSING', message: expect.any(String) },
      });
    },
  );

  it('answers 401 invalid_token for a forged token and never echoes it', async () => {
    const forged = await mintToken({
      secret: generateHs256Secret(),
      subject: 'admin-1',
      roles: ['admin'],
    });
    const response = await fetch(`${base}/admin/rules`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="stego-gateway", error="invalid_token"/,
    );
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'AUTH_INVALID', message: expect.any(String) },
    });
    expect(text).not.toContain(forged.split('.')[2]);
  });

  it('answers 401 AUTH_EXPIRED for an expired token', async () => {
    const expired = await mintToken({
      secret: SECRET,
      subject: 'viewer-1',
      roles: ['viewer'],
      issuedAt: new Date(Date.now() - 7200_000),
      expiresInSec: 60,
    });
    const response = await fetch(`${base}/wado`, {
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'AUTH_EXPIRED' } });
  });

  it('accepts an API key on its role and refuses it elsewhere', async () => {
    const headers = { authorization: `Bearer ${apiKey.key}` };
    expect((await fetch(`${base}/wado`, { headers })).status).toBe(200);
    expect((await fetch(`${base}/stow`, { headers })).status).toBe(403);
    expect((await fetch(`${base}/r/two-step`, { headers })).status).toBe(200);
  });

  it('leaves /healthz open and answers 401 where requireRole runs without authentication', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const response = await fetch(`${base}/no-auth`, {
      headers: { authorization: `Bearer ${tokens.get('admin')}` },
    });
    expect(response.status).toBe(401);
    expect((await fetch(`${base}/r/two-step`)).status).toBe(401);
  });
});
