import fc from 'fast-check';
import { PAPER_ALPHA, PAPER_BETAS, iqun, qun } from '../../src/stego/paper';

describe("the paper's quantiser Qun / IQun", () => {
  it('IQun(Qun(c, q)) = q, |Qun(c, q) - c| < 4/beta, sign kept (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -8, max: 8, noNaN: true }),
        fc.constantFrom(PAPER_ALPHA, 1 - PAPER_ALPHA),
        fc.constantFrom(...PAPER_BETAS),
        (c, q, beta) => {
          const stego = qun(c, q, beta);
          expect(iqun(stego, beta)).toBeCloseTo(q, 6);
          expect(Math.abs(stego - c)).toBeLessThan(4 / beta + 1e-9);
          expect(stego < 0).toBe(c < 0);
        },
      ),
    );
  });

  it.each([
    [0.0123, 0.98, 1000, 0.01298],
    [0.0123, 0.02, 1000, 0.01202],
    [-0.5, 0.98, 2, -0.49],
  ])('Qun(%f, %f, beta %i) = %f', (c, q, beta, expected) => {
    expect(qun(c, q, beta)).toBeCloseTo(expected, 9);
  });
});
