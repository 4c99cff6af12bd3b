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
  const padding = paddingMask(frame, image.paddingRange);
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
