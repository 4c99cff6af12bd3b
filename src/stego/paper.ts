import jsQR from 'jsqr';
import QRCode from 'qrcode';
import { storedRange } from './attacks';
import { dct4x4, idct4x4 } from './dct';
import { blockPixels } from './frame-geometry';
import { ncc } from './metrics';
import { allowed } from './ternary';
import type { BlockMap, PixelFrame, SampleConstraints } from './types';

/**
 * The `paper` profile: the method of Saidi, Tibermacine & Elhadad (Sci. Rep. 2024) as written,
 * with our reading of its ambiguities (docs/method.md, "paper profile"):
 * - the payload bytes go into a QR code (byte mode, error correction level M), one image pixel per
 *   module, padded with light modules to a multiple of 4;
 * - Norm (Eq. 1) maps light modules to 1 and dark to 0; Adjustment (Eq. 2, alpha = 0.02) makes them
 *   0.98 and 0.02;
 * - QR 4x4 block k (raster order) goes into the k-th usable background block (raster order, the
 *   paper's rank order), QR pixel (i, j) into the orthonormal DCT coefficient (u, v) = (i, j), all 16;
 * - the cover is normalised over its stored range, not its own min/max (which the embedding would
 *   change), and goes back to that stored integer range with rounding: never rescaled to 0..65535;
 * - Qun (Eq. 4): k = floor(|c| beta / 4), |c'| = (4k + q) / beta, keeping the sign; IQun (Eq. 5):
 *   q = |c| beta - 4k (the summary's "(B - k) beta / 4" read as the inverse of Eq. 4), threshold 0.5.
 */
export const PAPER_ALPHA = 0.02;
/** The paper's tested beta values (2 to 1000), largest first. */
export const PAPER_BETAS: readonly number[] = [
  1000, 800, 600, 500, 400, 300, 200, 100, 50, 20, 10, 5, 2,
];
const EC_LEVEL = 'M';
const QUIET_MODULES = 4;
const SCALE_PX = 4;

interface QrImage {
  readonly version: number;
  /** Padded side P (multiple of 4). */
  readonly side: number;
  /** 1 = light, 0 = dark, P x P. */
  readonly light: Uint8Array;
}

/** Qun (Eq. 4, our reading): the interval of width 4/beta holding |c|, offset q/beta; sign kept. */
export function qun(c: number, q: number, beta: number): number {
  const k = Math.floor((Math.abs(c) * beta) / 4);
  return (c < 0 ? -1 : 1) * ((4 * k + q) / beta);
}

/** IQun (Eq. 5 read as the inverse of Eq. 4): q = |c| beta - 4k, in [0, 4). */
export function iqun(c: number, beta: number): number {
  const a = Math.abs(c) * beta;
  return a - 4 * Math.floor(a / 4);
}

function qrFor(payload: Uint8Array): QrImage {
  const qr = QRCode.create([{ mode: 'byte', data: payload }], { errorCorrectionLevel: EC_LEVEL });
  const size = qr.modules.size;
  const side = Math.ceil(size / 4) * 4;
  const light = new Uint8Array(side * side).fill(1);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) light[r * side + c] = qr.modules.data[r * size + c] ? 0 : 1;
  }
  return { version: qr.version, side, light };
}

function sideOfVersion(version: number): number {
  return Math.ceil((17 + 4 * version) / 4) * 4;
}

function usableBlockList(map: BlockMap, limit: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < map.usable.length && out.length < limit; b++)
    if (map.usable[b] === 1) out.push(b);
  return out;
}

/** Largest payload (bits) whose QR fits the usable blocks. */
export function paperCapacityBits(map: BlockMap): number {
  let usable = 0;
  for (const u of map.usable) usable += u;
  let best = 0;
  for (let v = 1; v <= 40; v++) {
    const blocks = (sideOfVersion(v) / 4) ** 2;
    if (blocks > usable) break;
    best = byteCapacity(v);
  }
  return best * 8;
}

