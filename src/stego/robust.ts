import { ESTIMATORS, type EstimatorName } from './block-estimators';
import type { KeyRing } from './key-ring';
import {
  FRAME_CLASSES,
  FRAME_OVERHEAD,
  decodeFrame,
  frameClassFor,
  robustCodeword,
} from './robust-frame';
import { applyShifts, planShifts, prepareBuckets, type Bucket } from './robust-shifts';
import { robustMaxShift } from './robust-strength';
import {
  CLIP,
  bitOf,
  chip,
  clip,
  layoutFor,
  leftBlock,
  project,
  unitValues,
  usableUnits,
  type Layout,
} from './robust-units';
import type { BlockMap, PixelFrame, SampleConstraints } from './types';

/**
 * The `robust` profile (docs/method.md). Carrier unit: a pair of horizontally adjacent usable
 * blocks; its value is level(left) - level(right), where a level is an order-statistic estimate of
 * the block (immune to clipping at the bottom of the range and to impulses). Embedding shifts the
 * left block by +d and the right by -d (DCT DC coefficients only), so the value moves by 2d while
 * the host level cancels (neighbouring background blocks have similar levels) and so does any
 * uniform bias of the noise. Coded bit j is spread over the units of its keyed bucket (absolute
 * layout) with keyed chips, and the embedder sets the mean of the chip-weighted, clipped unit
 * values to +a or -a (host cancellation, "improved spread spectrum"). The detector takes signs and
 * decodes the RS frame with erasures of the least reliable bytes (robust-frame.ts).
 */
export const ROBUST_TARGET_PSNR = 70.5;
export const ROBUST_MIN_PSNR = 70.05;
const EMBED_ESTIMATOR: EstimatorName = 'upperMid';
/** Fewer carrier units per coded bit than this and the profile is not offered. */
const MIN_UNITS_PER_BIT = 1;

export function robustCapacityBits(map: BlockMap, layoutKey: Uint8Array): number {
  const units = usableUnits(layoutFor(map, layoutKey), map);
  for (let c = FRAME_CLASSES.length - 1; c >= 0; c--) {
    const k = FRAME_CLASSES[c] as (typeof FRAME_CLASSES)[number];
    if (units >= MIN_UNITS_PER_BIT * 8 * (k.dataBytes + k.parityBytes))
      return 8 * (k.dataBytes - FRAME_OVERHEAD);
  }
  return 0;
}

export interface RobustEmbedOk {
  readonly ok: true;
  readonly samples: Int32Array;
  readonly embeddedBits: number;
  readonly blocksUsed: number;
  /** The amplitude a chosen (stored units of the unit value). */
  readonly amplitude: number;
  /** The largest shift of one block that was allowed (stored units). */
  readonly maxShift: number;
}

export interface RobustEmbedOptions {
  /**
   * The largest shift of one block, in stored units (default robustMaxShift: 2% of the image's
   * contrast). A caller whose segmenter reacts to the embedding may lower it; extraction needs
   * no record of it.
   */
  readonly maxShift?: number;
}
export interface RobustEmbedFail {
  readonly ok: false;
  readonly reason: 'capacity';
  readonly neededBits: number;
  readonly capacityBits: number;
  readonly message?: string;
}

/**
 * True when the clean stego image reads back with few byte errors: per bucket, the statistic from
 * the host values and the shifts actually applied must have the bit's sign and at least half the
 * amplitude; at most a quarter of the parity bytes may be hit (the rest is for the noise).
 */
function writtenWell(
  layout: Layout,
  buckets: readonly Bucket[],
  shift: Int32Array,
  map: BlockMap,
  amplitude: number,
  parityBytes: number,
): boolean {
  const badBytes = new Set<number>();
  buckets.forEach((bucket, j) => {
    if (bucket.units.length === 0) {
      badBytes.add(j >> 3);
      return;
    }
    let sum = 0;
    bucket.units.forEach((u, i) => {
      const left = leftBlock(layout, map, u);
      const moved = chip(layout, u) * ((shift[left] as number) - (shift[left + 1] as number));
      sum += clip((bucket.host[i] as number) + moved);
    });
    const statistic = sum / bucket.units.length;
    if ((bucket.bit ? statistic : -statistic) < amplitude / 2) badBytes.add(j >> 3);
  });
  return badBytes.size <= Math.floor(parityBytes / 4);
}

