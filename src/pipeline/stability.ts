import { ncc } from '../stego/metrics';
import type { BlockMap, SignificanceMask } from '../stego/types';

/** Fraction of blocks on which two maps of the same grid agree (1 = identical). */
export function blockMapAgreement(a: BlockMap, b: BlockMap): number {
  const n = a.usable.length;
  if (n === 0) return 1;
  let same = 0;
  for (let i = 0; i < n; i++) if ((a.usable[i] ?? 0) === (b.usable[i] ?? 0)) same++;
  return same / n;
}

export function blockMapsEqual(a: BlockMap, b: BlockMap): boolean {
  return (
    a.blockRows === b.blockRows &&
    a.blockColumns === b.blockColumns &&
    blockMapAgreement(a, b) === 1
  );
}

/** Blocks usable in both maps. */
export function intersectBlockMaps(a: BlockMap, b: BlockMap): BlockMap {
  const usable = new Uint8Array(a.usable.length);
  for (let i = 0; i < usable.length; i++) usable[i] = a.usable[i] && b.usable[i] ? 1 : 0;
  return { blockRows: a.blockRows, blockColumns: a.blockColumns, usable };
}

/** Normalised cross-correlation of two masks; 1 when both are identical (constant ones too). */
export function maskNcc(a: SignificanceMask, b: SignificanceMask): number {
  let equal = true;
  for (let i = 0; i < a.data.length && equal; i++) equal = a.data[i] === b.data[i];
  if (equal) return 1;
  return ncc(a.data, b.data);
}
