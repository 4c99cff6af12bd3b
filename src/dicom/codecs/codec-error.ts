import { StegoGatewayError } from '../../stego/errors';

/**
 * The codes the codec layer throws, with their HTTP status. They are distinct from the adapter's
 * (dicom-error.ts) so that a caller can tell "this file is broken" from "this codec failed".
 */
export const CODEC_ERROR_STATUS = {
  /** No codec for the transfer syntax, or the codec cannot do the asked direction (e.g. encode). */
  CODEC_UNAVAILABLE: 415,
  /** The WebAssembly module could not be loaded. */
  CODEC_INIT_FAILED: 500,
  /** The codec rejected the compressed frame (corrupt or truncated bitstream). */
  CODEC_DECODE_FAILED: 422,
  /** The codec failed to compress a frame. */
  CODEC_ENCODE_FAILED: 500,
  /** The image's pixel format is outside what the codec handles (bits, samples, photometric). */
  CODEC_UNSUPPORTED_IMAGE: 415,
  /** The compressed frame describes another image than the header (size, samples, precision). */
  CODEC_FRAME_MISMATCH: 422,
  /** A re-encoded frame did not decode to exactly the pixels it was made from. */
  CODEC_ROUNDTRIP_MISMATCH: 500,
  /** Encapsulated Pixel Data (PS3.5 A.4) that breaks the item structure or cannot be split into frames. */
  ENCAPSULATION_MALFORMED: 400,
} as const;

export type CodecErrorCode = keyof typeof CODEC_ERROR_STATUS;

export function codecError(
  code: CodecErrorCode,
  message: string,
  cause?: unknown,
): StegoGatewayError {
  return new StegoGatewayError(code, message, {
    httpStatus: CODEC_ERROR_STATUS[code],
    ...(cause === undefined ? {} : { cause }),
  });
}
