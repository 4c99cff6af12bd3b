import { ESTIMATORS, estimateSorted, sort16, type EstimatorName } from './block-estimators';
import type { KeyRing } from './key-ring';
import { bucketStart, gridPermutation, keyedStream } from './layout';
import {
  FRAME_CLASSES,
  FRAME_OVERHEAD,
  decodeFrame,
  frameClassFor,
  robustCodeword,
} from './robust-frame';
import { allowed } from './ternary';
import { BLOCK_SIZE, type BlockMap, type PixelFrame, type SampleConstraints } from './types';

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
/** Unit values are clipped here when combined: edge units and flipped-in blocks are outliers. */
const CLIP = 160;
const EMBED_ESTIMATOR: EstimatorName = 'upperMid';
const LAYOUT_LABEL = 'robust-pairs';
/** Fewer carrier units per coded bit than this and the profile is not offered. */
const MIN_UNITS_PER_BIT = 1;

interface Layout {
  readonly halfColumns: number;
  readonly perm: Uint32Array;
  readonly chips: Uint8Array;
  /** Keyed whitening of the coded bits: a flat or empty image must not read as a codeword. */
  readonly whitening: Uint8Array;
}

function layoutFor(map: BlockMap, layoutKey: Uint8Array): Layout {
  const halfColumns = Math.floor(map.blockColumns / 2);
  const perm = gridPermutation(layoutKey, LAYOUT_LABEL, map.blockRows, halfColumns);
  const chips = keyedStream(
    layoutKey,
    'robust-chips',
    map.blockRows,
    halfColumns,
    Math.ceil(perm.length / 8) + 1,
  );
  const whitening = keyedStream(layoutKey, 'robust-whitening', map.blockRows, halfColumns, 128);
  return { halfColumns, perm, chips, whitening };
}

function bitOf(bytes: Uint8Array, j: number): number {
  return ((bytes[j >> 3] as number) >> (j & 7)) & 1;
}

function chip(layout: Layout, unit: number): number {
  return bitOf(layout.chips, unit) ? 1 : -1;
}

/** Left block of a unit (the right one is +1). */
function leftBlock(layout: Layout, map: BlockMap, unit: number): number {
  const by = Math.floor(unit / layout.halfColumns);
  return by * map.blockColumns + 2 * (unit - by * layout.halfColumns);
}

function unitUsable(layout: Layout, map: BlockMap, unit: number): boolean {
  const b = leftBlock(layout, map, unit);
  return map.usable[b] === 1 && map.usable[b + 1] === 1;
}

function usableUnits(layout: Layout, map: BlockMap): number {
  let n = 0;
  for (let u = 0; u < layout.perm.length; u++) if (unitUsable(layout, map, u)) n++;
  return n;
}

export function robustCapacityBits(map: BlockMap, layoutKey: Uint8Array): number {
  const units = usableUnits(layoutFor(map, layoutKey), map);
  for (let c = FRAME_CLASSES.length - 1; c >= 0; c--) {
    const k = FRAME_CLASSES[c] as (typeof FRAME_CLASSES)[number];
    if (units >= MIN_UNITS_PER_BIT * 8 * (k.dataBytes + k.parityBytes))
      return 8 * (k.dataBytes - FRAME_OVERHEAD);
  }
  return 0;
}

function readBlock(frame: PixelFrame, map: BlockMap, block: number, out: Int32Array): number {
  const by = Math.floor(block / map.blockColumns);
  const bx = block - by * map.blockColumns;
  const base = by * BLOCK_SIZE * frame.columns + bx * BLOCK_SIZE;
  let n = 0;
  for (let y = 0; y < BLOCK_SIZE; y++) {
    const row = base + y * frame.columns;
    for (let x = 0; x < BLOCK_SIZE; x++) out[n++] = frame.samples[row + x] as number;
  }
  return base;
}

/** Unit values (NaN where not usable) under an estimator. */
function unitValues(
  frame: PixelFrame,
  map: BlockMap,
  layout: Layout,
  name: EstimatorName,
  minMax?: Int32Array,
): Float64Array {
  const out = new Float64Array(layout.perm.length).fill(NaN);
  const v = new Int32Array(16);
  for (let u = 0; u < out.length; u++) {
    if (!unitUsable(layout, map, u)) continue;
    const b = leftBlock(layout, map, u);
    let level = 0;
    for (let side = 0; side < 2; side++) {
      readBlock(frame, map, b + side, v);
      sort16(v);
      level += (side === 0 ? 1 : -1) * estimateSorted(v, name);
      if (minMax !== undefined) {
        minMax[2 * (b + side)] = v[0] as number;
        minMax[2 * (b + side) + 1] = v[15] as number;
      }
    }
    out[u] = level;
  }
  return out;
}

function clip(v: number): number {
  return v < -CLIP ? -CLIP : v > CLIP ? CLIP : v;
}

