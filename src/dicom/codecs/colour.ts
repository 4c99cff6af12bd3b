import type { PixelFrame } from '../../stego/types';
import { codecError } from './codec-error';
import { storedValues, type FrameInfo } from './frame-info';

/**
 * What embedding means for each Photometric Interpretation (PS3.3 C.7.6.3.1.2). The engine embeds
 * in one plane of integer samples (a PixelFrame); for colour that plane is the carrier below, and
 * extraction reads the same plane back.
 *
 * - MONOCHROME1 / MONOCHROME2: the only sample.
 * - RGB (also JPEG 2000 YBR_RCT / YBR_ICT, which decode to RGB): the carrier is G, the largest
 *   weight of luminance (BT.601: 0.299 R + 0.587 G + 0.114 B). The change made to G is made to R and
 *   B as well (clamped to their range), so a grey background pixel stays grey and Cb, Cr do not move
 *   (their weights sum to zero); extraction reads G alone, so a clamped R or B costs nothing.
 * - YBR_FULL: the carrier is Y (luminance); Cb and Cr are left alone.
 * - YBR_FULL_422 (native, two Y per Cb Cr pair, PS3.3 C.7.6.3.1.2): the carrier is every Y sample;
 *   chroma is left alone. Needs an even number of columns.
 * - PALETTE COLOR: refused. A pixel is an index into a lookup table; index +-1 can be any colour, so
 *   a change that is invisible for intensities can be a visible speck here.
 * - YBR_PARTIAL_420 / YBR_PARTIAL_422, CMYK, ARGB, HSV (retired or lossy-only): refused.
 */
export type ColourCarrier = 'monochrome' | 'rgb-green' | 'ybr-luma' | 'ybr-422-luma';

export type ColourPolicy =
  | { readonly kind: 'embed'; readonly carrier: ColourCarrier }
  | { readonly kind: 'refuse'; readonly code: 'UNSUPPORTED_PHOTOMETRIC'; readonly reason: string };

const refuse = (reason: string): ColourPolicy => ({
  kind: 'refuse',
  code: 'UNSUPPORTED_PHOTOMETRIC',
  reason,
});

/**
 * The colour policy for an image, as it is after decoding (JPEG 2000 YBR_RCT / YBR_ICT decode to
 * RGB; JPEG YBR_FULL_422 decodes to full-resolution YBR_FULL samples).
 */
export function colourPolicy(
  photometricInterpretation: string,
  samplesPerPixel: number,
): ColourPolicy {
  const p = photometricInterpretation;
  if (p === 'MONOCHROME1' || p === 'MONOCHROME2') {
    return samplesPerPixel === 1
      ? { kind: 'embed', carrier: 'monochrome' }
      : refuse(`${p} with [${samplesPerPixel}] samples per pixel`);
  }
  if (p === 'PALETTE COLOR') {
    return refuse(
      'PALETTE COLOR: pixels are lookup-table indices, and a neighbouring index can be any colour',
    );
  }
  if (samplesPerPixel !== 3) return refuse(`[${p}] with [${samplesPerPixel}] samples per pixel`);
  if (p === 'RGB' || p === 'YBR_RCT' || p === 'YBR_ICT')
    return { kind: 'embed', carrier: 'rgb-green' };
  if (p === 'YBR_FULL') return { kind: 'embed', carrier: 'ybr-luma' };
  if (p === 'YBR_FULL_422') return { kind: 'embed', carrier: 'ybr-422-luma' };
  return refuse(`photometric interpretation [${p}] has no defined carrier`);
}

/** Index (in samples of the native frame) of the carrier sample of pixel `i` (row-major). */
function carrierIndex(carrier: ColourCarrier, i: number, columns: number): number {
  switch (carrier) {
    case 'monochrome':
      return i;
    case 'rgb-green':
      return 3 * i + 1;
    case 'ybr-luma':
      return 3 * i;
    case 'ybr-422-luma': {
      // Y1 Y2 Cb Cr for each pair of pixels on a row.
      const row = Math.floor(i / columns);
      const column = i % columns;
      return (row * (columns / 2) + Math.floor(column / 2)) * 4 + (column % 2);
    }
  }
}

