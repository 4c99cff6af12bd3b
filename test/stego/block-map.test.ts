import fc from 'fast-check';
import { blockMapFromMask, convexHullMask, countUsableBlocks } from '../../src/stego/block-map';

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

describe('convexHullMask', () => {
  const rowsOf = (m: Uint8Array, columns: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < m.length; i += columns)
      out.push(Array.from(m.subarray(i, i + columns)).join(''));
    return out;
  };

  it('is empty for an empty mask and the pixel itself for one pixel', () => {
    expect(Array.from(convexHullMask(new Uint8Array(12), 3, 4))).toEqual(new Array(12).fill(0));
    expect(rowsOf(convexHullMask(maskWith(3, 4, [[1, 2]]), 3, 4), 4)).toEqual([
      '0000',
      '0010',
      '0000',
    ]);
  });

  it('fills what an L wraps around, and the gap between two blobs', () => {
    // An L: a column on the left and a row at the bottom. Pixels are unit squares, so the hull's
    // slanted edge runs from the top pixel's top-right corner (1, 0) to the bottom-right one (5, 4).
    const l = maskWith(5, 5, [
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
      [4, 0],
      [4, 1],
      [4, 2],
      [4, 3],
      [4, 4],
    ]);
    expect(rowsOf(convexHullMask(l, 5, 5), 5)).toEqual([
      '11000',
      '11100',
      '11110',
      '11111',
      '11111',
    ]);
    const blobs = maskWith(3, 7, [
      [1, 0],
      [1, 6],
    ]);
    expect(rowsOf(convexHullMask(blobs, 3, 7), 7)).toEqual(['0000000', '1111111', '0000000']);
  });

  it('holds every mask pixel and is convex along rows and columns', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 24 }),
        fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 12 }),
        (rows, columns, points) => {
          const mask = maskWith(
            rows,
            columns,
            points.map(([y, x]) => [y % rows, x % columns]),
          );
          const hull = convexHullMask(mask, rows, columns);
          for (let i = 0; i < mask.length; i++) if (mask[i]) expect(hull[i]).toBe(1);
          // A convex region meets every row and every column in one run.
          for (const line of rowsOf(hull, columns)) expect(/^0*1*0*$/.test(line)).toBe(true);
          for (let x = 0; x < columns; x++) {
            let column = '';
            for (let y = 0; y < rows; y++) column += String(hull[y * columns + x]);
            expect(/^0*1*0*$/.test(column)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
