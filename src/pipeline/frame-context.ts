import { paddingMask, type DicomImage } from '../dicom';
import type { SegmentationContext, Segmenter } from '../segmentation/segmenter';
import { blockMapFromMask } from '../stego/block-map';
import type { BlockMap, PixelFrame, SignificanceMask } from '../stego/types';
import { pipelineError } from './pipeline-error';

/** What segmentation and the block map see of one frame. */
export interface FrameAnalysis {
  readonly mask: SignificanceMask;
  readonly map: BlockMap;
}

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
  const mask = await segmenter.segment(frame, segmentationContext(image, padding));
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
  const map = blockMapFromMask(mask, {
    marginPx,
    ...(padding === undefined ? {} : { frozen: padding }),
  });
  return { mask, map };
}
