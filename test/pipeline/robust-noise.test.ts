/**
 * @jest-environment ./test/segmentation/helpers/ort-environment.ts
 */
import { paddingMask, readDicomImage, writeDicomFrames } from '../../src/dicom';
import {
  embedIdentity,
  extractIdentity,
  identityPayload,
  identityRecordOf,
} from '../../src/pipeline';
import { framePadding } from '../../src/pipeline/frame-context';
import { createSegmenter } from '../../src/segmentation/create-segmenter';
import type { Segmenter } from '../../src/segmentation/segmenter';
import { gaussianNoise, saltAndPepperNoise, uniformNoise } from '../../src/stego/attacks';
import { psnrMax65535 } from '../../src/stego/metrics';
import type { PixelFrame } from '../../src/stego/types';
import { ctAndMrRows, readData } from '../dicom/data-files';
import { testKeyRing } from './pipeline-fixtures';

/**
 * The robust profile through the whole pipeline under the paper's attacks: embed into the DICOM
 * file, add noise to the saved pixels, write them back into the DICOM bytes with the adapter, and
 * extract with the pipeline (the block map recomputed from the noisy image by each segmenter).
 */
const NOW = new Date('2026-11-26T08:00:00.000Z');
const SIGMA = 147;
const ATTACKS: readonly [string, (f: PixelFrame, seed: number) => PixelFrame][] = [
  ['gaussian', (f, seed) => gaussianNoise(f, SIGMA, seed)],
  ['uniform', (f, seed) => uniformNoise(f, SIGMA, seed)],
  ['salt-and-pepper', (f, seed) => saltAndPepperNoise(f, SIGMA, seed)],
];
/** CMB-CRC: circular field of view, Pixel Padding Value -2000; TCGA: no padding. */
const SLICES = [
  'ct/cmb-crc-chest-abdomen/1-001.dcm',
  'ct/cmb-crc-chest-abdomen/1-041.dcm',
  'ct/cmb-crc-chest-abdomen/1-081.dcm',
  'ct/tcga-thca-whole-body/1-001.dcm',
  'ct/tcga-thca-whole-body/1-041.dcm',
];
const ring = testKeyRing(11, 'robust-noise');

describe('padding at extraction', () => {
  const ct = ctAndMrRows().filter((r) => r.path.startsWith('ct/'));

  it('on every clean CT file, the tolerant padding is exactly the declared padding', () => {
    let withPadding = 0;
    for (const row of ct) {
      const image = readDicomImage(readData(row.path));
      for (const frame of image.frames) {
        const exact = paddingMask(frame, image.paddingRange);
        const tolerant = framePadding(image, frame);
        expect([row.path, tolerant === undefined]).toEqual([row.path, exact === undefined]);
        if (exact === undefined || tolerant === undefined) continue;
        withPadding++;
        expect([row.path, Buffer.compare(tolerant, exact)]).toEqual([row.path, 0]);
      }
    }
    expect(withPadding).toBeGreaterThanOrEqual(25);
  });

  it('after noise, the padding of a circular field of view is still padding', () => {
    const image = readDicomImage(readData('ct/cmb-crc-chest-abdomen/1-041.dcm'));
    const frame = image.frames[0] as PixelFrame;
    const exact = paddingMask(frame, image.paddingRange) as Uint8Array;
    const noisy = gaussianNoise(frame, SIGMA, 5);
    const afterExact = paddingMask(noisy, image.paddingRange) as Uint8Array;
    const afterTolerant = framePadding(image, noisy) as Uint8Array;
    let padding = 0;
    let keptExact = 0;
    let keptTolerant = 0;
    for (let i = 0; i < exact.length; i++) {
      if (!exact[i]) continue;
      padding++;
      keptExact += afterExact[i] as number;
      keptTolerant += afterTolerant[i] as number;
    }
    expect(padding).toBeGreaterThan(10000);
    expect(keptExact / padding).toBeLessThan(0.9);
    expect(keptTolerant).toBe(padding);
  });
});

describe.each(['threshold', 'onnx-maskrcnn'] as const)(
  'robust record after noise, through the pipeline (%s segmenter)',
  (name) => {
    let segmenter: Segmenter;
    beforeAll(async () => {
      segmenter = await createSegmenter(name);
    });

    it.each(SLICES)('%s', async (p) => {
      const input = readData(p);
      const { bytes, report } = await embedIdentity(input, {
        profile: 'robust',
        keyRing: ring,
        segmenter,
        now: NOW,
      });
      expect(report.summary.psnrMax65535).toBeGreaterThanOrEqual(70);
      const image = readDicomImage(input);
      const expected = identityPayload(
        'robust',
        identityRecordOf(image.header, undefined, NOW, ring.activeKeyId),
        ring,
      );
      const stego = readDicomImage(bytes);
      for (const [a, [attack, apply]] of ATTACKS.entries()) {
        const noisy = stego.frames.map((f, i) => apply(f, 101 * a + i + p.length));
        const attackPsnr = psnrMax65535(
          (stego.frames[0] as PixelFrame).samples,
          (noisy[0] as PixelFrame).samples,
        );
        expect(attackPsnr).toBeLessThan(56);
        const noisyBytes = writeDicomFrames(bytes, stego, noisy);
        const x = await extractIdentity(noisyBytes, {
          keyRing: ring,
          segmenter,
          profile: 'robust',
        });
        expect([attack, x.ok]).toEqual([attack, true]);
        if (!x.ok) continue;
        expect([attack, Buffer.compare(x.payload, expected)]).toEqual([attack, 0]);
        expect(x.identity.kind === 'compact' && x.identity.digestMatches).toBe(true);
      }
    });
  },
);
