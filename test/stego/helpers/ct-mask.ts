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
  const window = new Int32Array(9);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      let n = 0;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = Math.min(rows - 1, Math.max(0, y + dy));
          const xx = Math.min(columns - 1, Math.max(0, x + dx));
          window[n++] = samples[yy * columns + xx] as number;
        }
      window.sort();
      const hu = (window[4] as number) * image.rescaleSlope + image.rescaleIntercept;
      const v = samples[y * columns + x] as number;
      const padding = image.pixelPaddingValue !== undefined && v === image.pixelPaddingValue;
      data[y * columns + x] = !padding && hu > thresholdHu ? 1 : 0;
    }
  }
  return { rows, columns, data };
}

/** Pixels equal to the padding value, to freeze. */
export function paddingPixels(image: TestImage): Uint8Array {
  const out = new Uint8Array(image.frame.samples.length);
  if (image.pixelPaddingValue === undefined) return out;
  for (let i = 0; i < out.length; i++)
    out[i] = image.frame.samples[i] === image.pixelPaddingValue ? 1 : 0;
  return out;
}
