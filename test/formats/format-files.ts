import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { frameFragments, readEncapsulatedPixelData, type FrameInfo } from '../../src/dicom/codecs';
import { decodeHeader, headerNumber, headerString } from '../../src/dicom/header';
import { TAG, walkPart10, type WalkedElement } from '../../src/dicom/tag-walker';

/** ../shared/data, relative to the repository root (never copied into the repo). */
export const DATA_DIR = path.resolve(__dirname, '../../../shared/data');

/** Every file below `dir`, recursively, as absolute paths in sorted order. */
export function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
    )
    .sort();
}

export function readData(relative: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(DATA_DIR, relative)));
}

export interface LoadedImage {
  readonly bytes: Uint8Array;
  readonly syntax: string;
  readonly info: FrameInfo;
  readonly numberOfFrames: number;
  readonly planarConfiguration: number;
  readonly pixel: WalkedElement;
}

/** A little-endian Part 10 image: its syntax, pixel layout and Pixel Data element. */
export function loadImage(bytes: Uint8Array): LoadedImage {
  const walked = walkPart10(bytes);
  const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
  if (pixel === undefined) throw new Error('no Pixel Data');
  const h = decodeHeader(bytes, pixel.elementOffset);
  const num = (k: string, d?: number): number => {
    const v = headerNumber(h, k) ?? d;
    if (v === undefined) throw new Error(`no ${k}`);
    return v;
  };
  return {
    bytes,
    syntax: walked.transferSyntaxUid,
    pixel,
    numberOfFrames: num('NumberOfFrames', 1),
    planarConfiguration: num('PlanarConfiguration', 0),
    info: {
      rows: num('Rows'),
      columns: num('Columns'),
      bitsAllocated: num('BitsAllocated'),
      bitsStored: num('BitsStored', num('BitsAllocated')),
      samplesPerPixel: num('SamplesPerPixel', 1),
      signed: headerNumber(h, 'PixelRepresentation') === 1,
      photometricInterpretation: headerString(h, 'PhotometricInterpretation') ?? '',
    },
  };
}

/** The compressed frames of an encapsulated image. */
export function compressedFrames(image: LoadedImage): Uint8Array[] {
  const encapsulated = readEncapsulatedPixelData(image.bytes, image.pixel.valueOffset);
  return frameFragments(image.bytes, encapsulated, image.numberOfFrames);
}

/** The native frames of a native little-endian image, interleaved (planar data is reordered). */
export function nativeFrames(image: LoadedImage): Uint8Array[] {
  const { rows, columns, samplesPerPixel, bitsAllocated } = image.info;
  const bps = bitsAllocated / 8;
  const frameLength = rows * columns * samplesPerPixel * bps;
  const value = image.bytes.subarray(image.pixel.valueOffset);
  return Array.from({ length: image.numberOfFrames }, (_, f) => {
    const frame = value.slice(f * frameLength, (f + 1) * frameLength);
    if (samplesPerPixel === 1 || image.planarConfiguration === 0) return frame;
    const pixels = rows * columns;
    const out = new Uint8Array(frameLength);
    for (let s = 0; s < samplesPerPixel; s++) {
      for (let p = 0; p < pixels; p++) {
        for (let k = 0; k < bps; k++) {
          out[(p * samplesPerPixel + s) * bps + k] = frame[(s * pixels + p) * bps + k] ?? 0;
        }
      }
    }
    return out;
  });
}

/** Runs a dcmtk decoder (dcmdjpls, dcmdrle, dcmdjpeg, ...) on `bytes`; returns the output file. */
export function dcmtkDecode(
  tool: string,
  bytes: Uint8Array,
  extraArgs: readonly string[] = [],
): Uint8Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codecs-dcmtk-'));
  try {
    const input = path.join(dir, 'in.dcm');
    const output = path.join(dir, 'out.dcm');
    fs.writeFileSync(input, bytes);
    execFileSync(tool, [...extraArgs, input, output], { stdio: 'pipe' });
    return new Uint8Array(fs.readFileSync(output));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Refusals of the corpus, each for a stated cause in the file (see docs/formats.md). */
export const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'NOT_DICOM',
  'MALFORMED_DICOM',
  'TRUNCATED_FILE',
  'UNSUPPORTED_TRANSFER_SYNTAX',
  'UNSUPPORTED_PHOTOMETRIC',
  'UNSUPPORTED_BITS_ALLOCATED',
  'UNSUPPORTED_PIXEL_FORMAT',
  'NO_BACKGROUND',
  'PAYLOAD_TOO_LARGE',
  'CODEC_UNAVAILABLE',
  'CODEC_DECODE_FAILED',
  'CODEC_UNSUPPORTED_IMAGE',
  'CODEC_FRAME_MISMATCH',
  'ENCAPSULATION_MALFORMED',
]);
