import { estimateSorted, sort16, type EstimatorName } from './block-estimators';
import { bucketStart, gridPermutation, keyedStream } from './layout';
import { BLOCK_SIZE, type BlockMap, type PixelFrame } from './types';

/**
 * Carrier units of the robust profile (robust.ts): pairs of horizontally adjacent blocks, their
 * keyed layout, chips and whitening, their values under a block-level estimator, and the per-bit
 * statistic (mean of chip x clipped unit value over the bit's bucket).
 */
/** Unit values are clipped here when combined: edge units and flipped-in blocks are outliers. */
export const CLIP = 160;
const LAYOUT_LABEL = 'robust-pairs';

export interface Layout {
  readonly halfColumns: number;
  readonly perm: Uint32Array;
  readonly chips: Uint8Array;
  /** Keyed whitening of the coded bits: a flat or empty image must not read as a codeword. */
  readonly whitening: Uint8Array;
}

export function layoutFor(map: BlockMap, layoutKey: Uint8Array): Layout {
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

export function bitOf(bytes: Uint8Array, j: number): number {
  return ((bytes[j >> 3] as number) >> (j & 7)) & 1;
}

export function chip(layout: Layout, unit: number): number {
  return bitOf(layout.chips, unit) ? 1 : -1;
}

/** Left block of a unit (the right one is +1). */
export function leftBlock(layout: Layout, map: BlockMap, unit: number): number {
  const by = Math.floor(unit / layout.halfColumns);
  return by * map.blockColumns + 2 * (unit - by * layout.halfColumns);
}

export function unitUsable(layout: Layout, map: BlockMap, unit: number): boolean {
  const b = leftBlock(layout, map, unit);
  return map.usable[b] === 1 && map.usable[b + 1] === 1;
}

export function usableUnits(layout: Layout, map: BlockMap): number {
  let n = 0;
  for (let u = 0; u < layout.perm.length; u++) if (unitUsable(layout, map, u)) n++;
  return n;
}

export function readBlock(
  frame: PixelFrame,
  map: BlockMap,
  block: number,
  out: Int32Array,
): number {
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
export function unitValues(
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

export function clip(v: number): number {
  return v < -CLIP ? -CLIP : v > CLIP ? CLIP : v;
}

/** Per coded bit: mean of chip * clipped unit value over the bucket's usable units. */
export function project(layout: Layout, values: Float64Array, bits: number): Float64Array {
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
