import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { KeyRing } from './key-ring';
import { activeKey } from './key-ring';

/**
 * AES-256-GCM sealing of a payload under the ring's active key. Blob layout:
 * keyIdLength (1) | keyId (UTF-8) | nonce (12) | ciphertext | tag (16); the key id and the caller's
 * associated data are authenticated (AAD). The nonce is random (injected for deterministic tests).
 */
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

export function sealOverheadBytes(keyId: string): number {
  return 1 + Buffer.byteLength(keyId, 'utf8') + NONCE_BYTES + TAG_BYTES;
}

function aadFor(keyId: Buffer, aad: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([keyId.length]), keyId, aad]);
}

export function seal(
  ring: KeyRing,
  plaintext: Uint8Array,
  aad: Uint8Array,
  randomBytes: (n: number) => Uint8Array,
): Uint8Array {
  const keyId = Buffer.from(ring.activeKeyId, 'utf8');
  const nonce = Buffer.from(randomBytes(NONCE_BYTES));
  const cipher = createCipheriv('aes-256-gcm', activeKey(ring), nonce);
  cipher.setAAD(aadFor(keyId, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(
    Buffer.concat([Buffer.from([keyId.length]), keyId, nonce, ciphertext, cipher.getAuthTag()]),
  );
}

export type OpenResult =
  | { ok: true; keyId: string; plaintext: Uint8Array }
  | { ok: false; reason: 'wrong-key' | 'corrupted'; message: string };

/** Opens a sealed blob: unknown key id or a failing tag is 'wrong-key'; a malformed blob 'corrupted'. */
export function open(ring: KeyRing | undefined, blob: Uint8Array, aad: Uint8Array): OpenResult {
  const idLength = blob[0];
  if (idLength === undefined || blob.length < 1 + idLength + NONCE_BYTES + TAG_BYTES) {
    return {
      ok: false,
      reason: 'corrupted',
      message: `sealed blob too short [${blob.length} bytes]`,
    };
  }
  const keyIdBytes = Buffer.from(blob.subarray(1, 1 + idLength));
  const keyId = keyIdBytes.toString('utf8');
  if (ring === undefined) {
    return {
      ok: false,
      reason: 'wrong-key',
      message: `a key ring is needed to open this payload [key id ${keyId}]`,
    };
  }
  const key = ring.keys.get(keyId);
  if (key === undefined) {
    return {
      ok: false,
      reason: 'wrong-key',
      message: `the payload was sealed under a key not in the ring [key id ${keyId}]`,
    };
  }
  const nonce = blob.subarray(1 + idLength, 1 + idLength + NONCE_BYTES);
  const ciphertext = blob.subarray(1 + idLength + NONCE_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aadFor(keyIdBytes, aad));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return { ok: true, keyId, plaintext: new Uint8Array(plaintext) };
  } catch {
    return {
      ok: false,
      reason: 'wrong-key',
      message: `authentication failed under the ring's key [key id ${keyId}]`,
    };
  }
}
