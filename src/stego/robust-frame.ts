import { createCipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { keyTag } from './identity-record';
import { activeKey, type KeyRing } from './key-ring';
import { GF256, rsDecode, rsEncode } from './reed-solomon';

/**
 * The robust profile's frame: keyTag (1) | length (1) | tag (4) | ciphertext | zero padding, then
 * Reed-Solomon parity over GF(256). Deterministic authenticated encryption sized for few bits
 * (SIV style): tag = HMAC-SHA256(macKey, keyId | length | plaintext) truncated to 32 bits, and the
 * tag is the AES-256-CTR IV. The RS code, the zero padding and the tag all reject false frames.
 */
export interface FrameClass {
  readonly dataBytes: number;
  readonly parityBytes: number;
}

/** Frame sizes, smallest first; the detector tries each. */
export const FRAME_CLASSES: readonly FrameClass[] = [
  { dataBytes: 30, parityBytes: 18 },
  { dataBytes: 40, parityBytes: 20 },
  { dataBytes: 64, parityBytes: 28 },
];

export const FRAME_OVERHEAD = 6;
const TAG_BYTES = 4;

interface Keys {
  readonly enc: Buffer;
  readonly mac: Buffer;
}

function deriveKeys(key: Uint8Array): Keys {
  return {
    enc: createHmac('sha256', key).update('stego-gateway robust enc v1').digest(),
    mac: createHmac('sha256', key).update('stego-gateway robust mac v1').digest(),
  };
}

function tagFor(keys: Keys, keyId: string, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', keys.mac)
    .update(keyId, 'utf8')
    .update(Buffer.from([plaintext.length]))
    .update(plaintext)
    .digest()
    .subarray(0, TAG_BYTES);
}

function ctr(keys: Keys, tag: Uint8Array, data: Uint8Array): Uint8Array {
  const iv = Buffer.alloc(16);
  iv.set(tag, 0);
  const cipher = createCipheriv('aes-256-ctr', keys.enc, iv);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

export function frameClassFor(payloadBytes: number): FrameClass | undefined {
  return FRAME_CLASSES.find((c) => payloadBytes <= c.dataBytes - FRAME_OVERHEAD);
}

/** The RS codeword (frame + parity) for a payload, or undefined if it is too long. */
export function robustCodeword(ring: KeyRing, payload: Uint8Array): number[] | undefined {
  const cls = frameClassFor(payload.length);
  if (cls === undefined) return undefined;
  const keys = deriveKeys(activeKey(ring));
  const tag = tagFor(keys, ring.activeKeyId, payload);
  const frame = new Uint8Array(cls.dataBytes);
  frame[0] = keyTag(ring.activeKeyId);
  frame[1] = payload.length;
  frame.set(tag, 2);
  frame.set(ctr(keys, tag, payload), FRAME_OVERHEAD);
  return rsEncode(GF256, frame, cls.parityBytes);
}

export type FrameDecode =
  | { ok: true; payload: Uint8Array; keyId: string; correctedSymbols: number; erasures: number }
  | { ok: false; reason: 'wrong-key'; message: string };

/**
 * Generalised minimum distance decoding: hard bytes plus per-byte reliabilities; erase the 0, 2,
 * 4, ... least reliable bytes until RS decodes to a well-formed frame. A clean decode (few
 * corrections) that does not authenticate under any ring key is 'wrong-key'; nothing is undefined.
 */
export function decodeFrame(
  bytes: readonly number[],
  reliability: Float64Array,
  cls: FrameClass,
  ring: KeyRing | undefined,
): FrameDecode | undefined {
  const n = cls.dataBytes + cls.parityBytes;
  const order = Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => (reliability[a] as number) - (reliability[b] as number),
  );
  for (let erase = 0; erase <= cls.parityBytes; erase += 2) {
    const decoded = rsDecode(GF256, bytes, cls.parityBytes, order.slice(0, erase));
    if (!decoded.ok) continue;
    const frame = Uint8Array.from(decoded.message);
    const length = frame[1] as number;
    if (FRAME_OVERHEAD + length > frame.length) continue;
    if (frame.subarray(FRAME_OVERHEAD + length).some((v) => v !== 0)) continue;
    const clean = decoded.corrected * 2 + decoded.erasures <= cls.parityBytes / 2;
    if (ring === undefined) {
      if (clean)
        return {
          ok: false,
          reason: 'wrong-key',
          message: 'a key ring is needed to open this payload',
        };
      continue;
    }
    const tag = frame.subarray(2, 2 + TAG_BYTES);
    const ciphertext = frame.subarray(FRAME_OVERHEAD, FRAME_OVERHEAD + length);
    for (const [id, key] of ring.keys) {
      if (keyTag(id) !== frame[0]) continue;
      const keys = deriveKeys(key);
      const plaintext = ctr(keys, tag, ciphertext);
      if (timingSafeEqual(tagFor(keys, id, plaintext), Buffer.from(tag))) {
        return {
          ok: true,
          payload: plaintext,
          keyId: id,
          correctedSymbols: decoded.corrected,
          erasures: decoded.erasures,
        };
      }
    }
    if (clean) {
      return {
        ok: false,
        reason: 'wrong-key',
        message: 'robust payload does not authenticate under any ring key',
      };
    }
  }
  return undefined;
}
