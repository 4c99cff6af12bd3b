import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import express from 'express';

import { createAuthenticator, generateHs256Secret, mintToken } from '../../src/gateway/auth';
import type { Role } from '../../src/gateway/auth';
import { createLogger } from '../../src/gateway/logging';
import { adminRulesRouter, RuleStore } from '../../src/gateway/rules';

const DATA = path.resolve(__dirname, '../../../shared/data');
const EXAMPLE = readFileSync(path.resolve(__dirname, '../../config/rules.example.yaml'), 'utf8');
const SIMPLE =
  'rules: [{ name: ct, action: passthrough, match: { attributes: { Modality: CT } } }]\ndefault: { action: embed }\n';

describe('admin rules router', () => {
  let server: Server;
  let base: string;
  let store: RuleStore;
  const tokens = new Map<Role, string>();

  beforeAll(async () => {
    const secret = generateHs256Secret();
    const authenticator = await createAuthenticator({ jwt: { hs256Secret: secret } });
    for (const role of ['admin', 'viewer'] as const) {
      tokens.set(role, await mintToken({ secret, subject: `${role}-1`, roles: [role] }));
    }
    const created = RuleStore.fromText(SIMPLE);
    if (!created.ok) throw new Error('bad initial rules');
    store = created.store;
    const app = express();
    app.use(
      adminRulesRouter({
        store,
        authenticator,
        logger: createLogger({ level: 'silent' }),
        maxTestBytes: 4 * 1024 * 1024,
      }),
    );
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        const status =
          typeof error === 'object' && error !== null && 'status' in error
            ? Number(error.status)
            : 500;
        res.status(status).json({ error: { code: 'BAD_REQUEST', message: 'unreadable' } });
      },
    );
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const as = (role: Role, extra: Record<string, string> = {}): Record<string, string> => ({
    authorization: `Bearer ${tokens.get(role)}`,
    ...extra,
  });

  it('guards every route with the admin role', async () => {
    for (const [method, route] of [
      ['GET', '/admin/rules'],
      ['PUT', '/admin/rules'],
      ['POST', '/admin/rules/test'],
    ] as const) {
      expect((await fetch(`${base}${route}`, { method })).status).toBe(401);
      expect((await fetch(`${base}${route}`, { method, headers: as('viewer') })).status).toBe(403);
    }
  });

  it('returns the rules in force as YAML with their revision', async () => {
    const response = await fetch(`${base}/admin/rules`, { headers: as('admin') });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(response.headers.get('x-rules-revision')).toBe(String(store.revision));
    expect(await response.text()).toBe(store.text);
  });

  it('replaces valid rules and keeps the previous ones on error, listing every problem', async () => {
    const before = store.revision;
    const bad = await fetch(`${base}/admin/rules`, {
      method: 'PUT',
      headers: as('admin', { 'content-type': 'application/yaml' }),
      body: 'rules: [{ name: x, action: embedd }]\n',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        code: 'RULES_INVALID',
        message: '2 problems; the previous rules stay in force',
        details: [
          { path: 'default', message: 'is required' },
          { path: 'rules[0].action', message: 'action must be one of embed, passthrough, reject' },
        ],
      },
    });
    expect(store.revision).toBe(before);

    const good = await fetch(`${base}/admin/rules`, {
      method: 'PUT',
      headers: as('admin', { 'content-type': 'text/yaml' }),
      body: EXAMPLE,
    });
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({
      revision: before + 1,
      rules: [
        'refuse-secondary-capture',
        'localizers-unchanged',
        'research-scanner',
        'ct-embed',
        'partner-mr-robust',
        'default',
      ],
    });
    expect(store.text).toBe(EXAMPLE);
  });

  it('refuses rules sent as another media type', async () => {
    const response = await fetch(`${base}/admin/rules`, {
      method: 'PUT',
      headers: as('admin', { 'content-type': 'application/json' }),
      body: '{}',
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: { code: 'RULES_MEDIA_TYPE' } });
  });

  it('tells which rule a real DICOM file would match, and why', async () => {
    await store.replace(EXAMPLE);
    const bytes = readFileSync(path.join(DATA, 'mr/pdmr-mouse-abdomen/1-01.dcm'));
    const response = await fetch(`${base}/admin/rules/test?subject=partner-mr&roles=modality`, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/dicom' }),
      body: bytes,
    });
    expect(response.status).toBe(200);
    const result = (await response.json()) as Record<string, unknown>;
    expect(result).toMatchObject({
      rule: 'partner-mr-robust',
      ruleIndex: 4,
      isDefault: false,
      action: { type: 'embed', profile: 'robust', uidPolicy: 'derive', onFailure: 'reject' },
    });
    expect(result['explanation']).toEqual([
      expect.stringMatching(
        /^rule 1 \[refuse-secondary-capture\] did not match: SOPClassUID is \[1\.2\.840\.10008\.5\.1\.4\.1\.1\.4\]/,
      ),
      expect.stringMatching(
        /^rule 2 \[localizers-unchanged\] did not match: ImageType is \[DERIVED\\PRIMARY\\SPLIT\]/,
      ),
      expect.stringMatching(
        /^rule 3 \[research-scanner\] did not match: StationName is \[PHILIPS-B6FC38D\]/,
      ),
      'rule 4 [ct-embed] did not match: Modality is [MR], wanted equals [CT]',
      'rule 5 [partner-mr-robust] matched',
    ]);
  });

  it('tests attributes given as JSON', async () => {
    const response = await fetch(`${base}/admin/rules/test`, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/json' }),
      body: JSON.stringify({
        attributes: {
          SOPClassUID: '1.2.840.10008.5.1.4.1.1.7',
          ImageType: ['DERIVED', 'SECONDARY'],
        },
      }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      rule: 'refuse-secondary-capture',
      action: { type: 'reject', failureReason: 0x0122 },
      explanation: ['rule 1 [refuse-secondary-capture] matched'],
    });
  });

  it.each<[string, Record<string, string>, string | Buffer, number, string]>([
    [
      'a non-DICOM body',
      { 'content-type': 'application/dicom' },
      Buffer.from('hello, not dicom'),
      400,
      'RULES_TEST_UNREADABLE',
    ],
    [
      'unknown roles',
      { 'content-type': 'application/dicom' },
      Buffer.alloc(200),
      400,
      'RULES_TEST_INVALID',
    ],
    [
      'a JSON body of the wrong shape',
      { 'content-type': 'application/json' },
      '{"attrs": {}}',
      400,
      'RULES_TEST_INVALID',
    ],
    ['no body', {}, '', 400, 'RULES_TEST_INVALID'],
  ])('answers %s with a specific error', async (_label, headers, body, status, code) => {
    const query =
      code === 'RULES_TEST_INVALID' && headers['content-type'] === 'application/dicom'
        ? '?roles=superuser'
        : '';
    const response = await fetch(`${base}/admin/rules/test${query}`, {
      method: 'POST',
      headers: as('admin', headers),
      body,
    });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: { code } });
  });

  it('refuses a test file over the size limit', async () => {
    const response = await fetch(`${base}/admin/rules/test`, {
      method: 'POST',
      headers: as('admin', { 'content-type': 'application/dicom' }),
      body: Buffer.alloc(5 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
  });
});
