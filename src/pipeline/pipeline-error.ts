import { StegoGatewayError } from '../stego/errors';

/** Codes the pipeline throws (besides the DICOM adapter's and the engine's). */
export const PIPELINE_ERROR_STATUS = {
  /** A frame has no 4x4 block wholly in the background (outside mask, margin and padding). */
  NO_BACKGROUND: 422,
  /** The payload needs more bits than the background of a frame can carry. */
  PAYLOAD_TOO_LARGE: 413,
  /** The profile seals its payload (fidelity, robust) and no key ring was given. */
  KEY_RING_REQUIRED: 400,
  /**
   * The embedding changes the segmentation of the frame so much that its payload would not be read
   * back, even after the stability rounds (and for robust at every strength down to 1 unit).
   */
  EMBEDDING_UNSTABLE: 422,
  /** The segmenter returned a mask of the wrong size. */
  SEGMENTER_FAILED: 500,
} as const;

export type PipelineErrorCode = keyof typeof PIPELINE_ERROR_STATUS;

export function pipelineError(code: PipelineErrorCode, message: string): StegoGatewayError {
  return new StegoGatewayError(code, message, { httpStatus: PIPELINE_ERROR_STATUS[code] });
}
