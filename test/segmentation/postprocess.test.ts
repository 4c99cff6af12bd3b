import fc from 'fast-check';
import { dilateSquare } from '../../src/stego/block-map';
import { dilateMask, erodeSquare, fillHoles, keepTouching } from '../../src/segmentation/mask-ops';
import {
  growIntoFaintTissue,
  pasteBack,
  refineEdge,
  refinementBand,
  unionProbability,
} from '../../src/segmentation/postprocess';
import {
  faintSamplesPerBlock,
  GROWTH_MIN_PER_BLOCK,
  isolatedQuietBlocks,
  ISOLATION_RADIUS_BLOCKS,
  MIN_QUIET_SHARE,
  QUIET_MAX_PER_BLOCK,
  type FaintTissueLevel,
} from '../../src/segmentation/faint-tissue';
import { resample } from '../../src/segmentation/preprocess';
import type { PixelFrame } from '../../src/stego/types';

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

describe('growIntoFaintTissue', () => {
  it('reads only blocks the pipeline never embeds into (the shared faint-tissue rule)', () => {
    // A map block holds at most QUIET_MAX_PER_BLOCK faint samples and an embedding can only lower
    // that count; the growth reads blocks with more than GROWTH_MIN_PER_BLOCK.
    expect(GROWTH_MIN_PER_BLOCK).toBeGreaterThanOrEqual(QUIET_MAX_PER_BLOCK);
  });

  /** A deterministic pseudo-random sequence in [0, 1). */
  const noise = (i: number): number => Math.abs((Math.sin(i * 12.9898) * 43758.5453) % 1);
  const frameOf = (rows: number, columns: number, samples: Int32Array): PixelFrame => ({
    rows,
    columns,
    bitsStored: 12,
    signed: false,
    samples,
  });

  /** The rule as written: counts per block, components on the block grid, then pixel components. */
  function reference(
    mask: Uint8Array,
    frame: PixelFrame,
    level: FaintTissueLevel,
    padding?: Uint8Array,
  ): Uint8Array {
    const { rows, columns, samples } = frame;
    const br = Math.floor(rows / 4);
    const bc = Math.floor(columns / 4);
    const faint = new Uint8Array(br * bc);
    const seed = new Uint8Array(br * bc);
    for (let b = 0; b < br * bc; b++) {
      let count = 0;
      let top = false;
      for (let y = 0; y < 4; y++) {
        for (let x = 0; x < 4; x++) {
          const i = (Math.floor(b / bc) * 4 + y) * columns + (b % bc) * 4 + x;
          const v = samples[i] as number;
          if (v >= level.percentile) top = true;
          else if (v >= level.from) count++;
          if (mask[i]) seed[b] = 1;
        }
      }
      faint[b] = top || count > GROWTH_MIN_PER_BLOCK ? 1 : 0;
    }
    const either = Uint8Array.from(faint, (f, b) => f | (seed[b] as number));
    const grownBlocks = keepTouching(either, seed, br, bc);
    const candidate = new Uint8Array(rows * columns);
    for (let y = 0; y < br * 4; y++) {
      for (let x = 0; x < bc * 4; x++) {
        const i = y * columns + x;
        const b = Math.floor(y / 4) * bc + Math.floor(x / 4);
        const joins =
          grownBlocks[b] === 1 &&
          faint[b] === 1 &&
          (samples[i] as number) >= level.from &&
          !(padding !== undefined && padding[i]);
        candidate[i] = joins || mask[i] ? 1 : 0;
      }
    }
    for (let i = 0; i < mask.length; i++) if (mask[i]) candidate[i] = 1;
    return fillHoles(keepTouching(candidate, mask, rows, columns), rows, columns);
  }

  it('equals the rule computed block by block and pixel by pixel, on random frames of any shape', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.boolean(),
        (rows, columns, seed, withPadding) => {
          const n = rows * columns;
          // Patches of dense faint signal, sparse noise, a few bright samples.
          const samples = Int32Array.from({ length: n }, (_, i) => {
            const y = Math.floor(i / columns);
            const x = i % columns;
            const patch = noise(seed + Math.floor(y / 6) * 97 + Math.floor(x / 6)) < 0.4;
            const r = noise(seed * 3 + i);
            return r > 0.995 ? 1000 : patch ? (r < 0.85 ? 60 : 10) : r < 0.1 ? 60 : 10;
          });
          const mask = Uint8Array.from({ length: n }, (_, i) =>
            noise(seed * 7 + i) > 0.93 ? 1 : 0,
          );
          const padding = withPadding
            ? Uint8Array.from({ length: n }, (_, i) => (noise(seed * 11 + i) > 0.9 ? 1 : 0))
            : undefined;
          const level = { from: 50, percentile: 1000 };
          const frame = frameOf(rows, columns, samples);
          expect(Array.from(growIntoFaintTissue(mask, frame, level, padding))).toEqual(
            Array.from(reference(mask, frame, level, padding)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  const size = 128;
  const organ = disk(size, 64, 64, 20);
  const silhouette = disk(size, 64, 64, 40);
  const level = { from: 50, percentile: 1000 };

  it('takes in dense dim tissue around the mask and leaves sparse noise outside it', () => {
    // Organ at 1000, dim tissue at 60..80 with a twentieth of its samples at 10, background noise
    // of which a tenth reaches the faint level.
    const samples = Int32Array.from({ length: size * size }, (_, i) => {
      const r = noise(i);
      if (organ[i]) return 1000;
      if (silhouette[i]) return r < 0.05 ? 10 : 60 + Math.floor(r * 20);
      return r < 0.1 ? 55 : 5;
    });
    const grown = growIntoFaintTissue(organ, frameOf(size, size, samples), level);
    // The outline follows the 4 x 4 blocks that are mostly tissue: within a block of the
    // silhouette's edge either way; no noise further out joins.
    const inner = disk(size, 64, 64, 34);
    const outer = disk(size, 64, 64, 44);
    expect(inner.every((v, i) => v === 0 || grown[i] === 1)).toBe(true);
    expect(grown.every((v, i) => v === 0 || outer[i] === 1)).toBe(true);
    expect(iou(grown, silhouette)).toBeGreaterThan(0.85);
    expect(iou(organ, silhouette)).toBeLessThan(0.3);
  });

  it('does not take in dense faint signal that does not touch the mask, nor padding', () => {
    const samples = Int32Array.from({ length: size * size }, (_, i) => (organ[i] ? 1000 : 5));
    for (let y = 4; y < 16; y++) for (let x = 4; x < 32; x++) samples[y * size + x] = 70; // a label
    const padding = new Uint8Array(size * size);
    for (let y = 60; y < 68; y++) {
      for (let x = 84; x < 100; x++) {
        samples[y * size + x] = 70; // padding touching the organ, at a faint value
        padding[y * size + x] = 1;
      }
    }
    const grown = growIntoFaintTissue(organ, frameOf(size, size, samples), level, padding);
    expect(Array.from(grown)).toEqual(Array.from(organ));
  });

  it('cannot be moved by what the pipeline lets an embedding do to background blocks', () => {
    // Background blocks (at most QUIET_MAX_PER_BLOCK faint samples) get any values under the
    // faint level; faint-tissue blocks are never embedded into and stay as they are.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const samples = Int32Array.from({ length: size * size }, (_, i) => {
          const r = noise(seed + i);
          if (organ[i]) return 1000;
          if (silhouette[i]) return r < 0.1 ? 20 : 70;
          return r < 0.08 ? 60 : 10;
        });
        const frame = frameOf(size, size, samples);
        const before = growIntoFaintTissue(organ, frame, level);
        const counts = faintSamplesPerBlock(frame, level);
        const changed = Int32Array.from(samples);
        for (let i = 0; i < changed.length; i++) {
          const b = Math.floor(Math.floor(i / size) / 4) * (size / 4) + Math.floor((i % size) / 4);
          if ((counts[b] as number) <= QUIET_MAX_PER_BLOCK) {
            changed[i] = Math.floor(noise(seed * 5 + i) * level.from);
          }
        }
        expect(Array.from(growIntoFaintTissue(organ, frameOf(size, size, changed), level))).toEqual(
          Array.from(before),
        );
      }),
      { numRuns: 20 },
    );
  });
});