const capacityCache = new Map<number, number>();
function byteCapacity(version: number): number {
  const cached = capacityCache.get(version);
  if (cached !== undefined) return cached;
  let lo = 0;
  let hi = 3000;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    try {
      QRCode.create([{ mode: 'byte', data: new Uint8Array(mid) }], {
        errorCorrectionLevel: EC_LEVEL,
        version,
      });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  capacityCache.set(version, lo);
  return lo;
}

export interface PaperEmbedOk {
  readonly ok: true;
  readonly samples: Int32Array;
  readonly embeddedBits: number;
  readonly blocksUsed: number;
  readonly beta: number;
  readonly qrNcc: number;
}
export interface PaperEmbedFail {
  readonly ok: false;
  readonly reason: 'capacity';
  readonly neededBits: number;
  readonly capacityBits: number;
  readonly message?: string;
}

export function paperEmbed(
  cover: PixelFrame,
  map: BlockMap,
  payload: Uint8Array,
  constraints: SampleConstraints,
  beta?: number,
): PaperEmbedOk | PaperEmbedFail {
  const capacityBits = paperCapacityBits(map);
  if (8 * payload.length > capacityBits)
    return { ok: false, reason: 'capacity', neededBits: 8 * payload.length, capacityBits };
  const qr = qrFor(payload);
  const blocks = usableBlockList(map, (qr.side / 4) ** 2);
  if (blocks.length < (qr.side / 4) ** 2)
    return { ok: false, reason: 'capacity', neededBits: 8 * payload.length, capacityBits };
  const candidates = beta === undefined ? PAPER_BETAS : [beta];
  let last: PaperEmbedOk | undefined;
  for (const b of candidates) {
    const samples = embedQr(cover, map, blocks, qr, b, constraints);
    const stego = { ...cover, samples };
    const bits = moduleBits(stego, map, blocks, b);
    const light = qrImageFromBits(bits, qr.side);
    const decoded = decodeQr(light, qr.side);
    const result: PaperEmbedOk = {
      ok: true,
      samples,
      embeddedBits: qr.side * qr.side,
      blocksUsed: blocks.length,
      beta: b,
      qrNcc: ncc(qr.light, light),
    };
    if (decoded !== undefined && Buffer.from(decoded).equals(Buffer.from(payload))) return result;
    last = result;
  }
  // An explicit beta is honoured even when the QR does not survive; the report says so (NCC).
  if (beta !== undefined && last !== undefined) return last;
  return {
    ok: false,
    reason: 'capacity',
    neededBits: 8 * payload.length,
    capacityBits,
    message:
      "the QR code does not survive the integer round trip at any of the paper's beta values",
  };
}

function embedQr(
  cover: PixelFrame,
  map: BlockMap,
  blocks: readonly number[],
  qr: QrImage,
  beta: number,
  constraints: SampleConstraints,
): Int32Array {
  const samples = Int32Array.from(cover.samples);
  const [lo, hi] = storedRange(cover);
  const span = hi - lo;
  const pixels = new Int32Array(16);
  const block = new Float64Array(16);
  const perRow = qr.side / 4;
  for (let k = 0; k < blocks.length; k++) {
    blockPixels(cover, map, [blocks[k] as number], pixels);
    for (let i = 0; i < 16; i++) block[i] = ((samples[pixels[i] as number] as number) - lo) / span;
    dct4x4(block, block);
    const qy = Math.floor(k / perRow) * 4;
    const qx = (k % perRow) * 4;
    for (let u = 0; u < 4; u++) {
      for (let v = 0; v < 4; v++) {
        const q = qr.light[(qy + u) * qr.side + qx + v] ? 1 - PAPER_ALPHA : PAPER_ALPHA;
        block[u * 4 + v] = qun(block[u * 4 + v] as number, q, beta);
      }
    }
    liftIntoRange(block, beta);
    for (let i = 0; i < 16; i++) {
      let value = Math.round((block[i] as number) * span + lo);
      value = Math.min(constraints.maxValue, Math.max(constraints.minValue, value));
      // A forbidden value (padding range) moves to the nearest allowed one.
      for (let step = 1; !allowed(value, constraints) && step < 1 << 20; step++) {
        if (allowed(value + step, constraints)) value += step;
        else if (allowed(value - step, constraints)) value -= step;
        else continue;
        break;
      }
      samples[pixels[i] as number] = value;
    }
  }
  return samples;
}

/**
 * IDCT, then keep the block inside [0, 1]: where a pixel would leave it (a block at the bottom of
 * the stored range, e.g. air stored as 0), move the DC coefficient by whole Qun intervals (4/beta),
 * which shifts every pixel by 1/beta per interval and leaves every IQun value unchanged. The paper
 * does not say what happens at the range limits; clipping would destroy the QR modules.
 */
function liftIntoRange(coefficients: Float64Array, beta: number): void {
  const dc = coefficients[0] as number;
  idct4x4(coefficients, scratchBlock);
  let min = Infinity;
  let max = -Infinity;
  for (const v of scratchBlock) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let intervals = 0;
  if (min < 0) intervals = Math.ceil(-min * beta);
  else if (max > 1) intervals = -Math.ceil((max - 1) * beta);
  if (intervals !== 0 && dc >= 0 && dc + (4 * intervals) / beta >= 0) {
    coefficients[0] = dc + (4 * intervals) / beta;
    idct4x4(coefficients, scratchBlock);
  }
  coefficients.set(scratchBlock);
}

const scratchBlock = new Float64Array(16);

/** IQun of every coefficient of the listed blocks: 1 = light module (q > 0.5). */
function moduleBits(
  frame: PixelFrame,
  map: BlockMap,
  blocks: readonly number[],
  beta: number,
): Uint8Array {
  const [lo, hi] = storedRange(frame);
  const span = hi - lo;
  const out = new Uint8Array(blocks.length * 16);
  const pixels = new Int32Array(16);
  const block = new Float64Array(16);
  for (let k = 0; k < blocks.length; k++) {
    blockPixels(frame, map, [blocks[k] as number], pixels);
    for (let i = 0; i < 16; i++)
      block[i] = ((frame.samples[pixels[i] as number] as number) - lo) / span;
    dct4x4(block, block);
    for (let i = 0; i < 16; i++) out[k * 16 + i] = iqun(block[i] as number, beta) > 0.5 ? 1 : 0;
  }
  return out;
}

function qrImageFromBits(bits: Uint8Array, side: number): Uint8Array {
  const light = new Uint8Array(side * side);
  const perRow = side / 4;
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      const k = Math.floor(r / 4) * perRow + Math.floor(c / 4);
      light[r * side + c] = bits[k * 16 + (r % 4) * 4 + (c % 4)] ?? 1;
    }
  }
  return light;
}

