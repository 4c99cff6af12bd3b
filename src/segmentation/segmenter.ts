import type { PixelFrame, SignificanceMask } from '../stego/types';

/** What a segmenter needs to know besides the samples, to map them to physical units. */
export interface SegmentationContext {
  /** DICOM Modality (0008,0060), e.g. 'CT', 'MR'. */
  readonly modality: string;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** MONOCHROME1 images are inverted before segmentation. */
  readonly photometricInterpretation: string;
  /** Per-pixel 1 where the pixel is padding (Pixel Padding Value / Range Limit); never significant. */
  readonly padding?: Uint8Array;
}

export const SEGMENTER_NAMES = ['onnx-maskrcnn', 'threshold'] as const;
export type SegmenterName = (typeof SEGMENTER_NAMES)[number];

/**
 * Finds the medically significant region (the patient's body) of one frame.
 * Implementations: `threshold` (classical), `onnx-maskrcnn` (the trained model).
 */
export interface Segmenter {
  readonly name: SegmenterName;
  segment(frame: PixelFrame, context: SegmentationContext): Promise<SignificanceMask>;
  /**
   * The stored sample values this segmenter cannot tell apart on this frame (all read as "no
   * signal"), as an inclusive interval; undefined when it gives no such promise. Changing samples of
   * a region whose every sample stays in the interval leaves the mask exactly as it was: the
   * pipeline embeds only there, so that the stego frame gives the cover's block map by construction.
   */
  insensitiveRange?(
    frame: PixelFrame,
    context: SegmentationContext,
  ): readonly [number, number] | undefined;
  close(): Promise<void>;
}
