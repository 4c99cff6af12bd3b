import type { PixelFrame } from '../stego/types';
import { patchFrames } from './pixel-codec';
import type { DicomImage } from './read-dicom-image';

/**
 * The original Part 10 bytes with the Pixel Data of `image` replaced by `frames`, patched in place:
 * nothing but the stored bits of the samples that changed differs from `original`, which is not
 * modified. `image` must be the result of reading `original`.
 */
export function writeDicomFrames(
  original: Uint8Array,
  image: DicomImage,
  frames: readonly PixelFrame[],
): Uint8Array {
  return patchFrames(original, image.pixelData, image, frames, image.frames);
}
