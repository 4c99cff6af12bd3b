import fc from 'fast-check';
import { readDicomImage } from '../../src/dicom';
import { StegoGatewayError } from '../../src/stego/errors';
import { readData } from './data-files';

/** Only coded errors, never a TypeError or RangeError from deep inside. */
function outcome(bytes: Uint8Array): string {
  try {
    readDicomImage(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof StegoGatewayError) return error.code;
    throw error;
  }
}

describe('readDicomImage on damaged files', () => {
  const sources = [
    readData('formats/pydicom-test-files/MR_small.dcm'),
    readData('formats/pydicom-test-files/MR_small_implicit.dcm'),
    readData('formats/pydicom-test-files/CT_small.dcm'),
    readData('formats/pydicom-test-files/rtplan.dcm'),
  ];

  it('answers any truncation with a code', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.double({ min: 0, max: 1 }),
        (s, f) => {
          const src = sources[s] as Uint8Array;
          return typeof outcome(src.slice(0, Math.floor(f * src.length))) === 'string';
        },
      ),
      { seed: 1, numRuns: 300 },
    );
  });

  it('answers corrupted header bytes with a code', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: sources.length - 1 }),
        fc.array(fc.tuple(fc.integer({ min: 128, max: 1500 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (s, edits) => {
          const bytes = (sources[s] as Uint8Array).slice();
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          return typeof outcome(bytes) === 'string';
        },
      ),
      { seed: 2, numRuns: 500 },
    );
  });
});

describe('bytes after Pixel Data', () => {
  it('tolerates trailing garbage after a complete Pixel Data element and keeps it on write', async () => {
    const { writeDicomFrames } = await import('../../src/dicom');
    const original = readData('formats/pydicom-test-files/MR_small.dcm');
    const withTail = new Uint8Array(original.length + 7);
    withTail.set(original);
    withTail.set([0, 0, 0, 0, 0x41, 0x42, 0x43], original.length);
    const image = readDicomImage(withTail);
    expect(image.frames).toHaveLength(1);
    const frames = image.frames.map((f) => ({ ...f, samples: f.samples.map((v) => v + 1) }));
    const written = writeDicomFrames(withTail, image, frames);
    expect(
      Buffer.compare(written.subarray(original.length), withTail.subarray(original.length)),
    ).toBe(0);
  });

  it('still refuses a file cut inside Pixel Data', () => {
    const original = readData('formats/pydicom-test-files/MR_small.dcm');
    const { offset } = readDicomImage(original).pixelData;
    expect(outcome(original.slice(0, offset + 100))).toBe('TRUNCATED_FILE');
    // MR_small ends with Data Set Trailing Padding (FFFC,FFFC): cut there, the image is whole.
    expect(outcome(original.slice(0, original.length - 10))).toBe('ok');
  });
});
