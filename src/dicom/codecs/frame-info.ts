import { codecError } from './codec-error';

/**
 * The image a frame belongs to, from the DICOM header (PS3.3 C.7.6.3). Native frames handed to or
 * returned by the codec layer are little endian, Bits Allocated per sample, colour interleaved
 * (R G B R G B ..., Planar Configuration 0) whatever the original planar configuration was.
 */
export interface FrameInfo {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly samplesPerPixel: number;
  /** Pixel Representation (0028,0103) = 1. */
  readonly signed: boolean;
  readonly photometricInterpretation: string;
}

/**
 * The largest native frame the codecs will produce (512 MiB: a 16-bit 16384 x 16384 frame), so that a
 * small hostile frame cannot make a codec allocate gigabytes.
 */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export function bytesPerSample(info: FrameInfo): number {
  return info.bitsAllocated / 8;
}

/** Byte length of one native frame. */
export function nativeFrameLength(info: FrameInfo): number {
  return info.rows * info.columns * info.samplesPerPixel * bytesPerSample(info);
}

/** Refuses an image the codecs cannot represent (1-bit, 32-bit, two samples, zero size, ...). */
export function checkFrameInfo(info: FrameInfo): void {
  const { rows, columns, bitsAllocated, bitsStored, samplesPerPixel } = info;
  if (
    !Number.isInteger(rows) ||
    !Number.isInteger(columns) ||
    rows < 1 ||
    columns < 1 ||
    rows > 65535 ||
    columns > 65535
  ) {
    throw codecError('CODEC_UNSUPPORTED_IMAGE', `frame size [${rows}x${columns}]`);
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `Bits Allocated [${bitsAllocated}] (codecs handle 8 and 16)`,
    );
  }
  if (!Number.isInteger(bitsStored) || bitsStored < 1 || bitsStored > bitsAllocated) {
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `Bits Stored [${bitsStored}] with Bits Allocated [${bitsAllocated}]`,
    );
  }
  if (samplesPerPixel !== 1 && samplesPerPixel !== 3) {
    throw codecError('CODEC_UNSUPPORTED_IMAGE', `Samples per Pixel [${samplesPerPixel}]`);
  }
  if (nativeFrameLength(info) > MAX_FRAME_BYTES) {
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `a [${rows}x${columns}x${samplesPerPixel}] frame needs more than [${MAX_FRAME_BYTES}] bytes`,
    );
  }
}

function sampleAt(bytes: Uint8Array, i: number, wide: boolean): number {
  return wide ? (bytes[2 * i] ?? 0) | ((bytes[2 * i + 1] ?? 0) << 8) : (bytes[i] ?? 0);
}

/** The stored value of every sample (bits 0..BitsStored-1, sign-extended when signed). */
export function storedValues(native: Uint8Array, info: FrameInfo): Int32Array {
  const count = info.rows * info.columns * info.samplesPerPixel;
  const wide = info.bitsAllocated === 16;
  const mask = 2 ** info.bitsStored - 1;
  const signBit = 2 ** (info.bitsStored - 1);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const v = sampleAt(native, i, wide) & mask;
    out[i] = info.signed && v >= signBit ? v - 2 * signBit : v;
  }
  return out;
}

/**
 * A copy of a native frame with every sample in canonical form: its stored value in the low
 * BitsStored bits and, above them, the sign extension (signed, `form` 'sign-extended') or zeros
 * (unsigned, or `form` 'masked'). Bits above High Bit are not part of the pixel value (PS3.5 8.1.1)
 * and are not kept by re-encoding; JPEG lossless wants unsigned samples of BitsStored bits, the
 * others two's complement in the container.
 */
export function canonicalFrame(
  native: Uint8Array,
  info: FrameInfo,
  form: 'sign-extended' | 'masked',
): Uint8Array {
  const values = storedValues(native, info);
  const out = new Uint8Array(nativeFrameLength(info));
  const mask = 2 ** info.bitsStored - 1;
  const wide = info.bitsAllocated === 16;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    const raw = form === 'masked' ? v & mask : v & (wide ? 0xffff : 0xff);
    if (wide) {
      out[2 * i] = raw & 0xff;
      out[2 * i + 1] = (raw >>> 8) & 0xff;
    } else {
      out[i] = raw & 0xff;
    }
  }
  return out;
}

/** Index of the first sample whose stored value differs, or -1 when all agree. */
export function firstStoredDifference(a: Uint8Array, b: Uint8Array, info: FrameInfo): number {
  const va = storedValues(a, info);
  const vb = storedValues(b, info);
  for (let i = 0; i < va.length; i++) if (va[i] !== vb[i]) return i;
  return -1;
}

/** Planar (RRR.. GGG.. BBB..) to interleaved (RGB RGB ..) for 3 samples per pixel. */
export function planarToInterleaved(planar: Uint8Array, info: FrameInfo): Uint8Array {
  const pixels = info.rows * info.columns;
  const bps = bytesPerSample(info);
  const out = new Uint8Array(planar.length);
  for (let s = 0; s < 3; s++) {
    for (let p = 0; p < pixels; p++) {
      for (let k = 0; k < bps; k++) {
        out[(p * 3 + s) * bps + k] = planar[(s * pixels + p) * bps + k] ?? 0;
      }
    }
  }
  return out;
}

/** 8-bit samples widened to 16-bit little endian (a codec that returns one byte per sample). */
export function widenTo16(bytes8: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes8.length * 2);
  for (let i = 0; i < bytes8.length; i++) out[2 * i] = bytes8[i] ?? 0;
  return out;
}
