import type { PixelFrame } from '../stego/types';
import { StegoGatewayError } from '../stego/errors';
import { applyCarrier } from './codecs/colour';
import { writeEncapsulatedImage } from './codecs/encapsulated-image';
import { bytesPerSample, type FrameInfo } from './codecs/frame-info';
import type { ImageStorage } from './image-storage';
import { patchFrames, storedRange } from './pixel-codec';
import type { DicomImage } from './read-dicom-image';

/**
 * The original Part 10 bytes with the Pixel Data of `image` replaced by `frames`, patched in place:
 * nothing but the stored bits of the samples that changed differs from `original`, which is not
 * modified. `image` must be the result of reading `original` (readDicomImage, or openDicomImage for
 * a native file). Images that need a codec to be written (re-encoded compressed files) go through
 * writeDicomImage instead.
 */
export function writeDicomFrames(
  original: Uint8Array,
  image: DicomImage,
  frames: readonly PixelFrame[],
): Uint8Array {
  const storage = image.storage;
  if (storage === undefined) {
    const plain = new Uint8Array(original.buffer, original.byteOffset, original.byteLength);
    return patchFrames(plain, image.pixelData, image, frames, image.frames);
  }
  switch (storage.kind) {
    case 'native-base':
      return patchFrames(storage.base, image.pixelData, image, frames, image.frames);
    case 'native-colour':
      return writeNativeColour(storage, newNatives(storage, image, frames));
    case 'reencode':
      throw new StegoGatewayError(
        'FRAME_MISMATCH',
        `an image in transfer syntax [${storage.outputTransferSyntaxUid}] is re-encoded: write it with writeDicomImage`,
      );
  }
}

/**
 * Writes the embedded `frames` of an image opened by openDicomImage (or read by readDicomImage):
 * - native little-endian monochrome: patched in place in `original` (as writeDicomFrames);
 * - big endian, deflated, lossy under 'store-explicit-le': the Explicit VR Little Endian rewrite;
 * - colour: the carrier plane written back by the colour policy;
 * - lossless compressed: re-encoded in the same syntax, each frame verified to decode to exactly the
 *   embedded samples (CODEC_ROUNDTRIP_MISMATCH otherwise), spliced into the original bytes with
 *   nothing outside the Pixel Data value changed.
 * `original` is read only for images patched in place; the others carry the bytes they came from.
 */
export async function writeDicomImage(
  original: Uint8Array,
  image: DicomImage,
  frames: readonly PixelFrame[],
): Promise<Uint8Array> {
  const storage = image.storage;
  if (storage?.kind !== 'reencode') return writeDicomFrames(original, image, frames);
  return writeEncapsulatedImage(
    storage.base,
    { valueOffset: storage.valueOffset },
    storage.valueEndOffset,
    storage.outputTransferSyntaxUid,
    newNatives(storage, image, frames),
    storage.info,
    { predictor: storage.predictor },
  );
}

type DecodedStorage = Extract<ImageStorage, { kind: 'native-colour' | 'reencode' }>;

/** Each native frame with its carrier plane replaced by the embedded frame. */
function newNatives(
  storage: DecodedStorage,
  image: DicomImage,
  frames: readonly PixelFrame[],
): Uint8Array[] {
  if (frames.length !== storage.natives.length) {
    throw new StegoGatewayError(
      'FRAME_MISMATCH',
      `expected [${storage.natives.length}] frames, got [${frames.length}]`,
    );
  }
  const [min, max] = storedRange(image.bitsStored, image.signed);
  return frames.map((frame, f) => {
    for (const v of frame.samples) {
      if (v < min || v > max) {
        throw new StegoGatewayError(
          'SAMPLE_OUT_OF_RANGE',
          `sample [${v}] of frame [${f}] is outside the stored range [${min}, ${max}]`,
        );
      }
    }
    return applyCarrier(storage.natives[f] as Uint8Array, storage.info, storage.carrier, frame);
  });
}

/** Interleaved (RGB RGB ..) back to planar (RRR.. GGG.. BBB..). */
function interleavedToPlanar(interleaved: Uint8Array, info: FrameInfo): Uint8Array {
  const pixels = info.rows * info.columns;
  const bps = bytesPerSample(info);
  const out = new Uint8Array(interleaved.length);
  for (let s = 0; s < 3; s++) {
    for (let p = 0; p < pixels; p++) {
      for (let k = 0; k < bps; k++) {
        out[(s * pixels + p) * bps + k] = interleaved[(p * 3 + s) * bps + k] ?? 0;
      }
    }
  }
  return out;
}

function writeNativeColour(
  storage: Extract<ImageStorage, { kind: 'native-colour' }>,
  natives: readonly Uint8Array[],
): Uint8Array {
  const out = storage.base.slice();
  natives.forEach((n, f) => {
    const bytes = storage.planar ? interleavedToPlanar(n, storage.info) : n;
    out.set(bytes.subarray(0, storage.frameBytes), storage.valueOffset + f * storage.frameBytes);
  });
  return out;
}