/** Per coded bit: mean of chip * clipped unit value over the bucket's usable units. */
function project(layout: Layout, values: Float64Array, bits: number): Float64Array {
  const total = layout.perm.length;
  const out = new Float64Array(bits).fill(NaN);
  for (let j = 0; j < bits; j++) {
    let sum = 0;
    let r = 0;
    for (let q = bucketStart(j, total, bits); q < bucketStart(j + 1, total, bits); q++) {
      const u = layout.perm[q] as number;
      const value = values[u] as number;
      if (Number.isNaN(value)) continue;
      sum += clip(chip(layout, u) * value);
      r++;
    }
    if (r > 0) out[j] = sum / r;
  }
  return out;
}

export interface RobustEmbedOk {
  readonly ok: true;
  readonly samples: Int32Array;
  readonly embeddedBits: number;
  readonly blocksUsed: number;
  /** The amplitude a chosen (stored units of the unit value). */
  readonly amplitude: number;
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
  const buckets = prepareBuckets(map, layout, values, minMax, codeword, bits, constraints);
  // Moving a unit value by a costs 2 blocks * 16 pixels * (a/2)^2.
  let amplitude = Math.min(CLIP / 2, Math.sqrt(budget / (8 * Math.max(1, units))));
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
    return { ok: true, samples, embeddedBits: bits, blocksUsed, amplitude };
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

/** Range of a block's own shift [min, max] keeping it inside the stored range. */
function ownBounds(minMax: Int32Array, block: number, c: SampleConstraints): [number, number] {
  return [
    c.minValue - (minMax[2 * block] as number),
    c.maxValue - (minMax[2 * block + 1] as number),
  ];
}

/**
 * Splits a move w of a unit value (left - right) into block shifts: dL - dR = w with dL^2 + dR^2
 * smallest within each block's bounds (half each way when the range allows; near the bottom of the
 * stored range, e.g. air at 0, the other block takes the rest).
 */
function split(
  w: number,
  l: readonly [number, number],
  r: readonly [number, number],
): [number, number] {
  const dL = clampTo(w / 2, Math.max(l[0], w + r[0]), Math.min(l[1], w + r[1]));
  return [dL, dL - w];
}

/** Per coded bit: its units, their host values, move bounds and block bounds (amplitude-free). */
interface Bucket {
  readonly bit: number;
  readonly units: number[];
  readonly host: number[];
  readonly lo: number[];
  readonly hi: number[];
  readonly boundsL: [number, number][];
  readonly boundsR: [number, number][];
}

function prepareBuckets(
  map: BlockMap,
  layout: Layout,
  values: Float64Array,
  minMax: Int32Array,
  codeword: readonly number[],
  bits: number,
  constraints: SampleConstraints,
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
      const lb = ownBounds(minMax, left, constraints);
      const rb = ownBounds(minMax, left + 1, constraints);
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

function planShifts(
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
    if (lambda === undefined) continue;
    for (let i = 0; i < units.length; i++) {
      const u = units[i] as number;
      const w = chip(layout, u) * clampTo(lambda, lo[i] as number, hi[i] as number);
      if (w === 0) continue;
      const [dL, dR] = split(w, boundsL[i] as [number, number], boundsR[i] as [number, number]);
      const left = leftBlock(layout, map, u);
      shift[left] = Math.round(dL);
      shift[left + 1] = Math.round(dR);
      cost += 16 * ((shift[left] as number) ** 2 + (shift[left + 1] as number) ** 2);
    }
  }
  return { shift, cost };
}

function clampTo(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** The common move lambda (clamped per unit) that puts the clipped mean on `target`; bisection. */
function solveShift(
  host: readonly number[],
  lo: readonly number[],
  hi: readonly number[],
  target: number,
): number | undefined {
  const mean = (lambda: number): number => {
    let s = 0;
    for (let i = 0; i < host.length; i++)
      s += clip((host[i] as number) + clampTo(lambda, lo[i] as number, hi[i] as number));
    return s / host.length;
  };
  let a = -2 * CLIP;
  let b = 2 * CLIP;
  if (mean(a) > target || mean(b) < target) return undefined;
  for (let it = 0; it < 20; it++) {
    const mid = (a + b) / 2;
    if (mean(mid) < target) a = mid;
    else b = mid;
  }
  return b;
}

/** Applies the block shifts; one that would produce a forbidden value shrinks towards 0. */
function applyShifts(
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

function blockBase(frame: PixelFrame, map: BlockMap, block: number): number {
  const by = Math.floor(block / map.blockColumns);
  return by * BLOCK_SIZE * frame.columns + (block - by * map.blockColumns) * BLOCK_SIZE;
}

function addToBlock(samples: Int32Array, columns: number, base: number, d: number): void {
  for (let y = 0; y < BLOCK_SIZE; y++) {
    const row = base + y * columns;
    for (let x = 0; x < BLOCK_SIZE; x++) samples[row + x] = (samples[row + x] as number) + d;
  }
}

function blockAllowed(
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
