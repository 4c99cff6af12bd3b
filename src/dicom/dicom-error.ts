import { StegoGatewayError } from '../stego/errors';

/**
 * The codes the DICOM adapter throws, with their HTTP status. Every one means "this input cannot be
 * handled", which the CLI maps to exit code 4 and the gateway to a 4xx answer.
 */
export const DICOM_ERROR_STATUS = {
  /** No Part 10 preamble and "DICM" prefix (PS3.10 7.1). */
  NOT_DICOM: 400,
  /** The byte stream ends inside an element, or Pixel Data is shorter than Rows x Columns x Frames. */
  TRUNCATED_FILE: 400,
  /** Part 10 structure present but broken (bad VR, missing Transfer Syntax UID, bad delimiters). */
  MALFORMED_DICOM: 400,
  /** A non-image SOP class, or no Pixel Data element. */
  NOT_AN_IMAGE: 422,
  /** Compressed, big-endian, deflated or unknown transfer syntax. */
  UNSUPPORTED_TRANSFER_SYNTAX: 415,
  /** Colour, palette or YBR images (Samples per Pixel > 1 or not MONOCHROME1/2). */
  UNSUPPORTED_PHOTOMETRIC: 415,
  /** Bits Allocated other than 8 or 16 (1-bit SEG, 32-bit RTDOSE). */
  UNSUPPORTED_BITS_ALLOCATED: 415,
  /** Float or double float pixel data, or an inconsistent Bits Stored / High Bit. */
  UNSUPPORTED_PIXEL_FORMAT: 415,
} as const;

export type DicomErrorCode = keyof typeof DICOM_ERROR_STATUS;

export function dicomError(
  code: DicomErrorCode,
  message: string,
  cause?: unknown,
): StegoGatewayError {
  return new StegoGatewayError(code, message, {
    httpStatus: DICOM_ERROR_STATUS[code],
    ...(cause === undefined ? {} : { cause }),
  });
}
