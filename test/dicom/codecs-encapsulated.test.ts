import fc from 'fast-check';
import {
  encapsulateFrames,
  frameFragments,
  readEncapsulatedPixelData,
  replacePixelDataValue,
} from '../../src/dicom/codecs';
import { StegoGatewayError } from '../../src/stego/errors';
import { compressedFrames, loadImage, readData } from '../formats/format-files';

/** Encapsulated Pixel Data (PS3.5 A.4): items, Basic Offset Table, frames. */

function item(element: number, value: Uint8Array | number[]): number[] {
  const bytes = [...value];
  return [0xfe, 0xff, element & 0xff, element >>> 8, ...u32(bytes.length), ...bytes];
}
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}
const DELIMITER = [0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0];
const SOI = [0xff, 0xd8];

function codeOf(call: () => unknown): string {
  try {
    call();
    return 'no error';
  } catch (error) {
    return error instanceof StegoGatewayError ? error.code : String(error);
  }
}

function frames(value: number[], numberOfFrames: number): number[][] {
  const bytes = Uint8Array.from(value);
  return frameFragments(bytes, readEncapsulatedPixelData(bytes, 0), numberOfFrames).map((f) => [
    ...f,
  ]);
}

describe('encapsulated Pixel Data', () => {
  it('round-trips any frames through encapsulateFrames and frameFragments (odd frames get one pad byte)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 6 }),
        (input) => {
          const value = encapsulateFrames(input);
          const parsed = readEncapsulatedPixelData(value, 0);
          expect(parsed.endOffset).toBe(value.length);
          expect(parsed.fragments.every((f) => f.length % 2 === 0)).toBe(true);
          expect(parsed.basicOffsetTable).toHaveLength(input.length > 1 ? input.length : 0);
          const out = frameFragments(value, parsed, input.length);
          out.forEach((frame, i) => {
            const original = input[i] as Uint8Array;
            expect([...frame]).toEqual(
              original.length % 2 === 0 ? [...original] : [...original, 0],
            );
          });
        },
      ),
    );
  });

  it('joins the fragments of a frame by the Basic Offset Table', () => {
    // Frame 0: fragments A, B (8 + 2, 8 + 4 bytes); frame 1: C at offset 22.
    const value = [
      ...item(0xe000, [...u32(0), ...u32(22)]),
      ...item(0xe000, [1, 2]),
      ...item(0xe000, [3, 4, 5, 6]),
      ...item(0xe000, [7, 8]),
      ...DELIMITER,
    ];
    expect(frames(value, 2)).toEqual([
      [1, 2, 3, 4, 5, 6],
      [7, 8],
    ]);
  });

  it('splits by codestream start markers when there is no Basic Offset Table', () => {
    const value = [
      ...item(0xe000, []),
      ...item(0xe000, [...SOI, 1, 2]),
      ...item(0xe000, [3, 4]),
      ...item(0xe000, [...SOI, 5, 6]),
      ...DELIMITER,
    ];
    expect(frames(value, 2)).toEqual([
      [...SOI, 1, 2, 3, 4],
      [...SOI, 5, 6],
    ]);
    // One frame: every fragment belongs to it.
    expect(frames(value, 1)).toEqual([[...SOI, 1, 2, 3, 4, ...SOI, 5, 6]]);
  });

  it('reads a real JPEG 2000 frame split over ten fragments', () => {
    const image = loadImage(readData('formats/pydicom-data/MR2_J2KR.dcm'));
    const parsed = readEncapsulatedPixelData(image.bytes, image.pixel.valueOffset);
    expect(parsed.fragments.length).toBeGreaterThan(1);
    expect(parsed.endOffset).toBe(image.pixel.endOffset);
    const [frame] = compressedFrames(image);
    expect(frame?.length).toBe(parsed.fragments.reduce((n, f) => n + f.length, 0));
    expect([frame?.[0], frame?.[1]]).toEqual([0xff, 0x4f]);
  });

  it.each([
    ['no Basic Offset Table item', [...item(0xe00d, []), ...DELIMITER], 1],
    ['a Basic Offset Table of 3 bytes', [...item(0xe000, [0, 0, 0]), ...DELIMITER], 1],
    ['no sequence delimiter', [...item(0xe000, []), ...item(0xe000, [1, 2])], 1],
    [
      'a fragment longer than the data',
      [...item(0xe000, []), 0xfe, 0xff, 0x00, 0xe0, ...u32(100), 1, 2],
      1,
    ],
    [
      'an undefined-length fragment',
      [...item(0xe000, []), 0xfe, 0xff, 0x00, 0xe0, ...u32(0xffffffff), ...DELIMITER],
      1,
    ],
    [
      'a foreign tag among fragments',
      [...item(0xe000, []), 0x08, 0x00, 0x10, 0x00, ...u32(2), 1, 2, ...DELIMITER],
      1,
    ],
    ['no fragment', [...item(0xe000, []), ...DELIMITER], 1],
    [
      'fewer fragments than frames',
      [...item(0xe000, []), ...item(0xe000, [1, 2]), ...DELIMITER],
      2,
    ],
    [
      'a Basic Offset Table of the wrong size',
      [...item(0xe000, u32(0)), ...item(0xe000, [1, 2]), ...item(0xe000, [3, 4]), ...DELIMITER],
      2,
    ],
    [
      'a Basic Offset Table entry inside a fragment',
      [
        ...item(0xe000, [...u32(0), ...u32(3)]),
        ...item(0xe000, [1, 2]),
        ...item(0xe000, [3, 4]),
        ...DELIMITER,
      ],
      2,
    ],
    [
      'offsets that decrease',
      [
        ...item(0xe000, [...u32(10), ...u32(0)]),
        ...item(0xe000, [1, 2]),
        ...item(0xe000, [3, 4]),
        ...DELIMITER,
      ],
      2,
    ],
    [
      'fragments that cannot be told apart',
      [
        ...item(0xe000, []),
        ...item(0xe000, [1, 2]),
        ...item(0xe000, [3, 4]),
        ...item(0xe000, [5, 6]),
        ...DELIMITER,
      ],
      2,
    ],
  ])('refuses %s with ENCAPSULATION_MALFORMED', (_what, value, numberOfFrames) => {
    expect(codeOf(() => frames(value, numberOfFrames))).toBe('ENCAPSULATION_MALFORMED');
  });

  it('replaces only the Pixel Data value', () => {
    const original = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...replacePixelDataValue(original, 2, 5, Uint8Array.of(9, 9))]).toEqual([
      1, 2, 9, 9, 6, 7, 8,
    ]);
    expect([...original]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(codeOf(() => replacePixelDataValue(original, 5, 20, new Uint8Array(0)))).toBe(
      'ENCAPSULATION_MALFORMED',
    );
    expect(codeOf(() => encapsulateFrames([]))).toBe('ENCAPSULATION_MALFORMED');
  });
});
