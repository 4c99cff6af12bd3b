import type { PixelFrame } from '../stego/types';
import { StegoGatewayError } from '../stego/errors';

/**
 * Native (uncompressed, little endian) pixel data <-> integer samples (PS3.5 8.1.1, 8.2). Each sample
 * occupies Bits Allocated bits; its value sits in bits HighBit-BitsStored+1 .. HighBit; the bits
 * around it are not part of the value (they may hold overlay bits in old files) and are kept as they
 * were when writing back.
 */
export interface PixelLayout {
  readonly rows: number;
  readonly columns: number;
  readonly numberOfFrames: number;
  readonly bitsAllocated: 8 | 16;
  readonly bitsStored: number;
  readonly highBit: number;
  readonly signed: boolean;
}

export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

export function frameByteLength(layout: PixelLayout): number {
  return layout.rows * layout.columns * (layout.bitsAllocated / 8);
}

/** [min, max] of a stored sample: the stored-bits range, signed or unsigned. */
export function storedRange(bitsStored: number, signed: boolean): readonly [number, number] {
  return signed ? [-(2 ** (bitsStored - 1)), 2 ** (bitsStored - 1) - 1] : [0, 2 ** bitsStored - 1];
}

function readRaw(bytes: Uint8Array, offset: number, bitsAllocated: 8 | 16): number {
  return bitsAllocated === 8
    ? (bytes[offset] ?? 0)
    : (bytes[offset] ?? 0) | ((bytes[offset + 1] ?? 0) << 8);
}

/** `count` little-endian 16-bit values at `offset`, viewed in place when aligned, else copied. */
function uint16View(bytes: Uint8Array, offset: number, count: number): Uint16Array {
  const start = bytes.byteOffset + offset;
  if (start % 2 === 0) return new Uint16Array(bytes.buffer, start, count);
  return new Uint16Array(bytes.slice(offset, offset + 2 * count).buffer);
}

/** Decodes every frame of native pixel data at `range` in `bytes`. */
export function decodeFrames(
  bytes: Uint8Array,
  range: ByteRange,
  layout: PixelLayout,
): PixelFrame[] {
  const { rows, columns, bitsAllocated, bitsStored, highBit, signed } = layout;
  const count = rows * columns;
  const bytesPerSample = bitsAllocated / 8;
  const shift = highBit + 1 - bitsStored;
  const mask = 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  const frames: PixelFrame[] = [];
  for (let f = 0; f < layout.numberOfFrames; f++) {
    const samples = new Int32Array(count);
    const base = range.offset + f * count * bytesPerSample;
    // 16-bit samples through a typed view (little-endian hosts; copied first when unaligned).
    const raw16 = bitsAllocated === 16 ? uint16View(bytes, base, count) : undefined;
    if (raw16 !== undefined && bitsStored === 16) {
      samples.set(signed ? new Int16Array(raw16.buffer, raw16.byteOffset, count) : raw16);
    } else if (raw16 !== undefined) {
      for (let i = 0; i < count; i++) {
        const v = ((raw16[i] ?? 0) >>> shift) & mask;
        samples[i] = signed && v >= signBit ? v - 2 * signBit : v;
      }
    } else {
      for (let i = 0; i < count; i++) {
        const raw = readRaw(bytes, base + i * bytesPerSample, bitsAllocated);
        const v = (raw >>> shift) & mask;
        samples[i] = signed && v >= signBit ? v - 2 * signBit : v;
      }
    }
    frames.push({ rows, columns, bitsStored, signed, samples });
  }
  return frames;
}

/**
 * A copy of `original` in which the samples of `frames` are written into the pixel data at `range`.
 * Only the bits of the stored value change, and only in samples whose value differs from the
 * original's; every other byte of the file is copied as it was.
 */
export function patchFrames(
  original: Uint8Array,
  range: ByteRange,
  layout: PixelLayout,
  frames: readonly PixelFrame[],
  /** The frames as decoded from `original`, when the caller has them (saves decoding again). */
  before: readonly PixelFrame[] = decodeFrames(original, range, layout),
): Uint8Array {
  const { rows, columns, bitsAllocated, bitsStored, highBit, signed } = layout;
  if (frames.length !== layout.numberOfFrames) {
    throw new StegoGatewayError(
      'FRAME_MISMATCH',
      `expected [${layout.numberOfFrames}] frames, got [${frames.length}]`,
    );
  }
  // A copy, never a view: Buffer.prototype.slice (node) shares memory with the caller's bytes.
  const out = new Uint8Array(original);
  const count = rows * columns;
  const bytesPerSample = bitsAllocated / 8;
  const shift = highBit + 1 - bitsStored;
  const mask = 2 ** bitsStored - 1;
  const [min, max] = storedRange(bitsStored, signed);
  frames.forEach((frame, f) => {
    if (frame.rows !== rows || frame.columns !== columns || frame.samples.length !== count) {
      throw new StegoGatewayError(
        'FRAME_MISMATCH',
        `frame [${f}] is ${frame.rows}x${frame.columns}, the image is ${rows}x${columns}`,
      );
    }
    const previous = before[f]?.samples;
    const base = range.offset + f * count * bytesPerSample;
    for (let i = 0; i < count; i++) {
      const v = frame.samples[i] ?? 0;
      if (previous !== undefined && previous[i] === v) continue;
      if (v < min || v > max || !Number.isInteger(v)) {
        throw new StegoGatewayError(
          'SAMPLE_OUT_OF_RANGE',
          `sample [${v}] of frame [${f}] is outside the stored range [${min}, ${max}]`,
        );
      }
      const o = base + i * bytesPerSample;
      const raw = readRaw(out, o, bitsAllocated);
      const field = (v & mask) * 2 ** shift;
      const keep = raw & ~(mask * 2 ** shift);
      const next = keep | field;
      out[o] = next & 0xff;
      if (bitsAllocated === 16) out[o + 1] = (next >>> 8) & 0xff;
    }
  });
  return out;
}
