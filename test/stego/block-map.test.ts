import fc from 'fast-check';
import { blockMapFromMask, countUsableBlocks } from '../../src/stego/block-map';

function maskWith(rows: number, columns: number, set: [number, number][]): Uint8Array {
  const data = new Uint8Array(rows * columns);
  for (const [y, x] of set) data[y * columns + x] = 1;
  return data;
}

describe('blockMapFromMask', () => {
  it('keeps every whole block of an empty mask and drops partial edge blocks', () => {
    const map = blockMapFromMask({ rows: 10, columns: 9, data: new Uint8Array(90) });
    expect(map.blockRows).toBe(2);
    expect(map.blockColumns).toBe(2);
    expect(countUsableBlocks(map)).toBe(4);
  });

  it('excludes blocks within the margin of a significant pixel', () => {
    // One significant pixel at (10, 10) of a 32x32 image: with a 4 px margin, rows/columns 6..14
    // are excluded, i.e. blocks 1..3 along each axis.
    const data = maskWith(32, 32, [[10, 10]]);
    const map = blockMapFromMask({ rows: 32, columns: 32, data }, { marginPx: 4 });
    const excluded: [number, number][] = [];
    for (let by = 0; by < 8; by++)
      for (let bx = 0; bx < 8; bx++) if (!map.usable[by * 8 + bx]) excluded.push([by, bx]);
    expect(excluded).toEqual([
      [1, 1],
      [1, 2],
      [1, 3],
      [2, 1],
      [2, 2],
      [2, 3],
      [3, 1],
      [3, 2],
      [3, 3],
    ]);
  });

  it('excludes blocks holding a frozen (padding) pixel', () => {
    const frozen = maskWith(8, 8, [[7, 7]]);
    const map = blockMapFromMask({ rows: 8, columns: 8, data: new Uint8Array(64) }, { frozen });
    expect(Array.from(map.usable)).toEqual([1, 1, 1, 0]);
  });

  it('rejects a negative margin', () => {
    expect(() =>
      blockMapFromMask({ rows: 4, columns: 4, data: new Uint8Array(16) }, { marginPx: -1 }),
    ).toThrow(RangeError);
  });

  it('never marks a block usable if any pixel of it is within the margin (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 40 }),
        fc.integer({ min: 4, max: 40 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
        (rows, columns, margin, points) => {
          const data = maskWith(
            rows,
            columns,
            points.map(([y, x]) => [y % rows, x % columns]),
          );
          const map = blockMapFromMask({ rows, columns, data }, { marginPx: margin });
          for (let by = 0; by < map.blockRows; by++)
            for (let bx = 0; bx < map.blockColumns; bx++) {
              let anySet = false;
              for (let y = by * 4; y < by * 4 + 4; y++)
                for (let x = bx * 4; x < bx * 4 + 4; x++) {
                  // Brute-force Chebyshev distance check against every significant point.
                  for (const [py, px] of points)
                    if (Math.max(Math.abs((py % rows) - y), Math.abs((px % columns) - x)) <= margin)
                      anySet = true;
                }
              expect(map.usable[by * map.blockColumns + bx]).toBe(anySet ? 0 : 1);
            }
        },
      ),
    );
  });
});
