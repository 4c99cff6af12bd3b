import { readDicomImage, writeDicomFrames } from '../../src/dicom';
import { analyseFrame, embedIdentity, extractIdentity } from '../../src/pipeline';
import { createThresholdSegmenter } from '../../src/segmentation/threshold-segmenter';
import { DEFAULT_MARGIN_PX } from '../../src/stego/block-map';
import { extractPayload } from '../../src/stego/embed';
import { SeededRandom } from '../../src/stego/prng';
import type { PixelFrame } from '../../src/stego/types';
import { readData } from '../dicom/data-files';
import { seededBytes, testKeyRing } from './pipeline-fixtures';

// Extraction re-segments the image. On a noisy copy, noise lifts some background samples above
// what the segmenter cannot see, and their blocks drop out of the exact map; the extractor then
// tries the loose map (mask, margin, padding), which the seal keeps from reading anything false.
describe('extractIdentity on a copy whose background became visible here and there', () => {
  const segmenter = createThresholdSegmenter();
  const keyRing = testKeyRing(3, 'k-extract');

  it('reads the robust record back through the loose map when the exact map loses too many blocks', async () => {
    const cover = readData('ct/lung-pet-ct-dx/1-05.dcm');
    const { bytes } = await embedIdentity(cover, {
      profile: 'robust',
      keyRing,
      segmenter,
      randomBytes: seededBytes(5),
    });
    const stego = readDicomImage(bytes);
    const frame = stego.frames[0] as PixelFrame;
    const before = await analyseFrame(stego, frame, segmenter, DEFAULT_MARGIN_PX);
    expect(before.looseMap).toBeDefined();
    // One sample in each of 70% of the usable blocks set to -400 HU (stored 624): a speck the
    // robust detector's order statistics ignore, but one the segmenter's range does not hold.
    const rng = new SeededRandom(9);
    const samples = Int32Array.from(frame.samples);
    const { blockColumns, usable } = before.map;
    let specks = 0;
    for (let b = 0; b < usable.length; b++) {
      if (usable[b] === 0 || rng.next() >= 0.7) continue;
      const y = Math.floor(b / blockColumns) * 4 + 1;
      const x = (b % blockColumns) * 4 + 2;
      samples[y * frame.columns + x] = 624;
      specks++;
    }
    expect(specks).toBeGreaterThan(100);
    const specked = writeDicomFrames(bytes, stego, [{ ...frame, samples }]);
    const image = readDicomImage(specked);
    const after = await analyseFrame(image, image.frames[0] as PixelFrame, segmenter, 4);
    const exact = extractPayload(image.frames[0] as PixelFrame, after.map, {
      profile: 'robust',
      keyRing,
    });
    expect(exact.ok).toBe(false);
    const read = await extractIdentity(specked, { keyRing, segmenter, profile: 'robust' });
    expect(read.ok).toBe(true);
    const clean = await extractIdentity(bytes, { keyRing, segmenter, profile: 'robust' });
    expect(
      read.ok && clean.ok && Buffer.from(read.payload).equals(Buffer.from(clean.payload)),
    ).toBe(true);
  });

  it('still says wrong key, not a second map, when no key of the ring opens the payload', async () => {
    const cover = readData('ct/lung-pet-ct-dx/1-05.dcm');
    const { bytes } = await embedIdentity(cover, { profile: 'fidelity', keyRing, segmenter });
    const other = testKeyRing(4, 'k-other');
    const read = await extractIdentity(bytes, { keyRing: other, segmenter, profile: 'fidelity' });
    expect(read.ok).toBe(false);
    if (!read.ok) expect(read.reason).toBe('wrong-key');
  });
});
