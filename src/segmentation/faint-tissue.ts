/**
 * Faint tissue on MR and other non-CT MONOCHROME2 frames: dim partial-volume tissue at the edge of a
 * body (5-15% of the frame's 99.5th percentile in the first and last coronal slices of the mouse MR)
 * lies below the model's noise floor, where the model sees nothing.
 *
 * Two users share this rule, and the stability of the block map rests on them sharing it:
 * - the pipeline (src/pipeline/frame-context.ts) keeps a block in the background only while at most
 *   QUIET_MAX_PER_BLOCK of its 16 samples reach the faint level (a quiet block) and most blocks
 *   around it are quiet too (isolatedQuietBlocks), and forbids the engine to move any sample up to
 *   that level, so a block's count can only fall: which blocks are quiet is the same on the stego
 *   frame (a block that is not quiet is never embedded into; one that is stays so);
 * - the onnx-maskrcnn segmenter grows its mask into the blocks where more than
 *   GROWTH_MIN_PER_BLOCK samples reach it (growIntoFaintTissue in postprocess.ts). Those blocks are
 *   never embedded into, and an embedded block (at most QUIET_MAX_PER_BLOCK, then fewer) never
 *   becomes one: the growth is the same on the stego frame as on the cover.
 * CT needs neither: below the -600 HU window lie air, padding and lung, never soft tissue.
 */
import { BLOCK_SIZE, type PixelFrame } from '../stego/types';
import { percentileOfSamples } from './preprocess';
import type { SegmentationContext } from './segmenter';

/** The faint level: this fraction of the frame's 99.5th percentile. */
export const QUIET_FRACTION = 0.05;
/** A block with more samples at the faint level than this is not background. */
export const QUIET_MAX_PER_BLOCK = 3;
/**
 * A block with more samples at the faint level than this is faint tissue to the segmenter (12 of 16:
 * dense signal; noise that reaches the level is sparse). At least QUIET_MAX_PER_BLOCK, or the growth
 * could move with the embedding.
 */
export const GROWTH_MIN_PER_BLOCK = 11;
/**
 * A quiet block (at most QUIET_MAX_PER_BLOCK faint samples) is background only where quiet blocks
 * are at least MIN_QUIET_SHARE of the blocks within ISOLATION_RADIUS_BLOCKS of it (a 5 x 5 block
 * neighbourhood, clipped at the frame's edge). Dim tissue that a segmenter misses is mostly faint
 * blocks with a quiet one here and there where its noise dips (the low-signal muscle of a shoulder
 * MR at about 7% of the percentile, formats/pydicom-data/MR2_*.dcm); background is mostly quiet.
 */
export const ISOLATION_RADIUS_BLOCKS = 2;
export const MIN_QUIET_SHARE = 0.5;

export interface FaintTissueLevel {
  /** The smallest stored value that may be faint tissue. */
  readonly from: number;
  /** The frame's 99.5th percentile (at least `from`). */
  readonly percentile: number;
}

/**
 * The faint level of a frame; undefined for CT and for anything but MONOCHROME2 (the rule then does
 * not apply, and neither does the growth).
 */
export function faintTissueLevel(
  frame: PixelFrame,
  context: SegmentationContext,
): FaintTissueLevel | undefined {
  if (context.modality === 'CT' || context.photometricInterpretation !== 'MONOCHROME2') {
    return undefined;
  }
  // A blank frame (percentile 0) gets the rule too, at 1: were it left out, its stego frame (a
  // few samples at 1) would get it at extraction and another map. Nothing may then be written into
  // it, which is a refusal (PAYLOAD_TOO_LARGE), not a map that moves.
  const p = percentileOfSamples(frame.samples, context.padding, 99.5);
  const from = Math.max(1, Math.ceil(QUIET_FRACTION * p));
  return { from, percentile: Math.max(from, p) };
}

/**
 * Per whole 4 x 4 block (row-major, floor(rows / 4) x floor(columns / 4)): how many of its samples
 * reach the faint level, 16 where one reaches the percentile (such a block is never embedded into,
 * so that no embedded sample can move the percentile).
 */
export function faintSamplesPerBlock(frame: PixelFrame, level: FaintTissueLevel): Uint8Array {
  const { rows, columns, samples } = frame;
  const { from, percentile } = level;
  const blockRows = Math.floor(rows / BLOCK_SIZE);
  const blockColumns = Math.floor(columns / BLOCK_SIZE);
  const counts = new Uint8Array(blockRows * blockColumns);
  for (let b = 0; b < blockRows; b++) {
    for (let y = b * BLOCK_SIZE; y < (b + 1) * BLOCK_SIZE; y++) {
      const row = y * columns;
      for (let c = 0; c < blockColumns; c++) {
        let n = counts[b * blockColumns + c] as number;
        for (let x = c * BLOCK_SIZE; x < (c + 1) * BLOCK_SIZE; x++) {
          const v = samples[row + x] as number;
          if (v >= percentile) n = BLOCK_SIZE * BLOCK_SIZE;
          else if (v >= from && n < BLOCK_SIZE * BLOCK_SIZE) n++;
        }
        counts[b * blockColumns + c] = n;
      }
    }
  }
  return counts;
}

/**
 * Per block, 1 where the block is quiet (count at most QUIET_MAX_PER_BLOCK) but quiet blocks are
 * fewer than MIN_QUIET_SHARE of its neighbourhood (ISOLATION_RADIUS_BLOCKS, clipped at the edges):
 * a dip in tissue rather than background. It reads only which blocks are quiet, which embedding
 * cannot change, so it is the same on the stego frame.
 */
export function isolatedQuietBlocks(
  counts: Uint8Array,
  blockRows: number,
  blockColumns: number,
): Uint8Array {
  const out = new Uint8Array(counts.length);
  // Summed-area table of quiet blocks: (blockRows + 1) x (blockColumns + 1).
  const w = blockColumns + 1;
  const sat = new Int32Array((blockRows + 1) * w);
  for (let y = 0; y < blockRows; y++) {
    let run = 0;
    for (let x = 0; x < blockColumns; x++) {
      if ((counts[y * blockColumns + x] as number) <= QUIET_MAX_PER_BLOCK) run++;
      sat[(y + 1) * w + x + 1] = (sat[y * w + x + 1] as number) + run;
    }
  }
  const r = ISOLATION_RADIUS_BLOCKS;
  for (let y = 0; y < blockRows; y++) {
    const y0 = Math.max(0, y - r);
    const y1 = Math.min(blockRows, y + r + 1);
    for (let x = 0; x < blockColumns; x++) {
      if ((counts[y * blockColumns + x] as number) > QUIET_MAX_PER_BLOCK) continue;
      const x0 = Math.max(0, x - r);
      const x1 = Math.min(blockColumns, x + r + 1);
      const quiet =
        (sat[y1 * w + x1] as number) -
        (sat[y0 * w + x1] as number) -
        (sat[y1 * w + x0] as number) +
        (sat[y0 * w + x0] as number);
      if (quiet < MIN_QUIET_SHARE * (y1 - y0) * (x1 - x0)) out[y * blockColumns + x] = 1;
    }
  }
  return out;
}
