import path from 'node:path';
import { readdirSync } from 'node:fs';
import { blockMapFromMask } from '../../../src/stego/block-map';
import { SeededRandom } from '../../../src/stego/prng';
import { generateKeyRing, type KeyRing } from '../../../src/stego/key-ring';
import type { BlockMap, PixelFrame, SampleConstraints } from '../../../src/stego/types';
import { ctMask, paddingPixels } from './ct-mask';
import { readTestImage, type TestImage } from './read-dicom-pixels';

export const DATA_DIR = path.resolve(__dirname, '../../../../shared/data');

export function ctFiles(series: string): string[] {
  const dir = path.join(DATA_DIR, 'ct', series);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.dcm'))
    .sort()
    .map((f) => path.join(dir, f));
}

export function constraintsFor(frame: PixelFrame, padding?: number): SampleConstraints {
  const [minValue, maxValue] = frame.signed
    ? [-(2 ** (frame.bitsStored - 1)), 2 ** (frame.bitsStored - 1) - 1]
    : [0, 2 ** frame.bitsStored - 1];
  return { minValue, maxValue, forbidden: padding === undefined ? [] : [[padding, padding]] };
}

export interface RealSlice {
  readonly image: TestImage;
  readonly map: BlockMap;
  readonly constraints: SampleConstraints;
}

export function realSlice(file: string): RealSlice {
  const image = readTestImage(file);
  const map = blockMapFromMask(ctMask(image), { frozen: paddingPixels(image) });
  return { image, map, constraints: constraintsFor(image.frame, image.pixelPaddingValue) };
}

/** A synthetic CT-like frame: a noisy "body" disc on low-valued noisy air, and its block map. */
export function syntheticSlice(size: number, seed: number, bitsStored = 12): RealSlice {
  const rng = new SeededRandom(seed);
  const samples = new Int32Array(size * size);
  const mask = new Uint8Array(size * size);
  const c = size / 2;
  const r = size * 0.3;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const inside = (x - c) ** 2 + (y - c) ** 2 < r * r;
      samples[y * size + x] = inside
        ? 1000 + Math.round(40 * rng.nextGaussian())
        : Math.max(0, Math.round(15 + 8 * rng.nextGaussian()));
      mask[y * size + x] = inside ? 1 : 0;
    }
  const frame: PixelFrame = { rows: size, columns: size, bitsStored, signed: false, samples };
  const map = blockMapFromMask({ rows: size, columns: size, data: mask });
  return {
    image: { frame, rescaleSlope: 1, rescaleIntercept: -1024 },
    map,
    constraints: constraintsFor(frame),
  };
}

export function testRing(seed = 1, keyId = 'test-key'): KeyRing {
  const rng = new SeededRandom(seed);
  return generateKeyRing((n) => rng.bytes(n), keyId);
}

export function seededBytes(seed: number): (n: number) => Uint8Array {
  const rng = new SeededRandom(seed);
  return (n) => rng.bytes(n);
}

/** Flips `fraction` of all grid blocks of a map (both directions), seeded. */
export function flipBlocks(map: BlockMap, fraction: number, seed: number): BlockMap {
  const rng = new SeededRandom(seed);
  const usable = Uint8Array.from(map.usable);
  const n = usable.length;
  const chosen = new Set<number>();
  const count = Math.round(n * fraction);
  while (chosen.size < count) chosen.add(rng.nextUint32() % n);
  for (const i of chosen) usable[i] = usable[i] ? 0 : 1;
  return { blockRows: map.blockRows, blockColumns: map.blockColumns, usable };
}

/** True when every pixel outside the usable blocks of `map` is unchanged. */
export function onlyUsableBlocksChanged(map: BlockMap, a: PixelFrame, b: PixelFrame): boolean {
  for (let i = 0; i < a.samples.length; i++) {
    if (a.samples[i] === b.samples[i]) continue;
    const y = Math.floor(i / a.columns);
    const x = i % a.columns;
    const by = Math.floor(y / 4);
    const bx = Math.floor(x / 4);
    if (by >= map.blockRows || bx >= map.blockColumns) return false;
    if (map.usable[by * map.blockColumns + bx] !== 1) return false;
  }
  return true;
}
