import { allowed } from './ternary';
import { BLOCK_SIZE, type BlockMap, type PixelFrame, type SampleConstraints } from './types';
import { CLIP, bitOf, chip, clip, leftBlock, type Layout } from './robust-units';
import { bucketStart } from './layout';

/**
 * The robust embedder's shift planning: per coded bit, the common move of its units that puts the
 * bucket statistic on +a or -a, split into block shifts within the stored range, and applied.
 */
/**
 * Range of a block's own shift [min, max] keeping it inside the stored range and within
 * +-maxShift (robust-strength.ts). Integers, and 0 always inside.
 */
export function ownBounds(
  minMax: Int32Array,
  block: number,
  c: SampleConstraints,
  maxShift = Infinity,
): [number, number] {
  return [
    Math.min(0, Math.max(-maxShift, c.minValue - (minMax[2 * block] as number))),
    Math.max(0, Math.min(maxShift, c.maxValue - (minMax[2 * block + 1] as number))),
  ];
}

/** Per coded bit: its units, their host values, move bounds and block bounds (amplitude-free). */
export interface Bucket {
  readonly bit: number;
  readonly units: number[];
  readonly host: number[];
  readonly lo: number[];
  readonly hi: number[];
  readonly boundsL: [number, number][];
  readonly boundsR: [number, number][];
}

export function prepareBuckets(
  map: BlockMap,
  layout: Layout,
  values: Float64Array,
  minMax: Int32Array,
  codeword: readonly number[],
  bits: number,
  constraints: SampleConstraints,
  maxShift = Infinity,
): Bucket[] {
  const total = layout.perm.length;
  const buckets: Bucket[] = [];
  for (let j = 0; j < bits; j++) {
    const bit = (((codeword[j >> 3] as number) >> (7 - (j & 7))) & 1) ^ bitOf(layout.whitening, j);
    const bucket: Bucket = { bit, units: [], host: [], lo: [], hi: [], boundsL: [], boundsR: [] };
    for (let q = bucketStart(j, total, bits); q < bucketStart(j + 1, total, bits); q++) {
      const u = layout.perm[q] as number;
      const value = values[u] as number;
      if (Number.isNaN(value)) continue;
      const s = chip(layout, u);
      const h = s * value;
      const left = leftBlock(layout, map, u);
      const lb = ownBounds(minMax, left, constraints, maxShift);
      const rb = ownBounds(minMax, left + 1, constraints, maxShift);
      // Move m = s * w of h; w in [lL - rMax, lMax - rMin]. A saturated unit is left alone.
      const wLo = lb[0] - rb[1];
      const wHi = lb[1] - rb[0];
      const saturated = Math.abs(h) >= CLIP;
      bucket.units.push(u);
      bucket.host.push(h);
      bucket.lo.push(saturated ? 0 : s > 0 ? wLo : -wHi);
      bucket.hi.push(saturated ? 0 : s > 0 ? wHi : -wLo);
      bucket.boundsL.push(lb);
      bucket.boundsR.push(rb);
    }
    buckets.push(bucket);
  }
  return buckets;
}

export function planShifts(
  map: BlockMap,
  layout: Layout,
  buckets: readonly Bucket[],
  amplitude: number,
): { shift: Int32Array; cost: number } {
  const shift = new Int32Array(map.usable.length);
  let cost = 0;
  for (const { bit, units, host, lo, hi, boundsL, boundsR } of buckets) {
    if (units.length === 0) continue;
    const lambda = solveShift(host, lo, hi, bit ? amplitude : -amplitude);
    for (let i = 0; i < units.length; i++) {
      const u = units[i] as number;
      // The move is rounded before it is split (the bounds are integers, so the integer split
      // keeps dL - dR = w exactly): at small strengths, rounding each half lost whole moves.
      const w = Math.round(chip(layout, u) * clampTo(lambda, lo[i] as number, hi[i] as number));
      if (w === 0) continue;
      const bl = boundsL[i] as [number, number];
      const br = boundsR[i] as [number, number];
      const dL = clampTo(Math.round(w / 2), Math.max(bl[0], w + br[0]), Math.min(bl[1], w + br[1]));
      const left = leftBlock(layout, map, u);
      shift[left] = dL;
      shift[left + 1] = dL - w;
      cost += 16 * ((shift[left] as number) ** 2 + (shift[left + 1] as number) ** 2);
    }
  }
  return { shift, cost };
}

export function clampTo(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The common move lambda (clamped per unit) that puts the clipped mean on `target`; bisection.
 * Where no move reaches it, +-CLIP in the target's direction.
 */
export function solveShift(
  host: readonly number[],
  lo: readonly number[],
  hi: readonly number[],
  target: number,
): number {
  const mean = (lambda: number): number => {
    let s = 0;
    for (let i = 0; i < host.length; i++)
      s += clip((host[i] as number) + clampTo(lambda, lo[i] as number, hi[i] as number));
    return s / host.length;
  };
  let a = -2 * CLIP;
  let b = 2 * CLIP;
  // Out of reach (saturated units of the other sign dominate a small bucket): move the others as
  // far as one clip width, which gives the bit its sign wherever that can be had.
  if (mean(b) < target) return CLIP;
  if (mean(a) > target) return -CLIP;
  for (let it = 0; it < 20; it++) {
    const mid = (a + b) / 2;
    if (mean(mid) < target) a = mid;
    else b = mid;
  }
  return b;
}

/** Applies the block shifts; one that would produce a forbidden value shrinks towards 0. */
export function applyShifts(
  samples: Int32Array,
  frame: PixelFrame,
  map: BlockMap,
  shift: Int32Array,
  c: SampleConstraints,
): number {
  let used = 0;
  for (let block = 0; block < shift.length; block++) {
    let d = shift[block] as number;
    if (d === 0) continue;
    const base = blockBase(frame, map, block);
    // The planned shifts keep every block inside the stored range; only forbidden values remain.
    while (d !== 0 && c.forbidden.length > 0 && !blockAllowed(samples, frame.columns, base, d, c)) {
      d -= Math.sign(d);
    }
    shift[block] = d;
    if (d === 0) continue;
    addToBlock(samples, frame.columns, base, d);
    used++;
  }
  return used;
}

export function blockBase(frame: PixelFrame, map: BlockMap, block: number): number {
  const by = Math.floor(block / map.blockColumns);
  return by * BLOCK_SIZE * frame.columns + (block - by * map.blockColumns) * BLOCK_SIZE;
}

export function addToBlock(samples: Int32Array, columns: number, base: number, d: number): void {
  for (let y = 0; y < BLOCK_SIZE; y++) {
    const row = base + y * columns;
    for (let x = 0; x < BLOCK_SIZE; x++) samples[row + x] = (samples[row + x] as number) + d;
  }
}

export function blockAllowed(
  samples: Int32Array,
  columns: number,
  base: number,
  d: number,
  c: SampleConstraints,
): boolean {
  for (let y = 0; y < BLOCK_SIZE; y++) {
    for (let x = 0; x < BLOCK_SIZE; x++)
      if (!allowed((samples[base + y * columns + x] as number) + d, c)) return false;
  }
  return true;
}
