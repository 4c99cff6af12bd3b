import fc from 'fast-check';
import { dilateSquare } from '../../src/stego/block-map';
import { dilateMask, erodeSquare, fillHoles, keepTouching } from '../../src/segmentation/mask-ops';
import {
  growIntoFaintSignal,
  pasteBack,
  refineEdge,
  refinementBand,
  unionProbability,
} from '../../src/segmentation/postprocess';
import { resample } from '../../src/segmentation/preprocess';

function disk(size: number, cx: number, cy: number, r: number): Uint8Array {
  const m = new Uint8Array(size * size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) m[y * size + x] = (x - cx) ** 2 + (y - cy) ** 2 <= r * r ? 1 : 0;
  return m;
}

function iou(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  let u = 0;
  for (let k = 0; k < a.length; k++) {
    if (a[k] && b[k]) i++;
    if (a[k] || b[k]) u++;
  }
  return u === 0 ? 1 : i / u;
}

const count = (m: Uint8Array): number => m.reduce((s, v) => s + v, 0);

describe('unionProbability', () => {
  const masks = Float32Array.from([0.9, 0.1, 0.2, 0.3, /* second */ 0.1, 0.8, 0.6, 0.0]);

  it('takes the maximum over instances at or above the score threshold', () => {
    expect(Array.from(unionProbability([0.9, 0.5], masks, 2, 0.5) ?? [])).toEqual(
      Array.from(Float32Array.from([0.9, 0.8, 0.6, 0.3])),
    );
  });

  it('ignores instances below the threshold and returns undefined when none is left', () => {
    expect(Array.from(unionProbability([0.9, 0.4], masks, 2, 0.5) ?? [])).toEqual(
      Array.from(masks.subarray(0, 4)),
    );
    expect(unionProbability([0.2, 0.4], masks, 2, 0.5)).toBeUndefined();
    expect(unionProbability([], new Float32Array(0), 2, 0.5)).toBeUndefined();
  });
});

describe('pasteBack', () => {
  it('thresholds at 0.5 at the same size', () => {
    const p = Float32Array.from([0.49, 0.5, 0.51, 0]);
    expect(Array.from(pasteBack(p, 2, 2, 2))).toEqual([0, 1, 1, 0]);
  });

  it('enlarges a disk to a disk of the scaled radius', () => {
    const small = Float32Array.from(disk(64, 32, 32, 20));
    const big = pasteBack(small, 64, 256, 256);
    const nearest = Uint8Array.from(
      big,
      (_, i) => small[Math.floor(i / 1024) * 64 + Math.floor((i % 256) / 4)] ?? 0,
    );
    expect(iou(big, nearest)).toBeGreaterThan(0.97);
  });
});

