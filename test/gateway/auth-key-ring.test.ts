// Key ring file handling (src/gateway/keys); named auth-* as the key ring guards who can read identities.
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  KEY_RING_FILE_MODE,
  loadKeyRing,
  loadOrCreateKeyRing,
  newKeyId,
  rotateKeyRing,
  saveKeyRing,
} from '../../src/gateway/keys';
import { generateKeyRing } from '../../src/stego';
import { open, seal } from '../../src/stego/seal';

const AAD = new TextEncoder().encode('1.2.3.4');

describe('key ring file', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'key-ring-'));
    file = path.join(dir, 'keys.json');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a ring on first start with mode 0600, then loads the same ring', async () => {
    const first = await loadOrCreateKeyRing(file);
    expect(first.created).toBe(true);
    expect(first.ring.activeKeyId).toMatch(/^k-\d{8}-[0-9a-f]{6}$/);
    expect((await stat(file)).mode & 0o777).toBe(KEY_RING_FILE_MODE);
    const json: unknown = JSON.parse(await readFile(file, 'utf8'));
    expect(json).toMatchObject({ version: 1, activeKeyId: first.ring.activeKeyId });

    const second = await loadOrCreateKeyRing(file);
    expect(second.created).toBe(false);
    expect(second.ring.activeKeyId).toBe(first.ring.activeKeyId);
    expect(second.ring.keys).toEqual(first.ring.keys);
    // No temporary file left behind.
    expect(await readdir(dir)).toEqual(['keys.json']);
  });

  it('rotates: the new key seals, every older key still opens', async () => {
    const { ring: original } = await loadOrCreateKeyRing(file, { keyId: 'k-2025' });
    const oldBlob = seal(original, new TextEncoder().encode('old identity'), AAD, (n) =>
      randomBytes(n),
    );

    const rotated = await rotateKeyRing(file, { keyId: 'k-2026' });
    expect(rotated).toMatchObject({ keyId: 'k-2026', previousKeyId: 'k-2025' });
    const reloaded = await loadKeyRing(file);
    expect(reloaded.activeKeyId).toBe('k-2026');
    expect([...reloaded.keys.keys()].sort()).toEqual(['k-2025', 'k-2026']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const newBlob = seal(reloaded, new TextEncoder().encode('new identity'), AAD, (n) =>
      randomBytes(n),
    );
    const openedOld = open(reloaded, oldBlob, AAD);
    const openedNew = open(reloaded, newBlob, AAD);
    expect(openedOld.ok && new TextDecoder().decode(openedOld.plaintext)).toBe('old identity');
    expect(openedOld.ok && openedOld.keyId).toBe('k-2025');
    expect(openedNew.ok && openedNew.keyId).toBe('k-2026');
    // The ring from before the rotation cannot open what the new key sealed.
    expect(open(original, newBlob, AAD)).toMatchObject({ ok: false, reason: 'wrong-key' });
  });

  it('never replaces a key on rotation', async () => {
    await loadOrCreateKeyRing(file, { keyId: 'k-1' });
    await expect(rotateKeyRing(file, { keyId: 'k-1' })).rejects.toMatchObject({
      code: 'KEY_ID_TAKEN',
    });
    const generated = await rotateKeyRing(file);
    expect(generated.keyId).not.toBe('k-1');
  });

  it('refuses a ring file readable by others unless allowed', async () => {
    await saveKeyRing(
      file,
      generateKeyRing((n) => randomBytes(n), 'k-1'),
    );
    await chmod(file, 0o644);
    await expect(loadKeyRing(file)).rejects.toMatchObject({
      code: 'KEY_RING_INSECURE_MODE',
      message: expect.stringMatching(/mode 644.*chmod 600/),
    });
    expect((await loadKeyRing(file, { allowInsecureMode: true })).activeKeyId).toBe('k-1');
  });

  it.each([
    ['missing file', undefined, 'KEY_RING_UNREADABLE'],
    ['not JSON', 'not json {', 'INVALID_KEY_RING'],
    ['no keys', '{"version":1,"activeKeyId":"a","keys":{}}', 'INVALID_KEY_RING'],
    ['short key', '{"version":1,"activeKeyId":"a","keys":{"a":"AAAA"}}', 'INVALID_KEY_RING'],
  ])(
    'reports a %s with a stable code and without quoting key material',
    async (_label, content, code) => {
      if (content !== undefined) await writeFile(file, content, { mode: 0o600 });
      const error: unknown = await loadKeyRing(file).catch((e: unknown) => e);
      expect(error).toMatchObject({ code });
      expect((error as Error).message).not.toContain('AAAA');
    },
  );

  it('reports an unwritable location with KEY_RING_UNWRITABLE', async () => {
    await expect(
      saveKeyRing(
        path.join(dir, 'missing', 'keys.json'),
        generateKeyRing((n) => randomBytes(n)),
      ),
    ).rejects.toMatchObject({ code: 'KEY_RING_UNWRITABLE' });
  });

  it('makes sortable, valid key ids', () => {
    expect(newKeyId(new Date('2026-11-26T10:00:00Z'))).toMatch(/^k-20261126-[0-9a-f]{6}$/);
  });
});
