import fc from 'fast-check';
import {
  axisTaps,
  levelZeroRange,
  modelInput,
  normaliseFrame,
  percentileOfSamples,
  resample,
  type NormalisationOptions,
} from '../../src/segmentation/preprocess';
import type { SegmentationContext } from '../../src/segmentation/segmenter';
import type { PixelFrame } from '../../src/stego/types';

const OPTIONS: NormalisationOptions = {
  ctWindowHu: [-600, 600],
  percentile: 99.5,
  noiseFloor: 0.05,
};
const CT: SegmentationContext = {
  modality: 'CT',
  rescaleSlope: 1,
  rescaleIntercept: -1024,
  photometricInterpretation: 'MONOCHROME2',
};

function frameOf(values: number[], bitsStored = 12, signed = false): PixelFrame {
  return { rows: 1, columns: values.length, bitsStored, signed, samples: Int32Array.from(values) };
}

describe('normaliseFrame', () => {
  it.each([
    [-1024, 0], // air of an unsigned CT (stored 0)
    [-1000, 0],
    [-600, 0], // window floor
    [0, 128], // 600/1200 * 255 = 127.5
    [600, 255], // window ceiling
    [2000, 255],
  ])('CT %d HU -> %d', (hu, expected) => {
    const out = normaliseFrame(frameOf([hu + 1024]), CT, OPTIONS);
    expect(out[0]).toBe(expected);
  });

  it('applies Rescale Slope and Intercept of signed CT', () => {
    const ctx = { ...CT, rescaleSlope: 2, rescaleIntercept: 0 };
    const out = normaliseFrame(frameOf([0, -300, 300], 16, true), ctx, OPTIONS);
    expect(Array.from(out)).toEqual([128, 0, 255]);
  });

  it('reads padding as 0 whatever its value', () => {
    const out = normaliseFrame(
      frameOf([1024, 1624]),
      { ...CT, padding: Uint8Array.from([0, 1]) },
      OPTIONS,
    );
    expect(Array.from(out)).toEqual([128, 0]);
  });

  it('scales MR by its 99.5th percentile and zeroes the noise floor', () => {
    const values = Array.from({ length: 1000 }, (_, i) => i);
    const out = normaliseFrame(
      frameOf(values),
      { ...CT, modality: 'MR', rescaleIntercept: 0 },
      OPTIONS,
    );
    // p99.5 (nearest rank) of 0..999 is 994.
    expect(out[994]).toBe(255);
    expect(out[999]).toBe(255);
    expect(out[497]).toBe(Math.round((497 * 255) / 994));
    // 5% of 255 = 12.75 -> 13: anything below reads as 0.
    expect(out[40]).toBe(0);
    expect(out[60]).toBe(Math.round((60 * 255) / 994));
  });

  it('inverts MONOCHROME1', () => {
    const ctx = {
      ...CT,
      modality: 'CR',
      photometricInterpretation: 'MONOCHROME1',
      rescaleIntercept: 0,
    };
    const values = Array.from({ length: 200 }, (_, i) => (i < 100 ? 4095 : 0));
    const out = normaliseFrame(frameOf(values), ctx, OPTIONS);
    expect(out[0]).toBe(0);
    expect(out[150]).toBe(255);
  });
});

