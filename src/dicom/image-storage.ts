import type { ColourCarrier } from './codecs/colour';
import type { FrameInfo } from './codecs/frame-info';

/**
 * How the embedded frames of an image opened by openDicomImage get back into Part 10 bytes, when
 * they are not simply patched in place in the original (a native little-endian monochrome file,
 * whose DicomImage has no storage). `base` is the Part 10 file the frames were read from: the
 * original, or its Explicit VR Little Endian rewrite (big endian, deflated, lossy by rule).
 */
export type ImageStorage =
  /** Native monochrome samples, patched in place in `base` (an Explicit VR Little Endian rewrite). */
  | (StorageCommon & { readonly kind: 'native-base' })
  /**
   * Native colour (or any carrier) samples: the carrier plane of each native frame is written back
   * (colour policy), planar files kept planar, into a copy of `base`.
   */
  | (StorageCommon &
      DecodedPixels & {
        readonly kind: 'native-colour';
        readonly valueOffset: number;
        readonly planar: boolean;
        readonly frameBytes: number;
      })
  /**
   * Encapsulated Pixel Data decoded by the codecs: the carrier plane written back into each native
   * frame, re-encoded in the same syntax, verified, and spliced into a copy of `base`.
   */
  | (StorageCommon &
      DecodedPixels & {
        readonly kind: 'reencode';
        readonly valueOffset: number;
        readonly valueEndOffset: number;
        readonly predictor: number | undefined;
      });

interface StorageCommon {
  readonly base: Uint8Array;
  /** The transfer syntax of the bytes the writer returns. */
  readonly outputTransferSyntaxUid: string;
}

interface DecodedPixels {
  /** The native frames as decoded: little endian, colour interleaved. */
  readonly natives: readonly Uint8Array[];
  readonly info: FrameInfo;
  readonly carrier: ColourCarrier;
}
