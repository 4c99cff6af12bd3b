import fs from 'node:fs';
import path from 'node:path';
import {
  CODEC_ERROR_STATUS,
  decodeFrame,
  embedPolicyFor,
  encodeFrame,
  encodeFrameVerified,
  lookupCapability,
  storedValues,
  TRANSFER_SYNTAX_CAPABILITIES,
  type FrameInfo,
} from '../../src/dicom/codecs';
import { TRANSFER_SYNTAXES } from '../../src/dicom/transfer-syntaxes';
import { StegoGatewayError } from '../../src/stego/errors';

/** The capability table says what the codecs do; these tests hold it to that. */

const ROWS = [...TRANSFER_SYNTAX_CAPABILITIES.values()];
const FRAME_CODED = ROWS.filter(
  (r) => !['native', 'big-endian', 'deflated-dataset', 'video'].includes(r.family),
);

/** A seeded image with smooth structure and noise, in canonical native form. */
function syntheticFrame(info: FrameInfo, seed: number): Uint8Array {
  const wide = info.bitsAllocated === 16;
  const count = info.rows * info.columns * info.samplesPerPixel;
  const out = new Uint8Array(count * (wide ? 2 : 1));
  const [min, max] = info.signed
    ? [-(2 ** (info.bitsStored - 1)), 2 ** (info.bitsStored - 1) - 1]
    : [0, 2 ** info.bitsStored - 1];
  let state = seed >>> 0;
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const pixel = Math.floor(i / info.samplesPerPixel);
    const x = pixel % info.columns;
    const y = Math.floor(pixel / info.columns);
    const smooth = ((Math.sin(x / 7) + Math.cos(y / 5) + 2) / 4) * (max - min) + min;
    const noisy = Math.round(smooth + ((state >>> 24) - 128) * ((max - min) / 4096));
    const v = Math.min(max, Math.max(min, noisy)) & (wide ? 0xffff : 0xff);
    if (wide) {
      out[2 * i] = v & 0xff;
      out[2 * i + 1] = v >>> 8;
    } else {
      out[i] = v;
    }
  }
  return out;
}

const MONO = (bitsAllocated: number, bitsStored: number, signed: boolean): FrameInfo => ({
  rows: 40,
  columns: 52,
  bitsAllocated,
  bitsStored,
  samplesPerPixel: 1,
  signed,
  photometricInterpretation: 'MONOCHROME2',
});
const FORMATS: readonly (readonly [string, FrameInfo])[] = [
  ['8-bit unsigned', MONO(8, 8, false)],
  ['8-bit signed', MONO(8, 8, true)],
  ['8 of 16 bits unsigned', MONO(16, 8, false)],
  ['7 of 8 bits unsigned', MONO(8, 7, false)],
  ['12 of 16 bits unsigned', MONO(16, 12, false)],
  ['16-bit signed', MONO(16, 16, true)],
  ['12 of 16 bits signed', MONO(16, 12, true)],
  ['RGB 8-bit', { ...MONO(8, 8, false), samplesPerPixel: 3, photometricInterpretation: 'RGB' }],
];

function codeOf(error: unknown): string {
  return error instanceof StegoGatewayError
    ? error.code
    : `not a StegoGatewayError: ${String(error)}`;
}

async function codeOfCall(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'no error';
  } catch (error) {
    return codeOf(error);
  }
}