describe('isolatedQuietBlocks', () => {
  const noise = (i: number): number => Math.abs((Math.sin(i * 12.9898) * 43758.5453) % 1);
  const QUIET = QUIET_MAX_PER_BLOCK;
  const FAINT = QUIET_MAX_PER_BLOCK + 1;

  it('marks a quiet block amid faint ones, not one amid quiet ones', () => {
    // 12 x 12 blocks: left half faint tissue with one quiet dip, right half quiet background.
    const n = 12;
    const counts = new Uint8Array(n * n).map((_, i) => (i % n < 6 ? FAINT : QUIET));
    counts[5 * n + 2] = 0; // a dip in the tissue
    const out = isolatedQuietBlocks(counts, n, n);
    expect(out[5 * n + 2]).toBe(1);
    // Background blocks far enough from the tissue stay background; faint blocks are never marked
    // (they are left out of the map anyway).
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        if (x < 6) expect(out[y * n + x]).toBe(y === 5 && x === 2 ? 1 : 0);
        if (x >= 6 + ISOLATION_RADIUS_BLOCKS) expect(out[y * n + x]).toBe(0);
      }
    }
  });

  it('follows the share of quiet blocks in the clipped neighbourhood, as a direct count does', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 1e6 }),
        (rows, columns, seed) => {
          const counts = Uint8Array.from({ length: rows * columns }, (_, i) =>
            noise(seed + i) < 0.5 ? QUIET : FAINT,
          );
          const out = isolatedQuietBlocks(counts, rows, columns);
          const r = ISOLATION_RADIUS_BLOCKS;
          for (let y = 0; y < rows; y++) {
            for (let x = 0; x < columns; x++) {
              let quiet = 0;
              let all = 0;
              for (let yy = Math.max(0, y - r); yy <= Math.min(rows - 1, y + r); yy++) {
                for (let xx = Math.max(0, x - r); xx <= Math.min(columns - 1, x + r); xx++) {
                  all++;
                  if ((counts[yy * columns + xx] as number) <= QUIET) quiet++;
                }
              }
              const isQuiet = (counts[y * columns + x] as number) <= QUIET;
              expect(out[y * columns + x]).toBe(isQuiet && quiet < MIN_QUIET_SHARE * all ? 1 : 0);
            }
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('reads only which blocks are quiet, so an embedding that keeps quiet blocks quiet cannot move it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const n = 16;
        const counts = Uint8Array.from({ length: n * n }, (_, i) =>
          noise(seed + i) < 0.6 ? Math.floor(noise(seed * 3 + i) * (QUIET + 1)) : FAINT + 5,
        );
        // What embedding may do: a quiet block's count can only fall; other blocks are untouched.
        const after = counts.map((c, i) =>
          c <= QUIET ? Math.floor(noise(seed * 7 + i) * (c + 1)) : c,
        );
        expect(Array.from(isolatedQuietBlocks(after, n, n))).toEqual(
          Array.from(isolatedQuietBlocks(counts, n, n)),
        );
      }),
      { numRuns: 30 },
    );
  });
});
