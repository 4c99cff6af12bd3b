import { StegoGatewayError } from '../../src/stego/errors';
import { embedPayload, extractPayload } from '../../src/stego/embed';
import { encodeCompactRecord } from '../../src/stego/identity-record';
import { CLIP } from '../../src/stego/robust-units';
import { solveShift } from '../../src/stego/robust-shifts';
import {
  ROBUST_CONTRAST_FRACTION,
  imageContrast,
  robustMaxShift,
} from '../../src/stego/robust-strength';
import type { PixelFrame, SampleConstraints } from '../../src/stego/types';
import { blockMapFromMask } from '../../src/stego/block-map';
import { SeededRandom } from '../../src/stego/prng';
import { syntheticSlice, testRing } from './helpers/fixtures';

const ring = testRing(3, 'strength-key');
const record = encodeCompactRecord(
  {
    fields: [['PatientID', 'MOUSE-0007']],
    embeddedAt: '2024-05-01T10:00:00.000Z',
    keyId: 'strength-key',
  },
  ring,
);

/**
 * A faint MR-like frame: background exactly 0 (most of the image), an elliptical body of 5..120,
 * 12 bits stored: what the mouse abdomen of ../shared/data looks like.
 */
function faintMr(): { frame: PixelFrame; mask: Uint8Array; constraints: SampleConstraints } {
  const rows = 320;
  const columns = 960;
  const rng = new SeededRandom(9);
  const samples = new Int32Array(rows * columns);
  const mask = new Uint8Array(rows * columns);
  for (let y = 0; y < rows; y++)
    for (let x = 0; x < columns; x++) {
      const inside = ((x - 480) / 300) ** 2 + ((y - 160) / 110) ** 2 < 1;
      samples[y * columns + x] = inside ? 5 + Math.floor(rng.next() * 116) : 0;
      mask[y * columns + x] = inside ? 1 : 0;
    }
  return {
    frame: { rows, columns, bitsStored: 12, signed: false, samples },
    mask,
    constraints: { minValue: 0, maxValue: 4095, forbidden: [] },
  };
}

function largestShift(a: PixelFrame, b: PixelFrame): number {
  let worst = 0;
  for (let i = 0; i < a.samples.length; i++)
    worst = Math.max(worst, Math.abs((a.samples[i] as number) - (b.samples[i] as number)));
  return worst;
}

describe('robust strength', () => {
  it('is a fraction of the image contrast (0.5th..99.5th percentile), forbidden values left out', () => {
    const samples = new Int32Array(10000);
    for (let i = 0; i < samples.length; i++) samples[i] = i % 1000;
    const frame: PixelFrame = { rows: 100, columns: 100, bitsStored: 12, signed: false, samples };
    const open: SampleConstraints = { minValue: 0, maxValue: 4095, forbidden: [] };
    expect(imageContrast(frame, open)).toBeGreaterThan(980);
    expect(robustMaxShift(frame, open)).toBe(
      Math.floor(ROBUST_CONTRAST_FRACTION * imageContrast(frame, open)),
    );
    // Padding far below the data does not widen the contrast.
    const padded = Int32Array.from(samples, (v, i) => (i % 3 === 0 ? -2000 : v));
    const pad: SampleConstraints = {
      minValue: -32768,
      maxValue: 32767,
      forbidden: [[-2000, -2000]],
    };
    expect(
      imageContrast({ ...frame, signed: true, bitsStored: 16, samples: padded }, pad),
    ).toBeLessThan(1000);
    // A flat image still gets one unit.
    const flat = { ...frame, samples: new Int32Array(10000) };
    expect(robustMaxShift(flat, open)).toBe(1);
  });

  it('caps the block shifts of a faint MR at 7% of its contrast (not the ~30 units of the PSNR budget) and still round-trips', () => {
    const { frame, mask, constraints } = faintMr();
    const map = blockMapFromMask({ rows: frame.rows, columns: frame.columns, data: mask });
    const cap = robustMaxShift(frame, constraints);
    expect(cap).toBeLessThanOrEqual(Math.floor(0.07 * 120));
    const r = embedPayload(frame, map, record, { profile: 'robust', keyRing: ring, constraints });
    if (!r.ok) throw new Error(r.message);
    expect(largestShift(frame, r.stego)).toBeGreaterThan(0);
    expect(largestShift(frame, r.stego)).toBeLessThanOrEqual(cap);
    const x = extractPayload(r.stego, map, { keyRing: ring, profile: 'robust' });
    expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(record))).toBe(true);
  });

  it('honours a caller-chosen strength down to one unit', () => {
    const { frame, mask, constraints } = faintMr();
    const map = blockMapFromMask({ rows: frame.rows, columns: frame.columns, data: mask });
    for (const robustMaxShift of [1, 2]) {
      const r = embedPayload(frame, map, record, {
        profile: 'robust',
        keyRing: ring,
        constraints,
        robustMaxShift,
      });
      if (!r.ok) throw new Error(r.message);
      expect(largestShift(frame, r.stego)).toBeLessThanOrEqual(robustMaxShift);
      const x = extractPayload(r.stego, map, { keyRing: ring, profile: 'robust' });
      expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(record))).toBe(true);
    }
  });

  it('leaves CT-like images at the PSNR budget (the cap is far above it)', () => {
    const s = syntheticSlice(512, 4);
    const r = embedPayload(s.image.frame, s.map, record, {
      profile: 'robust',
      keyRing: ring,
      constraints: s.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.report.psnrMax65535).toBeGreaterThanOrEqual(70);
    expect(r.report.psnrMax65535).toBeLessThan(71);
  });

  it('refuses a strength that is not a positive integer (INVALID_OPTION)', () => {
    const s = syntheticSlice(128, 5);
    for (const robustMaxShift of [0, 1.5, -3, Number.NaN]) {
      let caught: unknown;
      try {
        embedPayload(s.image.frame, s.map, record, {
          profile: 'robust',
          keyRing: ring,
          constraints: s.constraints,
          robustMaxShift,
        });
      } catch (e) {
        caught = e;
      }
      expect(caught instanceof StegoGatewayError && caught.code).toBe('INVALID_OPTION');
    }
  });

  it('gives an out-of-reach bit its sign: the whole clip width towards the target', () => {
    // Two units saturated against the bit, one free unit: +a cannot be reached.
    expect(solveShift([-CLIP, -CLIP, 0], [0, 0, -100], [0, 0, 100], 60)).toBe(CLIP);
    expect(solveShift([CLIP, CLIP, 0], [0, 0, -100], [0, 0, 100], -60)).toBe(-CLIP);
    // Within reach: the mean lands on the target.
    const lambda = solveShift([10, -20, 5], [-50, -50, -50], [50, 50, 50], 30);
    expect((10 + lambda + (-20 + lambda) + (5 + lambda)) / 3).toBeCloseTo(30, 3);
  });
});
