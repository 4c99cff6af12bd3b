import {
  bucketStart,
  gridPermutation,
  keyedStream,
  slotCarriers,
  LAYOUT_KEY_DEFAULT,
} from '../../src/stego/layout';
import { flipBlocks } from './helpers/fixtures';

describe('keyed absolute layout', () => {
  it('is a permutation, deterministic per key, different across keys and labels', () => {
    const p = gridPermutation(LAYOUT_KEY_DEFAULT, 't', 64, 64);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 4096 }, (_, i) => i));
    expect(gridPermutation(LAYOUT_KEY_DEFAULT, 't', 64, 64)).toEqual(p);
    expect(gridPermutation(new Uint8Array(32).fill(1), 't', 64, 64)).not.toEqual(p);
    expect(gridPermutation(LAYOUT_KEY_DEFAULT, 'u', 64, 64)).not.toEqual(p);
    expect(keyedStream(LAYOUT_KEY_DEFAULT, 't', 2, 2, 16)).toEqual(
      keyedStream(LAYOUT_KEY_DEFAULT, 't', 2, 2, 16),
    );
  });

  it('cuts the permutation into contiguous buckets covering it exactly', () => {
    let covered = 0;
    for (let j = 0; j < 7; j++) covered += bucketStart(j + 1, 100, 7) - bucketStart(j, 100, 7);
    expect(covered).toBe(100);
  });

  it('decides carriers by grid position: 5% flipped blocks disturb few slots, never shift the rest', () => {
    const usable = new Uint8Array(128 * 128);
    for (let i = 0; i < usable.length; i++) usable[i] = i % 3 === 0 ? 0 : 1;
    const map = { blockRows: 128, blockColumns: 128, usable };
    const perm = gridPermutation(LAYOUT_KEY_DEFAULT, 'flip-test', 128, 128);
    const slots = 3000;
    const a = slotCarriers(perm, 0, perm.length, slots, 2, map);
    const b = slotCarriers(perm, 0, perm.length, slots, 2, flipBlocks(map, 0.05, 1));
    let changed = 0;
    for (let j = 0; j < slots; j++)
      if (a[2 * j] !== b[2 * j] || a[2 * j + 1] !== b[2 * j + 1]) changed++;
    // A slot changes only when a flip lands in the part of its bucket read so far (~5 blocks).
    expect(changed / slots).toBeLessThan(0.3);
    expect(changed).toBeGreaterThan(0);
  });
});