describe('levelZeroRange', () => {
  // Every stored value in the range reads as level 0, the values beside it do not: the exact edge of
  // what an embedding may change without the segmenter seeing it.
  function expectEdge(frame: PixelFrame, context: SegmentationContext, side: 'low' | 'high'): void {
    const range = levelZeroRange(frame, context, OPTIONS);
    if (range === undefined) throw new Error('expected a range');
    const [lo, hi] = range;
    const levelOf = (v: number): number =>
      normaliseFrame(
        { ...frame, samples: Int32Array.from([...frame.samples, v]) },
        context,
        OPTIONS,
      )[frame.samples.length] as number;
    expect(levelOf(lo)).toBe(0);
    expect(levelOf(hi)).toBe(0);
    if (side === 'low') expect(levelOf(hi + 1)).toBeGreaterThan(0);
    else expect(levelOf(lo - 1)).toBeGreaterThan(0);
  }

  it('CT: everything up to the window floor (-600 HU and half a level)', () => {
    const frame = frameOf([0, 500, 1500, 3000]);
    expect(levelZeroRange(frame, CT, OPTIONS)?.[0]).toBe(0);
    // 255 * (HU + 600) / 1200 < 0.5: HU < -597.65, stored 426 (-598 HU) is the last.
    expect(levelZeroRange(frame, CT, OPTIONS)?.[1]).toBe(426);
    expectEdge(frame, CT, 'low');
  });

  it('CT, signed with another slope, and MONOCHROME1 (the range is a suffix)', () => {
    const signed: SegmentationContext = { ...CT, rescaleSlope: 0.5, rescaleIntercept: 0 };
    expectEdge(frameOf([-2000, 100, 900], 16, true), signed, 'low');
    const inverted: SegmentationContext = { ...CT, photometricInterpretation: 'MONOCHROME1' };
    const frame = frameOf([0, 1000, 4095]);
    expect(levelZeroRange(frame, inverted, OPTIONS)?.[1]).toBe(4095);
    expectEdge(frame, inverted, 'high');
  });

  it('MR: below the noise floor of the frame percentile', () => {
    const mr: SegmentationContext = { ...CT, modality: 'MR' };
    const frame = frameOf(Array.from({ length: 400 }, (_, i) => i * 10));
    expectEdge(frame, mr, 'low');
  });

  it('gives no range for a blank frame or one that is all signal', () => {
    const mr: SegmentationContext = { ...CT, modality: 'MR' };
    expect(levelZeroRange(frameOf([0, 0, 0]), mr, OPTIONS)).toBeUndefined();
    const bright: SegmentationContext = { ...CT, rescaleIntercept: 5000 };
    expect(levelZeroRange(frameOf([0, 10]), bright, OPTIONS)).toBeUndefined();
  });
});

describe('percentileOfSamples', () => {
  it('ignores padding', () => {
    const samples = Int32Array.from([1, 2, 3, 1000]);
    expect(percentileOfSamples(samples, Uint8Array.from([0, 0, 0, 1]), 100)).toBe(3);
  });

  it('histogram and sorting paths agree', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (values, p) => {
          const small = percentileOfSamples(Int32Array.from(values), undefined, p);
          // Spreading the values far apart forces the sorting path; the rank is the same.
          const wide = percentileOfSamples(
            Int32Array.from(values, (v) => v * 1000),
            undefined,
            p,
          );
          expect(wide).toBe(small * 1000);
        },
      ),
    );
  });
});

describe('resample', () => {
  it('keeps a constant image constant, shrinking or enlarging', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 255 }),
        (r, c, dr, dc, v) => {
          const out = resample(new Float32Array(r * c).fill(v), r, c, dr, dc);
          for (const x of out) expect(x).toBeCloseTo(v, 3);
        },
      ),
    );
  });

  it('halves by averaging 2x2 blocks', () => {
    const src = Float32Array.from([0, 4, 8, 12, 2, 6, 10, 14]); // 2 x 4
    expect(Array.from(resample(src, 2, 4, 1, 2))).toEqual([3, 11]);
  });

  it('enlarges by linear interpolation between pixel centres', () => {
    const out = resample(Float32Array.from([0, 4]), 1, 2, 1, 4);
    expect(Array.from(out)).toEqual([0, 1, 3, 4]);
  });

  it('has taps whose weights sum to 1', () => {
    for (const [s, d] of [
      [512, 256],
      [960, 256],
      [7, 3],
      [3, 7],
      [1, 256],
    ] as const) {
      const t = axisTaps(s, d);
      for (let i = 0; i < d; i++) {
        let w = 0;
        for (let k = t.start[i] as number; k < (t.start[i] as number) + (t.count[i] as number); k++)
          w += t.weight[k] as number;
        expect(w).toBeCloseTo(1, 5);
      }
    }
  });
});

describe('modelInput', () => {
  it('takes the integer fast path (512 -> 256) with the same result as resampling', () => {
    const intensity = Uint8Array.from({ length: 512 * 512 }, (_, i) => (i * 2654435761) >>> 24);
    const fast = modelInput(intensity, 512, 512, 256);
    const slow = resample(intensity, 512, 512, 256, 256);
    let worst = 0;
    for (let i = 0; i < fast.length; i++) {
      worst = Math.max(worst, Math.abs((fast[i] as number) * 255 - (slow[i] as number)));
    }
    // Both round the same 2x2 mean; only float rounding of exact halves may differ.
    expect(worst).toBeLessThanOrEqual(0.5001);
  });

  it('is size x size in steps of 1/255', () => {
    const intensity = Uint8Array.from({ length: 30 * 50 }, (_, i) => i % 256);
    const x = modelInput(intensity, 30, 50, 16);
    expect(x.length).toBe(256);
    for (const v of x) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
      expect(Math.abs(v * 255 - Math.round(v * 255))).toBeLessThan(1e-4);
    }
  });
});
