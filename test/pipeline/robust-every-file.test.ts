/**
 * @jest-environment ./test/segmentation/helpers/ort-environment.ts
 */
import { readDicomImage } from '../../src/dicom';
import {
  embedIdentity,
  extractIdentity,
  identityPayload,
  identityRecordOf,
} from '../../src/pipeline';
import { createSegmenter } from '../../src/segmentation/create-segmenter';
import type { Segmenter } from '../../src/segmentation/segmenter';
import type { PixelFrame } from '../../src/stego/types';
import { ctAndMrRows, readData } from '../dicom/data-files';
import { testKeyRing } from './pipeline-fixtures';

/**
 * The robust profile through the pipeline on every CT and MR file: the record comes back exactly
 * from the saved file. The mouse MR (background 0, body 5..120) is the hard case: a shift sized by
 * the PSNR budget alone (~30 units) made its background look like tissue; the strength is now
 * capped by the image's own contrast (robust-strength.ts).
 */
const NOW = new Date('2026-11-26T08:00:00.000Z');
const ring = testKeyRing(12, 'robust-every-file');
const rows = ctAndMrRows();
const mr = rows.filter((r) => r.path.startsWith('mr/'));

async function roundTrip(p: string, segmenter: Segmenter): Promise<void> {
  const input = readData(p);
  const { bytes, report } = await embedIdentity(input, {
    profile: 'robust',
    keyRing: ring,
    segmenter,
    now: NOW,
  });
  const image = readDicomImage(input);
  const expected = identityPayload(
    'robust',
    identityRecordOf(image.header, undefined, NOW, ring.activeKeyId),
    ring,
  );
  const x = await extractIdentity(bytes, { keyRing: ring, segmenter, profile: 'robust' });
  expect([p, x.ok]).toEqual([p, true]);
  if (!x.ok) return;
  expect([p, Buffer.compare(x.payload, expected)]).toEqual([p, 0]);
  expect(report.frames.every((f) => f.changedPixels > 0)).toBe(true);
  // Only the background changed, and by at most the strength used.
  const stego = readDicomImage(bytes);
  image.frames.forEach((cover: PixelFrame, f) => {
    const after = stego.frames[f] as PixelFrame;
    const limit = report.frames[f]?.robustMaxShift ?? 0;
    let worst = 0;
    for (let i = 0; i < cover.samples.length; i++) {
      worst = Math.max(
        worst,
        Math.abs((after.samples[i] as number) - (cover.samples[i] as number)),
      );
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(limit);
  });
}

describe('robust round trip on every CT and MR file (threshold segmenter)', () => {
  let segmenter: Segmenter;
  beforeAll(async () => {
    segmenter = await createSegmenter('threshold');
  });
  it('has CT and MR files', () => {
    expect(rows.length).toBeGreaterThan(100);
    expect(mr.length).toBeGreaterThanOrEqual(18);
  });
  it.each(rows.map((r) => r.path))('%s', async (p) => roundTrip(p, segmenter));
});

describe('robust round trip on every MR file (onnx-maskrcnn segmenter)', () => {
  let segmenter: Segmenter;
  beforeAll(async () => {
    segmenter = await createSegmenter('onnx-maskrcnn');
  });
  it.each(mr.map((r) => r.path))('%s', async (p) => roundTrip(p, segmenter));
});
