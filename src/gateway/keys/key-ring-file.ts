import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { StegoGatewayError } from '../../stego/errors';
import {
  addKeyToRing,
  generateKeyRing,
  KEY_BYTES,
  parseKeyRing,
  serializeKeyRing,
} from '../../stego';
import type { KeyRing } from '../../stego';

/** Owner read/write only: the ring holds every AES key that ever sealed an identity. */
export const KEY_RING_FILE_MODE = 0o600;

export interface LoadKeyRingOptions {
  /**
   * Accept a ring file that group or others may read. Default false: like ssh with private keys,
   * refuse it (KEY_RING_INSECURE_MODE) rather than keep using a key that may have leaked.
   */
  readonly allowInsecureMode?: boolean;
}

function keyError(code: string, message: string, cause?: unknown): StegoGatewayError {
  return new StegoGatewayError(code, message, {
    httpStatus: 500,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Reads and validates the key ring file (the JSON of src/stego's serializeKeyRing). */
export async function loadKeyRing(
  file: string,
  options: LoadKeyRingOptions = {},
): Promise<KeyRing> {
  let text: string;
  try {
    const info = await stat(file);
    if (
      options.allowInsecureMode !== true &&
      process.platform !== 'win32' &&
      (info.mode & 0o077) !== 0
    ) {
      throw keyError(
        'KEY_RING_INSECURE_MODE',
        `key ring file [${file}] is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it`,
      );
    }
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (cause instanceof StegoGatewayError) throw cause;
    throw keyError('KEY_RING_UNREADABLE', `cannot read key ring file [${file}]`, cause);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    // Never quote the content: it is key material.
    throw keyError('INVALID_KEY_RING', `key ring file [${file}] is not valid JSON`, cause);
  }
  return parseKeyRing(json);
}

/**
 * Writes the ring atomically with mode 0600: a new file in the same folder (created 0600, so the
 * keys are never readable by others, not even briefly), flushed to disk, then renamed over the old.
 */
export async function saveKeyRing(file: string, ring: KeyRing): Promise<void> {
  const text = `${JSON.stringify(serializeKeyRing(ring), null, 2)}\n`;
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    const handle = await open(temp, 'wx', KEY_RING_FILE_MODE);
    try {
      await handle.writeFile(text, 'utf8');
      // open() applies the umask; make the mode exactly 0600 whatever it is.
      await handle.chmod(KEY_RING_FILE_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (cause) {
    await rm(temp, { force: true });
    throw keyError('KEY_RING_UNWRITABLE', `cannot write key ring file [${file}]`, cause);
  }
}

/** Loads the ring, or on first start generates one (one key) and saves it. */
export async function loadOrCreateKeyRing(
  file: string,
  options: LoadKeyRingOptions & { readonly keyId?: string } = {},
): Promise<{ readonly ring: KeyRing; readonly created: boolean }> {
  try {
    await stat(file);
  } catch {
    const ring = generateKeyRing((n) => randomBytes(n), options.keyId ?? newKeyId());
    await saveKeyRing(file, ring);
    return { ring, created: true };
  }
  return { ring: await loadKeyRing(file, options), created: false };
}

/**
 * Rotation: adds a fresh random key and makes it the active (sealing) key. Every older key stays
 * in the ring, so images sealed before the rotation still open.
 */
export async function rotateKeyRing(
  file: string,
  options: LoadKeyRingOptions & { readonly keyId?: string } = {},
): Promise<{ readonly ring: KeyRing; readonly keyId: string; readonly previousKeyId: string }> {
  const ring = await loadKeyRing(file, options);
  const keyId = options.keyId ?? newKeyId();
  if (ring.keys.has(keyId)) {
    throw keyError(
      'KEY_ID_TAKEN',
      `key id [${keyId}] is already in the ring; rotation never replaces a key`,
    );
  }
  const rotated = addKeyToRing(ring, keyId, randomBytes(KEY_BYTES), true);
  await saveKeyRing(file, rotated);
  return { ring: rotated, keyId, previousKeyId: ring.activeKeyId };
}

/** `k-20261126-3fa9c1`: sortable by creation date, unique enough with 24 random bits per day. */
export function newKeyId(at: Date = new Date()): string {
  const day = at.toISOString().slice(0, 10).replace(/-/g, '');
  return `k-${day}-${randomBytes(3).toString('hex')}`;
}