/** Number of samples in a native frame of this carrier layout. */
function sampleCount(carrier: ColourCarrier, info: FrameInfo): number {
  const pixels = info.rows * info.columns;
  if (carrier === 'monochrome') return pixels;
  return carrier === 'ybr-422-luma' ? pixels * 2 : pixels * 3;
}

function checkLayout(carrier: ColourCarrier, native: Uint8Array, info: FrameInfo): void {
  if (carrier === 'ybr-422-luma' && info.columns % 2 !== 0) {
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `YBR_FULL_422 with an odd number of columns [${info.columns}]`,
    );
  }
  const needed = sampleCount(carrier, info) * (info.bitsAllocated / 8);
  if (native.length < needed) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `the native frame has [${native.length}] bytes, [${needed}] expected`,
    );
  }
}

/** All samples of a native frame as stored values, as if it were one plane of `count` samples. */
function allValues(native: Uint8Array, info: FrameInfo, count: number): Int32Array {
  return storedValues(native, { ...info, rows: 1, columns: count, samplesPerPixel: 1 });
}

/** The carrier plane of a native frame (little endian, interleaved), for the engine. */
export function carrierFrame(
  native: Uint8Array,
  info: FrameInfo,
  carrier: ColourCarrier,
): PixelFrame {
  checkLayout(carrier, native, info);
  const values = allValues(native, info, sampleCount(carrier, info));
  const pixels = info.rows * info.columns;
  const samples = new Int32Array(pixels);
  for (let i = 0; i < pixels; i++) samples[i] = values[carrierIndex(carrier, i, info.columns)] ?? 0;
  return {
    rows: info.rows,
    columns: info.columns,
    bitsStored: info.bitsStored,
    signed: info.signed,
    samples,
  };
}

function writeSample(out: Uint8Array, index: number, value: number, info: FrameInfo): void {
  const mask = 2 ** info.bitsStored - 1;
  if (info.bitsAllocated === 8) {
    out[index] = ((out[index] ?? 0) & ~mask & 0xff) | (value & mask);
    return;
  }
  const old = (out[2 * index] ?? 0) | ((out[2 * index + 1] ?? 0) << 8);
  const next = (old & ~mask & 0xffff) | (value & mask);
  out[2 * index] = next & 0xff;
  out[2 * index + 1] = (next >>> 8) & 0xff;
}

/**
 * A copy of `native` with the carrier plane replaced by `stego` (an embedded carrierFrame). For
 * 'rgb-green' the change of each G sample is applied to R and B too, clamped to the stored range.
 */
export function applyCarrier(
  native: Uint8Array,
  info: FrameInfo,
  carrier: ColourCarrier,
  stego: PixelFrame,
): Uint8Array {
  checkLayout(carrier, native, info);
  const pixels = info.rows * info.columns;
  if (
    stego.rows !== info.rows ||
    stego.columns !== info.columns ||
    stego.samples.length !== pixels
  ) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `carrier [${stego.rows}x${stego.columns}] for a [${info.rows}x${info.columns}] frame`,
    );
  }
  const out = native.slice();
  const values = allValues(native, info, sampleCount(carrier, info));
  const [min, max] = info.signed
    ? [-(2 ** (info.bitsStored - 1)), 2 ** (info.bitsStored - 1) - 1]
    : [0, 2 ** info.bitsStored - 1];
  for (let i = 0; i < pixels; i++) {
    const at = carrierIndex(carrier, i, info.columns);
    const next = stego.samples[i] ?? 0;
    const delta = next - (values[at] ?? 0);
    if (delta === 0) continue;
    writeSample(out, at, next, info);
    if (carrier === 'rgb-green') {
      for (const other of [at - 1, at + 1]) {
        writeSample(out, other, Math.min(max, Math.max(min, (values[other] ?? 0) + delta)), info);
      }
    }
  }
  return out;
}
