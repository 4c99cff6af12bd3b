import type { PixelFrame, SampleConstraints } from '../stego/types';
import { storedRange } from './pixel-codec';

/**
 * Per-pixel 1 where a sample lies in the padding range (Pixel Padding Value .. Range Limit,
 * PS3.3 C.7.5.1.1.2), or undefined when there is no padding. Padding is never significant and
 * never changes.
 */
export function paddingMask(
  frame: PixelFrame,
  range: readonly [number, number] | undefined,
): Uint8Array | undefined {
  if (range === undefined) return undefined;
  const [lo, hi] = range;
  const mask = new Uint8Array(frame.samples.length);
  const s = frame.samples;
  for (let i = 0; i < s.length; i++) {
    const v = s[i] ?? 0;
    mask[i] = v >= lo && v <= hi ? 1 : 0;
  }
  return mask;
}

/**
 * What an embedded sample may be: inside the stored-bits range (never rescaled) and outside the
 * padding range, so that no changed pixel turns into padding.
 */
export function sampleConstraints(image: {
  readonly bitsStored: number;
  readonly signed: boolean;
  readonly paddingRange: readonly [number, number] | undefined;
}): SampleConstraints {
  const [minValue, maxValue] = storedRange(image.bitsStored, image.signed);
  return {
    minValue,
    maxValue,
    forbidden: image.paddingRange === undefined ? [] : [image.paddingRange],
  };
}
