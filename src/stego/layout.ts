import { createCipheriv, createHmac } from 'node:crypto';
import type { BlockMap } from './types';

/**
 * Absolute, keyed block layout (issue 2, "Layout rule"). Which payload symbol a block carries is
 * decided by the block's grid position through a keyed PRF, never by its rank among the background
 * blocks: a block-map difference at extraction then disturbs only the symbols whose bucket holds the
 * flipped block (a few erasures or errors for the code) instead of shifting every later symbol.
 *
 * The PRF is AES-256-CTR keyed by HMAC-SHA256(layoutKey, label | grid size). The default layout key
 * is public (below): the layout hides nothing, the AES-GCM seal does; a deployment may set its own.
 */
export const LAYOUT_KEY_DEFAULT: Uint8Array = new Uint8Array(
  Buffer.from('stego-gateway/layout/v1 public default layout key', 'utf8'),
);

/** `n` pseudo-random bytes for (layoutKey, label, grid). */
export function keyedStream(
  layoutKey: Uint8Array,
  label: string,
  blockRows: number,
  blockColumns: number,
  n: number,
): Uint8Array {
  const key = createHmac('sha256', layoutKey)
    .update(`${label}|${blockRows}x${blockColumns}`, 'utf8')
    .digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return new Uint8Array(cipher.update(Buffer.alloc(n)));
}

const permutationCache = new Map<string, Uint32Array>();

/**
 * A keyed pseudo-random permutation of all grid block indices (Fisher-Yates driven by the PRF).
 * Memoised per (key, label, grid): it depends on nothing else.
 */
export function gridPermutation(
  layoutKey: Uint8Array,
  label: string,
  blockRows: number,
  blockColumns: number,
): Uint32Array {
  const cacheKey = `${Buffer.from(layoutKey).toString('base64')}|${label}|${blockRows}x${blockColumns}`;
  const cached = permutationCache.get(cacheKey);
  if (cached !== undefined) return cached;
  const n = blockRows * blockColumns;
  const bytes = keyedStream(layoutKey, label, blockRows, blockColumns, 4 * n);
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, n);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    // Modulo bias is irrelevant here: this spreads symbols, it guards no secret.
    const j = (words[i] as number) % (i + 1);
    const t = perm[i] as number;
    perm[i] = perm[j] as number;
    perm[j] = t;
  }
  if (permutationCache.size > 64) permutationCache.clear();
  permutationCache.set(cacheKey, perm);
  return perm;
}

/** Start offset of bucket `j` when `length` permutation entries are cut into `buckets` buckets. */
export function bucketStart(j: number, length: number, buckets: number): number {
  return Math.floor((j * length) / buckets);
}

/**
 * Carriers of `slots` slots over permutation entries [start, end): slot j gets the first
 * `perSlot` usable blocks of its bucket in bucket order, or none (-1 entries) when the bucket has
 * fewer. Returns slot-major block indices (length slots * perSlot).
 */
export function slotCarriers(
  perm: Uint32Array,
  start: number,
  end: number,
  slots: number,
  perSlot: number,
  map: BlockMap,
): Int32Array {
  const out = new Int32Array(slots * perSlot).fill(-1);
  const length = end - start;
  const usable = map.usable;
  for (let j = 0; j < slots; j++) {
    const from = start + bucketStart(j, length, slots);
    const to = start + bucketStart(j + 1, length, slots);
    let found = 0;
    for (let q = from; q < to && found < perSlot; q++) {
      const block = perm[q] as number;
      if (usable[block] === 1) out[j * perSlot + found++] = block;
    }
    if (found < perSlot) for (let f = 0; f < perSlot; f++) out[j * perSlot + f] = -1;
  }
  return out;
}
