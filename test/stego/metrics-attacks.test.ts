import {
  gaussianNoise,
  saltAndPepperNoise,
  storedRange,
  uniformNoise,
} from '../../src/stego/attacks';
import {
  bitErrorRate,
  capacityBppBackground,
  capacityBppImage,
  changedPixels,
  mse,
  ncc,
  psnrBitsStored,
  psnrMax65535,
} from '../../src/stego/metrics';
import { ctFiles, realSlice } from './helpers/fixtures';

describe('metrics', () => {
  it.each([
    ['mse', () => mse([0, 0, 3, 4], [0, 0, 0, 0]), 25 / 4],
    ['changed pixels', () => changedPixels([1, 2, 3], [1, 0, 3]), 1],
    ['psnr 65535', () => psnrMax65535([0, 0], [1, 1]), 20 * Math.log10(65535)],
    ['psnr bits stored', () => psnrBitsStored([0, 0], [1, 1], 12), 20 * Math.log10(4095)],
    ['ncc identical', () => ncc([1, 2, 3], [1, 2, 3]), 1],
    ['ncc inverted', () => ncc([1, 2, 3], [3, 2, 1]), -1],
    ['ncc constant', () => ncc([1, 1], [1, 2]), 0],
    ['ber', () => bitErrorRate(Uint8Array.of(0xff, 0), Uint8Array.of(0xfe, 0)), 1 / 16],
    ['bpp image', () => capacityBppImage(13107, { rows: 512, columns: 512 }), 13107 / 262144],
    ['bpp background', () => capacityBppBackground(160, 10), 1],
  ])('%s', (_, f, expected) => {
    expect(f()).toBeCloseTo(expected, 9);
  });

  it('is Infinity for identical images', () => {
    expect(psnrMax65535([5, 6], [5, 6])).toBe(Infinity);
  });
});

describe('noise attacks (the paper table, sigma = 147)', () => {
  const slice = realSlice(ctFiles('lung-pet-ct-dx')[0] as string);
  const frame = slice.image.frame;
  const [lo, hi] = storedRange(frame);

  it.each([
    ['gaussian', gaussianNoise],
    ['uniform', uniformNoise],
    ['salt-and-pepper', saltAndPepperNoise],
  ] as const)('%s: seeded, clipped to the stored range, about 53-54 dB', (_, attack) => {
    const a = attack(frame, 147, 1);
    expect(attack(frame, 147, 1).samples).toEqual(a.samples);
    expect(attack(frame, 147, 2).samples).not.toEqual(a.samples);
    let min = Infinity;
    let max = -Infinity;
    for (const v of a.samples) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(lo);
    expect(max).toBeLessThanOrEqual(hi);
    const psnr = psnrMax65535(frame.samples, a.samples);
    expect(psnr).toBeGreaterThan(52);
    expect(psnr).toBeLessThan(55.5);
  });

  it('salt is the image maximum', () => {
    let imageMax = -Infinity;
    for (const v of frame.samples) imageMax = Math.max(imageMax, v);
    const a = saltAndPepperNoise(frame, 147, 3);
    let out = -Infinity;
    for (const v of a.samples) out = Math.max(out, v);
    expect(out).toBe(imageMax);
  });
});
