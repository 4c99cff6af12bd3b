import fc from 'fast-check';
import { TernaryCode } from '../../src/stego/ternary';

const open = { minValue: -32768, maxValue: 65535, forbidden: [] as const };

describe('ternary Hamming matrix embedding', () => {
  it.each([
    [1, 1],
    [2, 4],
    [3, 16],
    [4, 48],
    [5, 128],
  ])(
    't=%i over %i pixels reaches any syndrome with at most one +-1 change (property)',
    (t, length) => {
      const code = new TernaryCode(t, length);
      const pixels = Int32Array.from({ length }, (_, i) => i);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: length, maxLength: length }),
          fc.integer({ min: 0, max: code.states - 1 }),
          (values, target) => {
            const samples = Int32Array.from(values);
            const changes = code.embed(samples, pixels, target, open);
            expect(changes).toBeLessThanOrEqual(1);
            expect(code.syndrome(samples, pixels)).toBe(target);
            let diff = 0;
            for (let i = 0; i < length; i++)
              diff += Math.abs((samples[i] as number) - (values[i] as number));
            expect(diff).toBe(changes);
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  it('respects the stored range and forbidden values, using two changes or +-2 when it must', () => {
    const code = new TernaryCode(3, 16);
    const pixels = Int32Array.from({ length: 16 }, (_, i) => i);
    const constraints = { minValue: 0, maxValue: 4095, forbidden: [[5, 5]] as const };
    for (let target = 0; target < 27; target++) {
      const samples = new Int32Array(16).fill(0);
      samples[3] = 4;
      const changes = code.embed(samples, pixels, target, constraints);
      expect(changes).toBeGreaterThanOrEqual(0);
      expect(code.syndrome(samples, pixels)).toBe(target);
      for (const v of samples) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).not.toBe(5);
      }
    }
  });
});
