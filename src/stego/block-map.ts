import { BLOCK_SIZE, type BlockMap, type SignificanceMask } from './types';

export interface BlockMapOptions {
  /** Safety margin in pixels around the significant region (default 4). */
  readonly marginPx?: number;
  /** Optional per-pixel mask of pixels that must never change (1 = frozen), e.g. padding. */
  readonly frozen?: Uint8Array;
}

export const DEFAULT_MARGIN_PX = 4;

/**
 * Blocks that may carry data: 4x4 blocks lying wholly in the background, at least `marginPx` pixels
 * (Chebyshev distance) from every significant pixel, containing no frozen pixel. Partial blocks at
 * the right and bottom edges never count.
 *
 * Dilation by a square of radius `marginPx` is separable: a row pass then a column pass of running
 * maxima, O(rows * columns) whatever the margin.
 */
export function blockMapFromMask(mask: SignificanceMask, options: BlockMapOptions = {}): BlockMap {
  const marginPx = options.marginPx ?? DEFAULT_MARGIN_PX;
  if (!Number.isInteger(marginPx) || marginPx < 0) {
    throw new RangeError(`marginPx must be a non-negative integer [${marginPx}]`);
  }
  const { rows, columns } = mask;
  const dilated = dilateSquare(mask.data, rows, columns, marginPx);
  const frozen = options.frozen;
  const blockRows = Math.floor(rows / BLOCK_SIZE);
  const blockColumns = Math.floor(columns / BLOCK_SIZE);
  const usable = new Uint8Array(blockRows * blockColumns);
  for (let by = 0; by < blockRows; by++) {
    for (let bx = 0; bx < blockColumns; bx++) {
      let free = 1;
      for (let y = by * BLOCK_SIZE; y < (by + 1) * BLOCK_SIZE && free; y++) {
        const row = y * columns;
        for (let x = bx * BLOCK_SIZE; x < (bx + 1) * BLOCK_SIZE; x++) {
          if (dilated[row + x] !== 0 || (frozen !== undefined && frozen[row + x] !== 0)) {
            free = 0;
            break;
          }
        }
      }
      usable[by * blockColumns + bx] = free;
    }
  }
  return { blockRows, blockColumns, usable };
}

/** Binary dilation by a (2r+1)x(2r+1) square. */
export function dilateSquare(
  data: Uint8Array,
  rows: number,
  columns: number,
  radius: number,
): Uint8Array {
  if (radius === 0) return Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0));
  const horizontal = new Uint8Array(rows * columns);
  for (let y = 0; y < rows; y++) {
    runningMax(data, horizontal, y * columns, 1, columns, radius);
  }
  const out = new Uint8Array(rows * columns);
  for (let x = 0; x < columns; x++) {
    runningMax(horizontal, out, x, columns, rows, radius);
  }
  return out;
}

/** out[i] = 1 if any input within `radius` steps along one line is non-zero. */
function runningMax(
  input: Uint8Array,
  out: Uint8Array,
  start: number,
  stride: number,
  length: number,
  radius: number,
): void {
  // Distance to the last set pixel seen, in a forward then a backward sweep.
  let last = -Infinity;
  for (let i = 0; i < length; i++) {
    if (input[start + i * stride] !== 0) last = i;
    if (i - last <= radius) out[start + i * stride] = 1;
  }
  last = Infinity;
  for (let i = length - 1; i >= 0; i--) {
    if (input[start + i * stride] !== 0) last = i;
    if (last - i <= radius) out[start + i * stride] = 1;
  }
}

/** Number of usable blocks. */
export function countUsableBlocks(map: BlockMap): number {
  let n = 0;
  for (const v of map.usable) n += v;
  return n;
}

/**
 * 1 for every pixel whose centre lies in the convex hull of the significant pixels (each pixel a
 * unit square), 0 elsewhere; all zero for an empty mask. What the body's outline wraps around (the
 * air between the arms and the trunk, a lung cut by the frame's edge that reads as air) is kept out
 * of the map as if it were body: a segmenter cannot tell such air from the background, and what it
 * costs is small (models/README.md). Only each row's outermost significant pixels can be hull
 * vertices, so at most 4 corners per row end are sorted (Andrew's monotone chain).
 */
export function convexHullMask(data: Uint8Array, rows: number, columns: number): Uint8Array {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    let first = -1;
    let last = -1;
    for (let x = 0; x < columns; x++) {
      if (data[row + x] === 0) continue;
      if (first < 0) first = x;
      last = x;
    }
    if (first < 0) continue;
    xs.push(first, first, last + 1, last + 1);
    ys.push(y, y + 1, y, y + 1);
  }
  const out = new Uint8Array(rows * columns);
  if (xs.length === 0) return out;
  const order = xs
    .map((_, i) => i)
    .sort((a, b) => (xs[a] as number) - (xs[b] as number) || (ys[a] as number) - (ys[b] as number));
  const cross = (o: number, a: number, b: number): number =>
    ((xs[a] as number) - (xs[o] as number)) * ((ys[b] as number) - (ys[o] as number)) -
    ((ys[a] as number) - (ys[o] as number)) * ((xs[b] as number) - (xs[o] as number));
  const chain = (indices: readonly number[]): number[] => {
    const h: number[] = [];
    for (const p of indices) {
      while (h.length >= 2 && cross(h[h.length - 2] as number, h[h.length - 1] as number, p) <= 0)
        h.pop();
      h.push(p);
    }
    h.pop();
    return h;
  };
  const hull = [...chain(order), ...chain([...order].reverse())];
  // Each row: the hull's extent along the line through the pixel centres (y + 0.5).
  for (let y = 0; y < rows; y++) {
    const yc = y + 0.5;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < hull.length; k++) {
      const a = hull[k] as number;
      const b = hull[(k + 1) % hull.length] as number;
      const ya = ys[a] as number;
      const yb = ys[b] as number;
      if ((yc < ya && yc < yb) || (yc > ya && yc > yb)) continue;
      const xa = xs[a] as number;
      const xb = xs[b] as number;
      if (ya === yb) {
        lo = Math.min(lo, xa, xb);
        hi = Math.max(hi, xa, xb);
      } else {
        const x = xa + ((yc - ya) * (xb - xa)) / (yb - ya);
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
    if (lo > hi) continue;
    // Pixels whose centre x + 0.5 lies in [lo, hi].
    const from = Math.max(0, Math.ceil(lo - 0.5));
    const to = Math.min(columns - 1, Math.floor(hi - 0.5));
    if (from <= to) out.fill(1, y * columns + from, y * columns + to + 1);
  }
  return out;
}
