import fc from 'fast-check';
import { DCT_MATRIX, dct4x4, idct4x4 } from '../../src/stego/dct';

describe('4x4 orthonormal DCT-II', () => {
  it('has an orthonormal matrix (A A^T = I)', () => {
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++)
          s += (DCT_MATRIX[i * 4 + k] as number) * (DCT_MATRIX[j * 4 + k] as number);
        expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
      }
  });

  it('puts a flat block into the DC coefficient only (C(0,0) = 4 x level)', () => {
    const c = dct4x4(new Float64Array(16).fill(10), new Float64Array(16));
    expect(c[0]).toBeCloseTo(40, 10);
    for (let i = 1; i < 16; i++) expect(c[i]).toBeCloseTo(0, 10);
  });

  it('matches the paper Eq. 3 summed directly', () => {
    const x = Float64Array.from({ length: 16 }, (_, i) => (i * 37) % 11);
    const c = dct4x4(x, new Float64Array(16));
    const alpha = (u: number): number => (u === 0 ? Math.sqrt(1 / 4) : Math.sqrt(2 / 4));
    for (let u = 0; u < 4; u++)
      for (let v = 0; v < 4; v++) {
        let s = 0;
        for (let m = 0; m < 4; m++)
          for (let n = 0; n < 4; n++)
            s +=
              (x[m * 4 + n] as number) *
              Math.cos(((2 * m + 1) * u * Math.PI) / 8) *
              Math.cos(((2 * n + 1) * v * Math.PI) / 8);
        expect(c[u * 4 + v]).toBeCloseTo(alpha(u) * alpha(v) * s, 9);
      }
  });

  it('IDCT(DCT(b)) == b and preserves energy (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -32768, max: 65535 }), { minLength: 16, maxLength: 16 }),
        (values) => {
          const c = dct4x4(values, new Float64Array(16));
          const back = idct4x4(c, new Float64Array(16));
          let e1 = 0;
          let e2 = 0;
          for (let i = 0; i < 16; i++) {
            expect(Math.abs((back[i] as number) - (values[i] as number))).toBeLessThan(1e-7);
            e1 += (values[i] as number) ** 2;
            e2 += (c[i] as number) ** 2;
          }
          expect(Math.abs(e1 - e2)).toBeLessThanOrEqual(1e-9 * Math.max(1, e1));
        },
      ),
    );
  });
});
