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
