/**
 * A simple significance mask for CT test slices: Hounsfield units above -500 (body, table,
 * blankets) after a 3x3 median, so isolated noise spikes do not count. Padding pixels are frozen,
 * not significant. Good enough for tests of the engine; the real segmenters live in src/segmentation.
 */
import type { SignificanceMask } from '../../../src/stego/types';
import type { TestImage } from './read-dicom-pixels';

export function ctMask(image: TestImage, thresholdHu = -500): SignificanceMask {
  const { rows, columns, samples } = image.frame;
  const data = new Uint8Array(rows * columns);
  // The 3x3 median exceeds the threshold iff at least 5 of the 9 samples do.
  const above = new Uint8Array(rows * columns);
  for (let i = 0; i < above.length; i++) {
    const v = samples[i] as number;
    const hu = v * image.rescaleSlope + image.rescaleIntercept;
    above[i] = hu > thresholdHu && v !== image.pixelPaddingValue ? 1 : 0;
  }
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      let n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = Math.min(rows - 1, Math.max(0, y + dy));
        for (let dx = -1; dx <= 1; dx++) {
          n += above[yy * columns + Math.min(columns - 1, Math.max(0, x + dx))] as number;
        }
      }
      data[y * columns + x] =
        n >= 5 &&
        above[y * columns + x] !== undefined &&
        samples[y * columns + x] !== image.pixelPaddingValue
          ? 1
          : 0;
    }
  }
  return { rows, columns, data };
}

/**
 * Pixels to freeze: the padding value, and anything far below air (under -1500 HU), which is the
 * padding region of a circular field of view even after noise has moved it off the padding value.
 */
export function paddingPixels(image: TestImage): Uint8Array {
  const out = new Uint8Array(image.frame.samples.length);
  if (image.pixelPaddingValue === undefined) return out;
  const { samples } = image.frame;
  for (let i = 0; i < out.length; i++) {
    const v = samples[i] as number;
    const hu = v * image.rescaleSlope + image.rescaleIntercept;
    out[i] = v === image.pixelPaddingValue || hu < -1500 ? 1 : 0;
  }
  return out;
}
