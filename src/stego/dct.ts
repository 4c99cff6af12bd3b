import { BLOCK_SIZE } from './types';

/**
 * Orthonormal 4x4 DCT-II (the paper's Eq. 3 with alpha(0) = sqrt(1/M), alpha(u) = sqrt(2/M)),
 * separable: C = A X A^T, X = A^T C A, with the 4x4 matrix A precomputed.
 */
export const DCT_MATRIX: Float64Array = (() => {
  const n = BLOCK_SIZE;
  const a = new Float64Array(n * n);
  for (let u = 0; u < n; u++) {
    const alpha = u === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let m = 0; m < n; m++)
      a[u * n + m] = alpha * Math.cos(((2 * m + 1) * u * Math.PI) / (2 * n));
  }
  return a;
})();

const scratch = new Float64Array(16);

/** Forward DCT of a row-major 4x4 block: `out` = A `block` A^T. `out` may alias `block`. */
export function dct4x4(block: ArrayLike<number>, out: Float64Array): Float64Array {
  const a = DCT_MATRIX;
  // rows: T = X A^T
  for (let r = 0; r < 4; r++) {
    const x0 = block[r * 4] as number;
    const x1 = block[r * 4 + 1] as number;
    const x2 = block[r * 4 + 2] as number;
    const x3 = block[r * 4 + 3] as number;
    for (let v = 0; v < 4; v++) {
      scratch[r * 4 + v] =
        x0 * (a[v * 4] as number) +
        x1 * (a[v * 4 + 1] as number) +
        x2 * (a[v * 4 + 2] as number) +
        x3 * (a[v * 4 + 3] as number);
    }
  }
  // columns: C = A T
  for (let v = 0; v < 4; v++) {
    const t0 = scratch[v] as number;
    const t1 = scratch[4 + v] as number;
    const t2 = scratch[8 + v] as number;
    const t3 = scratch[12 + v] as number;
    for (let u = 0; u < 4; u++) {
      out[u * 4 + v] =
        (a[u * 4] as number) * t0 +
        (a[u * 4 + 1] as number) * t1 +
        (a[u * 4 + 2] as number) * t2 +
        (a[u * 4 + 3] as number) * t3;
    }
  }
  return out;
}

/** Inverse DCT: `out` = A^T `coefficients` A. `out` may alias `coefficients`. */
export function idct4x4(coefficients: ArrayLike<number>, out: Float64Array): Float64Array {
  const a = DCT_MATRIX;
  // T = C A
  for (let u = 0; u < 4; u++) {
    const c0 = coefficients[u * 4] as number;
    const c1 = coefficients[u * 4 + 1] as number;
    const c2 = coefficients[u * 4 + 2] as number;
    const c3 = coefficients[u * 4 + 3] as number;
    for (let n = 0; n < 4; n++) {
      scratch[u * 4 + n] =
        c0 * (a[n] as number) +
        c1 * (a[4 + n] as number) +
        c2 * (a[8 + n] as number) +
        c3 * (a[12 + n] as number);
    }
  }
  // X = A^T T
  for (let n = 0; n < 4; n++) {
    const t0 = scratch[n] as number;
    const t1 = scratch[4 + n] as number;
    const t2 = scratch[8 + n] as number;
    const t3 = scratch[12 + n] as number;
    for (let m = 0; m < 4; m++) {
      out[m * 4 + n] =
        (a[m] as number) * t0 +
        (a[4 + m] as number) * t1 +
        (a[8 + m] as number) * t2 +
        (a[12 + m] as number) * t3;
    }
  }
  return out;
}
