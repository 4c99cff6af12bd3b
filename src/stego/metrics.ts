import type { PixelFrame } from './types';

/** Mean squared error between two equally sized sample arrays. */
export function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch [${a.length} vs ${b.length}]`);
  if (a.length === 0) return 0;
  return sumSquaredDifference(a, b) / a.length;
}

export function sumSquaredDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    sum += d * d;
  }
  return sum;
}

/** PSNR in dB for a given peak (the paper's Eq. 6); Infinity when the images are identical. */
export function psnrFromMse(meanSquaredError: number, peak: number): number {
  if (meanSquaredError === 0) return Infinity;
  return 10 * Math.log10((peak * peak) / meanSquaredError);
}

/** PSNR with MAX = 65535, the paper's convention for 16-bit DICOM. */
export function psnrMax65535(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return psnrFromMse(mse(a, b), 65535);
}

/** PSNR with MAX = 2^BitsStored - 1, the honest peak for the stored range. */
export function psnrBitsStored(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  bitsStored: number,
): number {
  return psnrFromMse(mse(a, b), 2 ** bitsStored - 1);
}

export function changedPixels(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch [${a.length} vs ${b.length}]`);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** Normalised cross-correlation (the paper's Eq. 7), in [-1, 1]; 0 when either side is constant. */
export function ncc(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch [${a.length} vs ${b.length}]`);
  const n = a.length;
  if (n === 0) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Fraction of differing bits between two byte strings of equal length. */
export function bitErrorRate(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`length mismatch [${a.length} vs ${b.length}]`);
  if (a.length === 0) return 0;
  let errors = 0;
  for (let i = 0; i < a.length; i++) {
    let x = (a[i] as number) ^ (b[i] as number);
    while (x) {
      errors += x & 1;
      x >>= 1;
    }
  }
  return errors / (a.length * 8);
}

/** Bits per pixel of the whole image. */
export function capacityBppImage(
  bits: number,
  frame: Pick<PixelFrame, 'rows' | 'columns'>,
): number {
  const pixels = frame.rows * frame.columns;
  return pixels === 0 ? 0 : bits / pixels;
}

/** Bits per pixel of the usable background (16 pixels per usable block). */
export function capacityBppBackground(bits: number, usableBlocks: number): number {
  return usableBlocks === 0 ? 0 : bits / (usableBlocks * 16);
}