describe('pasteBack 2x fast path', () => {
  it('equals the general resampling (up to float rounding at exactly 0.5)', () => {
    const size = 64;
    const prob = Float32Array.from(
      { length: size * size },
      (_, i) => ((i * 2654435761) >>> 16) / 65536,
    );
    const fast = pasteBack(prob, size, 128, 128);
    const general = resample(prob, size, size, 128, 128);
    let differ = 0;
    for (let i = 0; i < fast.length; i++) {
      if (fast[i] !== ((general[i] as number) >= 0.5 ? 1 : 0)) {
        differ++;
        expect(Math.abs((general[i] as number) - 0.5)).toBeLessThan(1e-5);
      }
    }
    expect(differ).toBeLessThan(5);
  });

  it('skips only what is 0: equals the full two-pass computation on sparse maps', () => {
    // The full computation, every pixel (the fast path leaves out rows and columns that are all 0).
    const full = (prob: Float32Array, size: number): Uint8Array => {
      const n = 2 * size;
      const wide = new Float32Array(size * n);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const c = prob[y * size + x] as number;
          wide[y * n + 2 * x] = 0.75 * c + 0.25 * (prob[y * size + Math.max(0, x - 1)] as number);
          wide[y * n + 2 * x + 1] =
            0.75 * c + 0.25 * (prob[y * size + Math.min(size - 1, x + 1)] as number);
        }
      const out = new Uint8Array(n * n);
      for (let y = 0; y < size; y++)
        for (let x = 0; x < n; x++) {
          const v = wide[y * n + x] as number;
          const up = wide[Math.max(0, y - 1) * n + x] as number;
          const down = wide[Math.min(size - 1, y + 1) * n + x] as number;
          out[2 * y * n + x] = 0.75 * v + 0.25 * up >= 0.5 ? 1 : 0;
          out[(2 * y + 1) * n + x] = 0.75 * v + 0.25 * down >= 0.5 ? 1 : 0;
        }
      return out;
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        fc.array(fc.tuple(fc.nat(23), fc.nat(23), fc.double({ min: 0.5, max: 1, noNaN: true })), {
          maxLength: 6,
        }),
        fc.double({ min: 0, max: 0.499, noNaN: true }),
        (size, peaks, floor) => {
          // Background just under 0.5 around a few peaks: the case where a skipped neighbour matters.
          const prob = new Float32Array(size * size).fill(floor);
          for (const [x, y, v] of peaks) if (x < size && y < size) prob[y * size + x] = v;
          expect(pasteBack(prob, size, 2 * size, 2 * size)).toEqual(full(prob, size));
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('fillHoles', () => {
  it('fills a ring into a disk and leaves open shapes alone', () => {
    const ring = disk(40, 20, 20, 15);
    const inner = disk(40, 20, 20, 8);
    for (let i = 0; i < ring.length; i++) if (inner[i]) ring[i] = 0;
    expect(Array.from(fillHoles(ring, 40, 40))).toEqual(Array.from(disk(40, 20, 20, 15)));
    // Cut the ring open to the border: the hole is no hole any more.
    for (let y = 0; y < 20; y++) ring[y * 40 + 20] = 0;
    expect(count(fillHoles(ring, 40, 40))).toBe(count(ring));
  });

  it('equals a pixel flood from the border on random masks of any shape', () => {
    const flood = (m: Uint8Array, rows: number, cols: number): Uint8Array => {
      const reached = new Uint8Array(m.length);
      const stack: number[] = [];
      for (let y = 0; y < rows; y++)
        for (let x = 0; x < cols; x++)
          if ((y === 0 || x === 0 || y === rows - 1 || x === cols - 1) && m[y * cols + x] === 0) {
            reached[y * cols + x] = 1;
            stack.push(y * cols + x);
          }
      while (stack.length > 0) {
        const i = stack.pop() as number;
        const y = Math.floor(i / cols);
        const x = i % cols;
        for (const [yy, xx] of [
          [y - 1, x],
          [y + 1, x],
          [y, x - 1],
          [y, x + 1],
        ] as const) {
          const j = yy * cols + xx;
          if (yy >= 0 && xx >= 0 && yy < rows && xx < cols && m[j] === 0 && reached[j] === 0) {
            reached[j] = 1;
            stack.push(j);
          }
        }
      }
      return Uint8Array.from(reached, (r) => 1 - r);
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 30 }),
        fc.uint8Array({ minLength: 900, maxLength: 900, min: 0, max: 3 }),
        (rows, cols, bytes) => {
          // Mostly significant with scattered background: many enclosed holes and winding bays.
          const m = Uint8Array.from({ length: rows * cols }, (_, i) => (bytes[i] === 0 ? 0 : 1));
          expect(fillHoles(m, rows, cols)).toEqual(flood(m, rows, cols));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('erodeSquare', () => {
  it('equals the brute-force erosion (pixels outside the frame are background)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rows, cols, r, seed) => {
          const m = Uint8Array.from(
            { length: rows * cols },
            (_, i) => ((seed >> (i % 31)) & 1) | (i % 3 === 0 ? 1 : 0),
          );
          const out = erodeSquare(m, rows, cols, r);
          for (let y = 0; y < rows; y++)
            for (let x = 0; x < cols; x++) {
              let all = 1;
              for (let dy = -r; dy <= r; dy++)
                for (let dx = -r; dx <= r; dx++) {
                  const yy = y + dy;
                  const xx = x + dx;
                  if (yy < 0 || xx < 0 || yy >= rows || xx >= cols || !m[yy * cols + xx]) all = 0;
                }
              expect(out[y * cols + x]).toBe(all);
            }
        },
      ),
    );
  });
});

describe('dilateMask', () => {
  it('equals dilateSquare of the block map on random masks, radii up to 7 and odd widths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 1, max: 23 }),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 23 * 23, maxLength: 23 * 23, min: 0, max: 7 }),
        (rows, cols, r, bytes) => {
          const m = Uint8Array.from({ length: rows * cols }, (_, i) => (bytes[i] === 0 ? 1 : 0));
          expect(dilateMask(m, rows, cols, r)).toEqual(dilateSquare(m, rows, cols, r));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('keepTouching', () => {
  it('keeps the 8-connected components that meet the seed', () => {
    const m = Uint8Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1]); // 3 x 4
    const seed = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // (0,0) - (1,1)... (0,0) touches (1,1)? row 1 is [1,0,0,0]: (1,0); (2,0) is 1 and joins; (2,2),(2,3) do not.
    expect(Array.from(keepTouching(m, seed, 3, 4))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
  });
});

describe('refineEdge', () => {
  const size = 256;
  const truth = disk(size, 128, 128, 80);
  // Body 120, air 0, with a little deterministic texture.
  const intensity = Uint8Array.from(truth, (v, i) => (v ? 110 + ((i * 37) % 21) : (i * 13) % 7));
  const band = refinementBand(size, size, 128); // 6 px inside, 6 outside, 24 to the frame edge

  it('moves an outline that is up to its inside band off back onto the edge', () => {
    for (const r of [74, 76, 78, 82]) {
      const model = disk(size, 128, 128, r);
      const refined = refineEdge(model, intensity, size, size, band);
      expect(iou(refined, truth)).toBeGreaterThan(0.995);
      expect(iou(refined, truth)).toBeGreaterThan(iou(model, truth));
    }
  });

  it('does not take in bright text near the body that is not connected to it', () => {
    const withText = Uint8Array.from(intensity);
    for (let y = 30; y < 36; y++) for (let x = 124; x < 132; x++) withText[y * size + x] = 250; // 10 px above the body
    const refined = refineEdge(disk(size, 128, 128, 80), withText, size, size, band);
    expect(refined[32 * size + 128]).toBe(0);
  });

  it('keeps tissue that runs off the frame as body', () => {
    const tissue = new Uint8Array(size * size).fill(130);
    const model = new Uint8Array(size * size);
    for (let y = 6; y < size - 6; y++) for (let x = 6; x < size - 6; x++) model[y * size + x] = 1;
    expect(count(refineEdge(model, tissue, size, size, band))).toBe(size * size);
  });

  it('returns the mask unchanged when there is no outline', () => {
    const empty = new Uint8Array(size * size);
    expect(refineEdge(empty, intensity, size, size, band)).toBe(empty);
  });
});

describe('growIntoFaintSignal', () => {
  const options = { minLevel: 13, radius: 3, minFraction: 0.7 };
  /** A deterministic pseudo-random sequence in [0, 1). */
  const noise = (i: number): number => (Math.sin(i * 12.9898) * 43758.5453) % 1;

  function reference(
    mask: Uint8Array,
    levels: Uint8Array,
    rows: number,
    columns: number,
    o: typeof options,
  ): Uint8Array {
    const joined = new Uint8Array(mask.length);
    const need = Math.ceil(o.minFraction * (2 * o.radius + 1) ** 2 - 1e-9);
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        let signal = 0;
        for (let yy = y - o.radius; yy <= y + o.radius; yy++) {
          for (let xx = x - o.radius; xx <= x + o.radius; xx++) {
            if (yy < 0 || yy >= rows || xx < 0 || xx >= columns) continue;
            if ((levels[yy * columns + xx] as number) >= o.minLevel) signal++;
          }
        }
        const i = y * columns + x;
        joined[i] = signal >= need || mask[i] !== 0 ? 1 : 0;
      }
    }
    return fillHoles(keepTouching(joined, mask, rows, columns), rows, columns);
  }

  it('equals counting every neighbourhood pixel by pixel, on random frames of any shape', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 4 }),
        fc.double({ min: 0.1, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 1e6 }),
        (rows, columns, radius, minFraction, seed) => {
          const n = rows * columns;
          const levels = Uint8Array.from({ length: n }, (_, i) =>
            Math.floor(Math.abs(noise(seed + i)) * 40),
          );
          const mask = Uint8Array.from({ length: n }, (_, i) =>
            Math.abs(noise(seed * 7 + i)) > 0.9 ? 1 : 0,
          );
          const o = { minLevel: 13, radius, minFraction };
          expect(Array.from(growIntoFaintSignal(mask, levels, rows, columns, o))).toEqual(
            Array.from(reference(mask, levels, rows, columns, o)),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  const size = 128;
  const organ = disk(size, 64, 64, 20);
  const silhouette = disk(size, 64, 64, 40);

  it('takes in dense dim tissue around the mask and leaves sparse noise outside it', () => {
    // Organ at level 200, dim tissue at 15..25 with a tenth of its samples dropping to 5, and
    // background noise of which a fifth reaches the signal level.
    const levels = Uint8Array.from({ length: size * size }, (_, i) => {
      const r = Math.abs(noise(i));
      if (organ[i]) return 200;
      if (silhouette[i]) return r < 0.1 ? 5 : 15 + Math.floor(r * 10);
      return r < 0.2 ? 14 : 3;
    });
    const grown = growIntoFaintSignal(organ, levels, size, size, options);
    // The outline settles up to a few pixels inside the silhouette (its edge pixels see less than 70%
    // signal around them): the safety margin covers that. Nothing of the noise joins.
    const inner = disk(size, 64, 64, 36);
    expect(inner.every((v, i) => v === 0 || grown[i] === 1)).toBe(true);
    expect(grown.every((v, i) => v === 0 || silhouette[i] === 1)).toBe(true);
    expect(iou(grown, silhouette)).toBeGreaterThan(0.9);
    expect(iou(organ, silhouette)).toBeLessThan(0.3);
  });

  it('does not take in dense faint signal that does not touch the mask', () => {
    const levels = new Uint8Array(size * size);
    for (let i = 0; i < levels.length; i++) if (organ[i]) levels[i] = 200;
    for (let y = 2; y < 14; y++) for (let x = 2; x < 30; x++) levels[y * size + x] = 30; // a label
    const grown = growIntoFaintSignal(organ, levels, size, size, options);
    expect(Array.from(grown)).toEqual(Array.from(organ));
  });

  it('cannot be moved by samples that stay under the signal level (the insensitive range)', () => {
    const levels = Uint8Array.from({ length: size * size }, (_, i) =>
      organ[i] ? 200 : silhouette[i] ? 10 + Math.floor(Math.abs(noise(i)) * 12) : 0,
    );
    const before = growIntoFaintSignal(organ, levels, size, size, options);
    const changed = Uint8Array.from(levels, (v, i) =>
      v < options.minLevel ? Math.floor(Math.abs(noise(i + 99)) * options.minLevel) : v,
    );
    expect(Array.from(growIntoFaintSignal(organ, changed, size, size, options))).toEqual(
      Array.from(before),
    );
  });
});
