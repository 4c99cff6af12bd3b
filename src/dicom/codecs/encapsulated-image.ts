import { lookupCapability } from './capabilities';
import { codecError } from './codec-error';
import {
  encapsulateFrames,
  frameFragments,
  readEncapsulatedPixelData,
  replacePixelDataValue,
} from './encapsulated';
import { decodeFrame, encodeFrameVerified, inspectFrame } from './frame-codec';
import type { CodestreamHeader } from './frame-header';
import type { FrameInfo } from './frame-info';

/**
 * Whole-image helpers for the 'embed-reencode-same-syntax' policy: decode every frame of a file's
 * encapsulated Pixel Data, and write changed frames back in the same syntax, verified, into a copy
 * of the original bytes in which nothing but the Pixel Data value changes.
 */

export interface DecodedEncapsulatedImage {
  /** Native frames (little endian, interleaved), one per frame. */
  readonly frames: readonly Uint8Array[];
  /** Each frame's own header, where its family has one. */
  readonly codestreams: readonly (CodestreamHeader | undefined)[];
  /**
   * Whether every frame is reversibly coded: JPEG process 14, JPEG-LS NEAR = 0, JPEG 2000 5-3
   * wavelet; RLE, deflate and uncompressed always; other families as the syntax says. A frame of a
   * lossless syntax that is not reversible is lossy data and must not be treated as lossless.
   */
  readonly reversible: boolean;
  /** JPEG lossless predictor of the first frame, to re-encode with the same one. */
  readonly predictor: number | undefined;
  /** Offset just past the Pixel Data value (its Sequence Delimitation Item). */
  readonly valueEndOffset: number;
}

/** Where a top-level encapsulated Pixel Data element's value starts. */
export interface PixelDataValue {
  readonly valueOffset: number;
}

export async function decodeEncapsulatedImage(
  bytes: Uint8Array,
  pixel: PixelDataValue,
  syntaxUid: string,
  info: FrameInfo,
  numberOfFrames: number,
): Promise<DecodedEncapsulatedImage> {
  const capability = lookupCapability(syntaxUid);
  if (capability === undefined) {
    throw codecError('CODEC_UNAVAILABLE', `no codec for unknown transfer syntax [${syntaxUid}]`);
  }
  const encapsulated = readEncapsulatedPixelData(bytes, pixel.valueOffset);
  const compressed = frameFragments(bytes, encapsulated, numberOfFrames);
  const frames: Uint8Array[] = [];
  const codestreams: (CodestreamHeader | undefined)[] = [];
  for (const frame of compressed) {
    codestreams.push(inspectFrame(syntaxUid, frame));
    frames.push(await decodeFrame(syntaxUid, frame, info));
  }
  const headerFamily = ['jpeg', 'jpeg-ls', 'jpeg-2000', 'htj2k'].includes(capability.family);
  const reversible = headerFamily
    ? codestreams.every((c) => c?.reversible === true)
    : capability.lossless;
  return {
    frames,
    codestreams,
    reversible,
    predictor: codestreams[0]?.predictor,
    valueEndOffset: encapsulated.endOffset,
  };
}

/**
 * A copy of `original` whose encapsulated Pixel Data value (from `pixel.valueOffset` to
 * `valueEndOffset`) holds `frames` encoded in `syntaxUid`, each verified to decode to exactly its
 * samples (CODEC_ROUNDTRIP_MISMATCH otherwise), one fragment per frame, with a Basic Offset Table
 * when there are several. Every byte outside that value is the original's.
 */
export async function writeEncapsulatedImage(
  original: Uint8Array,
  pixel: PixelDataValue,
  valueEndOffset: number,
  syntaxUid: string,
  frames: readonly Uint8Array[],
  info: FrameInfo,
  options: { readonly predictor?: number | undefined } = {},
): Promise<Uint8Array> {
  const encoded: Uint8Array[] = [];
  for (const frame of frames) {
    encoded.push(
      await encodeFrameVerified(
        syntaxUid,
        frame,
        info,
        options.predictor === undefined ? {} : { predictor: options.predictor },
      ),
    );
  }
  return replacePixelDataValue(
    original,
    pixel.valueOffset,
    valueEndOffset,
    encapsulateFrames(encoded),
  );
}