export function robustEmbed(
  cover: PixelFrame,
  map: BlockMap,
  payload: Uint8Array,
  ring: KeyRing,
  constraints: SampleConstraints,
  layoutKey: Uint8Array,
  options: RobustEmbedOptions = {},
): RobustEmbedOk | RobustEmbedFail {
  const capacityBits = robustCapacityBits(map, layoutKey);
  const codeword = robustCodeword(ring, payload);
  if (codeword === undefined || 8 * payload.length > capacityBits) {
    return { ok: false, reason: 'capacity', neededBits: 8 * payload.length, capacityBits };
  }
  const bits = codeword.length * 8;
  const layout = layoutFor(map, layoutKey);
  const minMax = new Int32Array(2 * map.usable.length);
  const values = unitValues(cover, map, layout, EMBED_ESTIMATOR, minMax);
  const units = usableUnits(layout, map);
  const pixels = cover.rows * cover.columns;
  const budget = (pixels * 65535 * 65535) / 10 ** (ROBUST_TARGET_PSNR / 10);
  const budgetMin = (pixels * 65535 * 65535) / 10 ** (ROBUST_MIN_PSNR / 10);
  const maxShift = Math.max(1, Math.floor(options.maxShift ?? robustMaxShift(cover, constraints)));
  const buckets = prepareBuckets(
    map,
    layout,
    values,
    minMax,
    codeword,
    bits,
    constraints,
    maxShift,
  );
  // Moving a unit value by a costs 2 blocks * 16 pixels * (a/2)^2. A unit value moves by at
  // least maxShift either way (by 2 maxShift where neither block sits at a range limit).
  let amplitude = Math.min(CLIP / 2, 0.75 * maxShift, Math.sqrt(budget / (8 * Math.max(1, units))));
  for (let attempt = 0; attempt < 12; attempt++) {
    const plan = planShifts(map, layout, buckets, amplitude);
    if (plan.cost > budgetMin && attempt < 11) {
      amplitude *= Math.max(0.5, Math.min(0.98, Math.sqrt(budget / plan.cost)));
      continue;
    }
    const samples = Int32Array.from(cover.samples);
    const blocksUsed = applyShifts(samples, cover, map, plan.shift, constraints);
    // Self-check: blocks pinned at the range limits or too varied may leave bits unwritten. The
    // statistic after embedding is exact (uniform shifts move order statistics exactly).
    if (
      !writtenWell(
        layout,
        buckets,
        plan.shift,
        map,
        amplitude,
        codeword.length - (frameClassFor(payload.length)?.dataBytes ?? 0),
      )
    )
      break;
    return { ok: true, samples, embeddedBits: bits, blocksUsed, amplitude, maxShift };
  }
  return {
    ok: false,
    reason: 'capacity',
    neededBits: 8 * payload.length,
    capacityBits,
    message:
      'the background cannot carry the robust frame (blocks pinned at the range limits or too varied)',
  };
}

export type RobustExtract =
  | { ok: true; payload: Uint8Array; keyId: string; correctedSymbols: number; erasures: number }
  | { ok: false; reason: 'no-payload' | 'wrong-key' | 'corrupted'; message: string };

/** Per coded bit statistics and the whitening, for diagnostics and tests. */
export function robustProjections(
  frame: PixelFrame,
  map: BlockMap,
  layoutKey: Uint8Array,
  estimator: EstimatorName,
  bits: number,
): { projection: Float64Array; whitening: Uint8Array } {
  const layout = layoutFor(map, layoutKey);
  const whitening = new Uint8Array(bits);
  for (let j = 0; j < bits; j++) whitening[j] = bitOf(layout.whitening, j);
  return {
    projection: project(layout, unitValues(frame, map, layout, estimator), bits),
    whitening,
  };
}

export function robustExtract(
  stego: PixelFrame,
  map: BlockMap,
  ring: KeyRing | undefined,
  layoutKey: Uint8Array,
): RobustExtract {
  const layout = layoutFor(map, layoutKey);
  let wrongKey: RobustExtract | undefined;
  if (usableUnits(layout, map) === 0)
    return { ok: false, reason: 'no-payload', message: 'no usable background' };
  for (const name of ESTIMATORS) {
    const values = unitValues(stego, map, layout, name);
    for (const cls of FRAME_CLASSES) {
      const n = cls.dataBytes + cls.parityBytes;
      const projection = project(layout, values, 8 * n);
      const bytes = new Array<number>(n).fill(0);
      const reliability = new Float64Array(n).fill(Infinity);
      for (let j = 0; j < 8 * n; j++) {
        const p = projection[j] as number;
        const known = !Number.isNaN(p);
        const bit = (known && p > 0 ? 1 : 0) ^ bitOf(layout.whitening, j);
        if (bit) bytes[j >> 3] = (bytes[j >> 3] as number) | (0x80 >> (j & 7));
        reliability[j >> 3] = Math.min(reliability[j >> 3] as number, known ? Math.abs(p) : 0);
      }
      const result = decodeFrame(bytes, reliability, cls, ring);
      if (result === undefined) continue;
      if (result.ok) return result;
      wrongKey ??= result;
    }
  }
  return wrongKey ?? { ok: false, reason: 'no-payload', message: 'no robust payload found' };
}

export { robustCodeword, frameClassFor };
