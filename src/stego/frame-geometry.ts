import { BLOCK_SIZE, type BlockMap, type PixelFrame } from './types';

/** Pixel indices (row-major into the frame) of the given grid blocks, 16 per block in raster order. */
export function blockPixels(
  frame: Pick<PixelFrame, 'columns'>,
  map: Pick<BlockMap, 'blockColumns'>,
  blocks: ArrayLike<number>,
  out?: Int32Array,
): Int32Array {
  const pixels = out ?? new Int32Array(blocks.length * 16);
  let n = 0;
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b] as number;
    const by = Math.floor(block / map.blockColumns);
    const bx = block - by * map.blockColumns;
    const base = by * BLOCK_SIZE * frame.columns + bx * BLOCK_SIZE;
    for (let y = 0; y < BLOCK_SIZE; y++) {
      const row = base + y * frame.columns;
      for (let x = 0; x < BLOCK_SIZE; x++) pixels[n++] = row + x;
    }
  }
  return pixels;
}

/** Checks that a block map fits the frame; returns a message naming the mismatch, or undefined. */
export function mapMismatch(frame: PixelFrame, map: BlockMap): string | undefined {
  if (frame.samples.length !== frame.rows * frame.columns) {
    return `samples length does not match rows x columns [${frame.samples.length} vs ${frame.rows}x${frame.columns}]`;
  }
  if (
    map.blockRows !== Math.floor(frame.rows / BLOCK_SIZE) ||
    map.blockColumns !== Math.floor(frame.columns / BLOCK_SIZE)
  ) {
    return `block map ${map.blockRows}x${map.blockColumns} does not match a ${frame.rows}x${frame.columns} frame`;
  }
  if (map.usable.length !== map.blockRows * map.blockColumns) {
    return `block map usable length [${map.usable.length}] is not ${map.blockRows}x${map.blockColumns}`;
  }
  return undefined;
}
