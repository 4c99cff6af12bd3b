import { SeededRandom } from './prng';
import type { PixelFrame } from './types';

/**
 * Noise attacks of the paper's robustness table (Gaussian, uniform, salt-and-pepper), pure and
 * seeded, clipped to the stored range. Uniform and salt-and-pepper noise are scaled to the same MSE
 * as Gaussian noise of the given sigma, i.e. the same PSNR.
 */
export function storedRange(frame: Pick<PixelFrame, 'bitsStored' | 'signed'>): [number, number] {
  return frame.signed
    ? [-(2 ** (frame.bitsStored - 1)), 2 ** (frame.bitsStored - 1) - 1]
    : [0, 2 ** frame.bitsStored - 1];
}

function withSamples(frame: PixelFrame, samples: Int32Array): PixelFrame {
  return {
    rows: frame.rows,
    columns: frame.columns,
    bitsStored: frame.bitsStored,
    signed: frame.signed,
    samples,
  };
}

function clip(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/** Additive white Gaussian noise of standard deviation `sigma` stored units, rounded and clipped. */
export function gaussianNoise(frame: PixelFrame, sigma: number, seed: number): PixelFrame {
  const rng = new SeededRandom(seed);
  const [lo, hi] = storedRange(frame);
  const out = new Int32Array(frame.samples.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = clip(Math.round((frame.samples[i] as number) + sigma * rng.nextGaussian()), lo, hi);
  }
  return withSamples(frame, out);
}

/** Additive uniform noise on [-a, a] with a = sigma * sqrt(3): the same variance as gaussian(sigma). */
export function uniformNoise(frame: PixelFrame, sigma: number, seed: number): PixelFrame {
  const rng = new SeededRandom(seed);
  const [lo, hi] = storedRange(frame);
  const a = sigma * Math.sqrt(3);
  const out = new Int32Array(frame.samples.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = clip(Math.round((frame.samples[i] as number) + (2 * rng.next() - 1) * a), lo, hi);
  }
  return withSamples(frame, out);
}

/**
 * Salt-and-pepper noise: salt = the image's maximum, pepper = its minimum. The density is chosen so
 * that the expected squared error equals sigma^2 per pixel (the same PSNR as gaussian(sigma)).
 */
export function saltAndPepperNoise(frame: PixelFrame, sigma: number, seed: number): PixelFrame {
  const rng = new SeededRandom(seed);
  let min = Infinity;
  let max = -Infinity;
  for (const v of frame.samples) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let expected = 0;
  for (const v of frame.samples) expected += ((max - v) ** 2 + (v - min) ** 2) / 2;
  expected /= Math.max(1, frame.samples.length);
  const density = expected === 0 ? 0 : Math.min(1, (sigma * sigma) / expected);
  const out = Int32Array.from(frame.samples);
  for (let i = 0; i < out.length; i++) {
    const r = rng.next();
    if (r < density / 2) out[i] = max;
    else if (r < density) out[i] = min;
  }
  return withSamples(frame, out);
}
