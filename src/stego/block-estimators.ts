/**
 * Translation-equivariant estimators of a 4x4 block's level, for the robust profile's detector.
 * They take the 16 sorted samples. A uniform shift of the block (a change of its DCT DC coefficient
 * only) shifts each estimate by the same amount.
 * - `upperMid`: mean of order statistics 11..14 (of 1..16). Clipping at the bottom of the stored
 *   range (air stored at 0..30 plus noise clipped at 0) leaves it alone unless 11 of 16 samples clip,
 *   and it ignores up to two salt impulses and any number of pepper impulses below it.
 * - `median`: mean of order statistics 8 and 9; ignores impulses; commutes with clipping.
 * - `midMean`: mean of order statistics 5..12 (interquartile mean), closer to the mean's efficiency.
 */
export type EstimatorName = 'upperMid' | 'median' | 'midMean' | 'mean';

export const ESTIMATORS: readonly EstimatorName[] = ['upperMid', 'median', 'midMean', 'mean'];

const RANGES: Readonly<Record<EstimatorName, readonly [number, number]>> = {
  upperMid: [10, 14],
  median: [7, 9],
  midMean: [4, 12],
  mean: [0, 16],
};

/** Sorts 16 values in place (insertion sort: fastest at this size). */
export function sort16(v: Int32Array): void {
  for (let i = 1; i < 16; i++) {
    const x = v[i] as number;
    let j = i - 1;
    while (j >= 0 && (v[j] as number) > x) {
      v[j + 1] = v[j] as number;
      j--;
    }
    v[j + 1] = x;
  }
}

export function estimateSorted(sorted: Int32Array, name: EstimatorName): number {
  const [from, to] = RANGES[name];
  let sum = 0;
  for (let i = from; i < to; i++) sum += sorted[i] as number;
  return sum / (to - from);
}