/** Adds a quiet zone, scales up and decodes with jsQR; the decoded bytes or undefined. */
function decodeQr(light: Uint8Array, side: number): Uint8Array | undefined {
  const modules = side + 2 * QUIET_MODULES;
  const px = modules * SCALE_PX;
  const rgba = new Uint8ClampedArray(px * px * 4).fill(255);
  for (let r = 0; r < side; r++) {
    for (let c = 0; c < side; c++) {
      if (light[r * side + c]) continue;
      for (let y = 0; y < SCALE_PX; y++) {
        const row = ((r + QUIET_MODULES) * SCALE_PX + y) * px;
        for (let x = 0; x < SCALE_PX; x++) {
          const o = (row + (c + QUIET_MODULES) * SCALE_PX + x) * 4;
          rgba[o] = 0;
          rgba[o + 1] = 0;
          rgba[o + 2] = 0;
        }
      }
    }
  }
  const found = jsQR(rgba, px, px, { inversionAttempts: 'dontInvert' });
  return found === null ? undefined : Uint8Array.from(found.binaryData);
}

/** Mismatches of the three 7x7 finder patterns (a cheap test before jsQR). */
function finderMismatches(light: Uint8Array, side: number, size: number): number {
  let bad = 0;
  for (const [r0, c0] of [
    [0, 0],
    [0, size - 7],
    [size - 7, 0],
  ] as const) {
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 7; c++) {
        const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
        const dark = ring !== 2;
        if ((light[(r0 + r) * side + c0 + c] === 0) !== dark) bad++;
      }
    }
  }
  return bad;
}

export type PaperExtract =
  | { ok: true; payload: Uint8Array; qrNcc: number; beta: number }
  | { ok: false; reason: 'no-payload' | 'corrupted'; message: string };

export function paperExtract(stego: PixelFrame, map: BlockMap, beta?: number): PaperExtract {
  let usable = 0;
  for (const u of map.usable) usable += u;
  let maxVersion = 0;
  while (maxVersion < 40 && (sideOfVersion(maxVersion + 1) / 4) ** 2 <= usable) maxVersion++;
  if (maxVersion === 0)
    return { ok: false, reason: 'no-payload', message: 'background too small for a QR code' };
  const blocks = usableBlockList(map, (sideOfVersion(maxVersion) / 4) ** 2);
  let sawFinders = false;
  for (const b of beta === undefined ? PAPER_BETAS : [beta]) {
    const bits = moduleBits(stego, map, blocks, b);
    for (let v = 1; v <= maxVersion; v++) {
      const side = sideOfVersion(v);
      const size = 17 + 4 * v;
      const light = qrImageFromBits(bits.subarray(0, (side / 4) ** 2 * 16), side);
      if (finderMismatches(light, side, size) > 20) continue;
      sawFinders = true;
      const decoded = decodeQr(light, side);
      if (decoded === undefined) continue;
      const expected = qrFor(decoded);
      const qrNcc = expected.side === side ? ncc(expected.light, light) : 0;
      return { ok: true, payload: decoded, qrNcc, beta: b };
    }
  }
  return sawFinders
    ? { ok: false, reason: 'corrupted', message: 'a QR code is present but does not decode' }
    : { ok: false, reason: 'no-payload', message: 'no paper-profile QR code found' };
}
