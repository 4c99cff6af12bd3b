import { paddingMask, type DicomImage } from '../dicom';
import type { SegmentationContext, Segmenter } from '../segmentation/segmenter';
import { blockMapFromMask, convexHullMask } from '../stego/block-map';
import {
  faintSamplesPerBlock,
  faintTissueLevel,
  isolatedQuietBlocks,
  QUIET_MAX_PER_BLOCK,
  type FaintTissueLevel,
} from '../segmentation/faint-tissue';
import {
  BLOCK_SIZE,
  type BlockMap,
  type PixelFrame,
  type SampleConstraints,
  type SignificanceMask,
} from '../stego/types';
import { pipelineError } from './pipeline-error';

/** What segmentation and the block map see of one frame. */
export interface FrameAnalysis {
  readonly mask: SignificanceMask;
  readonly map: BlockMap;
  /**
   * The stored values the segmenter cannot tell apart on this frame (Segmenter.insensitiveRange):
   * when present, the map holds only blocks whose every sample lies in it, and an embedding that
   * keeps them there cannot change the mask, so the stego frame gives this same map.
   */
  readonly insensitiveRange?: readonly [number, number];
  /**
   * Non-CT frames: the smallest stored value that may be faint tissue (QUIET_FRACTION of the frame's
   * 99.5th percentile). Blocks with more than QUIET_MAX_PER_BLOCK such samples are left out of the
   * map, and no embedded sample reaches it.
   */
  readonly faintTissueFrom?: number;
  /**
   * Present when the insensitive range, the faint-tissue rule or the convex hull left blocks out: builds the map
   * without them (mask, margin and padding only), on demand, since only a failed extraction needs
   * it. Extraction falls back to it when the exact map reads nothing: on a noisy copy, noise makes
   * background samples visible and drops their blocks from the exact map; the sealed profiles
   * authenticate whatever a map reads, so a second try is safe.
   */
  readonly looseMap?: () => BlockMap;
}

/**
 * A safety net under the segmenter, for MR and other non-CT frames (src/segmentation/faint-tissue.ts):
 * dim tissue at the edge of a body can be missed by a segmenter, and its samples, invisible to the
 * model below its noise floor, would otherwise be embedded into. A block counts as background only
 * while at most QUIET_MAX_PER_BLOCK of its 16 samples reach QUIET_FRACTION of the percentile
 * (isolated noise spikes do, tissue does throughout) and most blocks around it are quiet too (a
 * quiet block amid faint ones is a dip in tissue, not background), and the engine may not move a
 * sample up to that value, so the count can only fall and the map stays the same at extraction. The
 * onnx-maskrcnn segmenter's faint-tissue growth relies on the same rule.
 */
export { QUIET_FRACTION, QUIET_MAX_PER_BLOCK } from '../segmentation/faint-tissue';

export function segmentationContext(
  image: DicomImage,
  padding: Uint8Array | undefined,
): SegmentationContext {
  return {
    modality: image.modality,
    rescaleSlope: image.rescaleSlope,
    rescaleIntercept: image.rescaleIntercept,
    photometricInterpretation: image.photometricInterpretation,
    ...(padding === undefined ? {} : { padding }),
  };
}

/**
 * Hounsfield units below which a CT pixel is padding when the header declares padding: no tissue,
 * air included (-1000 HU), lies there, while the padding of a circular field of view (stored e.g.
 * as -2000, i.e. -3024 HU) stays below it under the paper's noise (sigma 147 stored units), where it
 * no longer equals the padding value.
 */
export const CT_PADDING_BELOW_HU = -1500;

/**
 * The frame's padding (1 = padding) when the header declares Pixel Padding Value (and Range Limit):
 * the declared values, and on CT also every pixel below CT_PADDING_BELOW_HU, so that an image whose
 * padding was moved off its value by noise still freezes it at extraction. On a clean CT the two
 * coincide (the test checks every CT file of ../shared/data), so the embedding's map is unchanged.
 */
export function framePadding(image: DicomImage, frame: PixelFrame): Uint8Array | undefined {
  const exact = paddingMask(frame, image.paddingRange);
  if (exact === undefined || image.modality !== 'CT') return exact;
  const slope = image.rescaleSlope === 0 ? 1 : image.rescaleSlope;
  const s = frame.samples;
  for (let i = 0; i < s.length; i++) {
    if ((s[i] as number) * slope + image.rescaleIntercept < CT_PADDING_BELOW_HU) exact[i] = 1;
  }
  return exact;
}

/**
 * Segments a frame and derives its block map: blocks wholly in the background, `marginPx` away from
 * the mask, free of padding. The same function runs at embedding and at extraction, so that both
 * see the same map when the segmentation is stable.
 */
