/**
 * A tiny reader for the test data only: the first frame of a Part 10 file with explicit VR little
 * endian, native pixel data, 16 bits allocated. The real adapter lives in src/dicom (another
 * module); the engine's tests stay independent of it.
 */
import { readFileSync } from 'node:fs';
import type { PixelFrame } from '../../../src/stego/types';

export interface TestImage {
  readonly frame: PixelFrame;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly pixelPaddingValue?: number;
}

const LONG_VRS = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

export function readTestImage(path: string): TestImage {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 128, 132) !== 'DICM') throw new Error(`not Part 10 [${path}]`);
  const values = new Map<number, Buffer>();
  let offset = 132;
  let pixelData: Buffer | undefined;
  const readElements = (end: number, depth: number): void => {
    while (offset < end) {
      const group = buf.readUInt16LE(offset);
      const element = buf.readUInt16LE(offset + 2);
      const tag = group * 65536 + element;
      if (group === 0xfffe) {
        const length = buf.readUInt32LE(offset + 4);
        offset += 8;
        if (element === 0xe00d || element === 0xe0dd) return;
        if (element === 0xe000 && length !== 0xffffffff) offset += length;
        else if (element === 0xe000) readElements(buf.length, depth + 1);
        continue;
      }
      const vr = buf.toString('latin1', offset + 4, offset + 6);
      let length: number;
      if (LONG_VRS.has(vr)) {
        length = buf.readUInt32LE(offset + 8);
        offset += 12;
      } else {
        length = buf.readUInt16LE(offset + 6);
        offset += 8;
      }
      if (length === 0xffffffff) {
        readElements(buf.length, depth + 1);
        continue;
      }
      if (depth === 0) {
        if (tag === 0x7fe00010) pixelData = buf.subarray(offset, offset + length);
        else values.set(tag, buf.subarray(offset, offset + length));
      }
      offset += length;
    }
  };
  readElements(buf.length, 0);
  const u16 = (tag: number): number => {
    const v = values.get(tag);
    if (v === undefined) throw new Error(`missing tag ${tag.toString(16)} [${path}]`);
    return v.readUInt16LE(0);
  };
  const ds = (tag: number, fallback: number): number => {
    const v = values.get(tag);
    return v === undefined ? fallback : Number(v.toString('latin1').trim().split('\\')[0]);
  };
  const rows = u16(0x00280010);
  const columns = u16(0x00280011);
  const bitsAllocated = u16(0x00280100);
  const bitsStored = u16(0x00280101);
  const signed = u16(0x00280103) === 1;
  if (bitsAllocated !== 16 || pixelData === undefined)
    throw new Error(`unsupported test image [${path}]`);
  const samples = new Int32Array(rows * columns);
  for (let i = 0; i < samples.length; i++) {
    samples[i] = signed ? pixelData.readInt16LE(i * 2) : pixelData.readUInt16LE(i * 2);
  }
  const padRaw = values.get(0x00280120);
  const image: TestImage = {
    frame: { rows, columns, bitsStored, signed, samples },
    rescaleSlope: ds(0x00281053, 1),
    rescaleIntercept: ds(0x00281052, 0),
    ...(padRaw === undefined
      ? {}
      : { pixelPaddingValue: signed ? padRaw.readInt16LE(0) : padRaw.readUInt16LE(0) }),
  };
  return image;
}