describe('capability table', () => {
  it('has a frozen row for every transfer syntax the adapter knows', () => {
    for (const uid of TRANSFER_SYNTAXES.keys()) expect(lookupCapability(uid)?.uid).toBe(uid);
    for (const row of ROWS) expect(Object.isFrozen(row)).toBe(true);
  });

  it('ties the embed policy to what the codecs can do', () => {
    for (const row of ROWS) {
      const policy = row.embedPolicy;
      if (!row.lossless) expect([row.uid, policy]).toEqual([row.uid, 'passthrough-lossy-warning']);
      if (policy === 'embed-reencode-same-syntax')
        expect([row.uid, row.decode, row.encode, row.lossless]).toEqual([
          row.uid,
          true,
          true,
          true,
        ]);
      if (policy === 'store-as-explicit-le') expect([row.uid, row.decode]).toEqual([row.uid, true]);
      if (policy === 'embed-native') expect(row.family).toBe('native');
    }
    expect(embedPolicyFor('1.2.3.4.5.6')).toBe('refuse');
    expect(embedPolicyFor('1.2.840.10008.1.2.4.90')).toBe('embed-reencode-same-syntax');
    expect(embedPolicyFor('1.2.840.10008.1.2.4.50')).toBe('passthrough-lossy-warning');
    expect(embedPolicyFor('1.2.840.10008.1.2.2')).toBe('store-as-explicit-le');
  });

  it('gives every codec error code an HTTP status and documents it in docs/formats.md', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/formats.md'), 'utf8');
    for (const [code, status] of Object.entries(CODEC_ERROR_STATUS)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(doc).toMatch(new RegExp(`\`${code}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
    // The capability table in the doc is the frozen table's (regenerate with scripts/formats-survey.ts).
    for (const row of ROWS) expect(doc).toContain(`\`${row.uid}\``);
  });
});

describe.each(FRAME_CODED.filter((r) => r.encode).map((r) => [r.name, r.uid] as const))(
  'encode claim: %s',
  (_name, uid) => {
    it.each(FORMATS)('%s: encode -> decode gives the same samples', async (_format, info) => {
      const native = syntheticFrame(info, 7);
      const encoded = await encodeFrameVerified(uid, native, info);
      expect(encoded.length).toBeGreaterThan(0);
      expect(storedValues(await decodeFrame(uid, encoded, info), info)).toEqual(
        storedValues(native, info),
      );
    });
  },
);

describe('refusals', () => {
  it('refuses to encode where the table says no, and unknown syntaxes', async () => {
    const info = FORMATS[0]?.[1] as FrameInfo;
    const native = syntheticFrame(info, 1);
    for (const row of ROWS.filter((r) => !r.encode)) {
      expect([row.uid, await codeOfCall(() => encodeFrame(row.uid, native, info))]).toEqual([
        row.uid,
        'CODEC_UNAVAILABLE',
      ]);
    }
    expect(await codeOfCall(() => decodeFrame('1.2.3.4', native, info))).toBe('CODEC_UNAVAILABLE');
    expect(await codeOfCall(() => decodeFrame('1.2.840.10008.1.2.1', native, info))).toBe(
      'CODEC_UNAVAILABLE',
    );
    expect(await codeOfCall(() => decodeFrame('1.2.840.10008.1.2.4.100', native, info))).toBe(
      'CODEC_UNAVAILABLE',
    );
  });

  it.each([
    ['1-bit', { ...MONO(8, 8, false), bitsAllocated: 1, bitsStored: 1 }],
    ['32-bit', { ...MONO(16, 16, false), bitsAllocated: 32, bitsStored: 32 }],
    ['two samples', { ...MONO(8, 8, false), samplesPerPixel: 2 }],
    ['no rows', { ...MONO(8, 8, false), rows: 0 }],
    ['30000 x 30000 x 16-bit', { ...MONO(16, 16, false), rows: 30000, columns: 30000 }],
  ])('refuses a %s image with CODEC_UNSUPPORTED_IMAGE', async (_what, info) => {
    expect(
      await codeOfCall(() => decodeFrame('1.2.840.10008.1.2.5', new Uint8Array(64), info)),
    ).toBe('CODEC_UNSUPPORTED_IMAGE');
  });

  it('refuses a compressed frame of another size than the header says', async () => {
    const info = MONO(16, 16, true);
    for (const uid of [
      '1.2.840.10008.1.2.4.70',
      '1.2.840.10008.1.2.4.80',
      '1.2.840.10008.1.2.4.90',
      '1.2.840.10008.1.2.5',
    ]) {
      const encoded = await encodeFrame(uid, syntheticFrame(info, 3), info);
      const code = await codeOfCall(() => decodeFrame(uid, encoded, { ...info, rows: 20 }));
      // RLE has no size in its header: segments longer than the planes make its decoder fail.
      const expected =
        uid === '1.2.840.10008.1.2.5' ? 'CODEC_DECODE_FAILED' : 'CODEC_FRAME_MISMATCH';
      expect([uid, code]).toEqual([uid, expected]);
      // More rows than the frame holds: for RLE, segments too short for the planes.
      const short = await codeOfCall(() => decodeFrame(uid, encoded, { ...info, rows: 80 }));
      expect([uid, short]).toEqual([uid, 'CODEC_FRAME_MISMATCH']);
    }
  });

  it('answers garbage and truncated frames with a code, and decodes valid frames afterwards', async () => {
    const info = MONO(16, 16, true);
    const native = syntheticFrame(info, 5);
    let state = 12345;
    const random = (n: number): Uint8Array =>
      Uint8Array.from({ length: n }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state >>> 24;
      });
    for (const row of FRAME_CODED.filter((r) => r.decode && r.encode)) {
      const valid = await encodeFrame(row.uid, native, info);
      const broken = [
        random(200),
        valid.subarray(0, Math.floor(valid.length / 3)),
        Uint8Array.of(0xff, 0xd8, 0xff),
        new Uint8Array(0),
      ];
      for (const frame of broken) {
        const code = await codeOfCall(() => decodeFrame(row.uid, frame, info));
        // A truncated frame may still decode (codecs pad); otherwise it is refused with a code.
        expect([row.uid, code]).toEqual([
          row.uid,
          expect.stringMatching(/^(CODEC_[A-Z_]+|no error)$/),
        ]);
      }
      expect(storedValues(await decodeFrame(row.uid, valid, info), info)).toEqual(
        storedValues(native, info),
      );
    }
  });

  it('keeps valid frames decoding while failing ones run concurrently (the reload waits)', async () => {
    const info = MONO(16, 12, false);
    const native = syntheticFrame(info, 11);
    const uid = '1.2.840.10008.1.2.4.80';
    const valid = await encodeFrame(uid, native, info);
    // Half a frame: its header passes, the codec itself fails (and the module is marked for reload).
    const garbage = valid.subarray(0, valid.length >> 1);
    const results = await Promise.allSettled(
      Array.from({ length: 24 }, (_, i) => decodeFrame(uid, i % 2 === 0 ? garbage : valid, info)),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) {
        expect(r.status === 'rejected' ? codeOf(r.reason) : 'fulfilled').toMatch(/^CODEC_/);
      } else {
        expect(r.status).toBe('fulfilled');
        if (r.status === 'fulfilled')
          expect(storedValues(r.value, info)).toEqual(storedValues(native, info));
      }
    });
  });
});