export async function analyseFrame(
  image: DicomImage,
  frame: PixelFrame,
  segmenter: Segmenter,
  marginPx: number,
): Promise<FrameAnalysis> {
  const padding = framePadding(image, frame);
  const context = segmentationContext(image, padding);
  const mask = await segmenter.segment(frame, context);
  if (
    mask.rows !== frame.rows ||
    mask.columns !== frame.columns ||
    mask.data.length !== frame.rows * frame.columns
  ) {
    throw pipelineError(
      'SEGMENTER_FAILED',
      `segmenter [${segmenter.name}] returned a ${mask.rows}x${mask.columns} mask for a ${frame.rows}x${frame.columns} frame`,
    );
  }
  const insensitive = segmenter.insensitiveRange?.(frame, context);
  let frozen = insensitive === undefined ? padding : visibleOrPadding(frame, insensitive, padding);
  const faint = faintTissueLevel(frame, context);
  const faintTissueFrom = faint?.from;
  if (faint !== undefined) frozen = freezeFaintTissueBlocks(frame, faint, frozen);
  frozen = freezeConvexHull(mask, frozen);
  const map = blockMapFromMask(mask, {
    marginPx,
    ...(frozen === undefined ? {} : { frozen }),
  });
  const looseMap =
    frozen === padding
      ? undefined
      : () =>
          blockMapFromMask(mask, {
            marginPx,
            ...(padding === undefined ? {} : { frozen: padding }),
          });
  return {
    mask,
    map,
    ...(looseMap === undefined ? {} : { looseMap }),
    ...(insensitive === undefined ? {} : { insensitiveRange: insensitive }),
    ...(faintTissueFrom === undefined ? {} : { faintTissueFrom }),
  };
}

/**
 * Marks every pixel of the 4x4 blocks holding more than QUIET_MAX_PER_BLOCK faint samples, or any
 * sample at or above the percentile (so that no embedded sample can move the percentile, and with it
 * the threshold, however the segmenter reads the frame), and of the quiet blocks that lie amid such
 * blocks (isolatedQuietBlocks).
 */
function freezeFaintTissueBlocks(
  frame: PixelFrame,
  level: FaintTissueLevel,
  frozen: Uint8Array | undefined,
): Uint8Array {
  const { columns, samples } = frame;
  const out = frozen === undefined ? new Uint8Array(samples.length) : Uint8Array.from(frozen);
  const counts = faintSamplesPerBlock(frame, level);
  const blockColumns = Math.floor(columns / BLOCK_SIZE);
  const isolated = isolatedQuietBlocks(counts, Math.floor(frame.rows / BLOCK_SIZE), blockColumns);
  for (let b = 0; b < counts.length; b++) {
    if ((counts[b] as number) <= QUIET_MAX_PER_BLOCK && isolated[b] === 0) continue;
    const by = Math.floor(b / blockColumns) * BLOCK_SIZE;
    const bx = (b % blockColumns) * BLOCK_SIZE;
    for (let y = by; y < by + BLOCK_SIZE; y++)
      out.fill(1, y * columns + bx, y * columns + bx + BLOCK_SIZE);
  }
  return out;
}

/**
 * Adds to `frozen` (a copy) the pixels of the mask's convex hull: what the body's outline wraps
 * around is never embedded into (convexHullMask). A function of the mask alone, which is the same
 * on the stego frame, so the map stays exact.
 */
function freezeConvexHull(
  mask: SignificanceMask,
  frozen: Uint8Array | undefined,
): Uint8Array | undefined {
  const hull = convexHullMask(mask.data, mask.rows, mask.columns);
  let inside = false;
  for (let i = 0; i < hull.length; i++) {
    if (hull[i] !== 0 && mask.data[i] === 0) {
      inside = true;
      break;
    }
  }
  if (!inside) return frozen;
  return frozen === undefined ? hull : frozen.map((v, i) => v | (hull[i] as number));
}

/** 1 where a sample is padding or lies outside the segmenter's insensitive range. */
function visibleOrPadding(
  frame: PixelFrame,
  [lo, hi]: readonly [number, number],
  padding: Uint8Array | undefined,
): Uint8Array {
  const s = frame.samples;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const v = s[i] as number;
    out[i] = v < lo || v > hi || (padding !== undefined && padding[i] !== 0) ? 1 : 0;
  }
  return out;
}

/**
 * The engine's constraints for a frame: the image's (stored range, padding values), and, where the
 * segmenter gives an insensitive range, every value outside it (an embedded sample must stay where
 * the segmenter cannot see it); on CT with declared padding also the values below
 * CT_PADDING_BELOW_HU (a sample moved there would read as padding at extraction).
 */
export function frameConstraints(
  image: DicomImage,
  base: SampleConstraints,
  analysis: FrameAnalysis,
): SampleConstraints {
  const forbidden: (readonly [number, number])[] = [...base.forbidden];
  const range = analysis.insensitiveRange;
  if (range !== undefined) {
    if (range[0] > base.minValue) forbidden.push([base.minValue, range[0] - 1]);
    if (range[1] < base.maxValue) forbidden.push([range[1] + 1, base.maxValue]);
  }
  if (analysis.faintTissueFrom !== undefined && analysis.faintTissueFrom <= base.maxValue) {
    forbidden.push([analysis.faintTissueFrom, base.maxValue]);
  }
  if (image.modality === 'CT' && image.paddingRange !== undefined && image.rescaleSlope > 0) {
    // Smallest stored value at or above the threshold: stored * slope + intercept >= -1500.
    const first = Math.ceil((CT_PADDING_BELOW_HU - image.rescaleIntercept) / image.rescaleSlope);
    if (first > base.minValue) forbidden.push([base.minValue, Math.min(first - 1, base.maxValue)]);
  }
  return { ...base, forbidden };
}
