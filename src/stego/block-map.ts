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
