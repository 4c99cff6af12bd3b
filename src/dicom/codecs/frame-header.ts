import { codecError } from './codec-error';

/**
 * What a compressed frame says about itself, read from its own headers before any codec runs: the
 * image it holds (to refuse a frame that does not match the DICOM header, instead of letting a codec
 * read past its data) and whether its coding is reversible (a lossless syntax holding a lossy
 * frame is not embedded into).
 */
export interface CodestreamHeader {
  readonly rows: number;
  readonly columns: number;
  readonly components: number;
  /** Sample precision in bits (JPEG P, JPEG-LS P, J2K Ssiz+1); undefined for RLE. */
  readonly precision: number | undefined;
  /** True when the coding is reversible (JPEG process 14, JPEG-LS NEAR = 0, J2K 5-3 wavelet, RLE). */
  readonly reversible: boolean;
  /** JPEG lossless predictor (selection value, T.81 Table H.1), when the frame has one. */
  readonly predictor?: number;
  /** JPEG-LS interleave mode of the first scan (T.87 C.2.3: 0 none = planes, 1 line, 2 sample). */
  readonly interleave?: number;
}

const u16 = (b: Uint8Array, o: number): number => ((b[o] ?? 0) << 8) | (b[o + 1] ?? 0);
const u32 = (b: Uint8Array, o: number): number => u16(b, o) * 65536 + u16(b, o + 2);

function truncated(what: string): never {
  throw codecError('CODEC_DECODE_FAILED', `the compressed frame ends inside its ${what}`);
}

/**
 * JPEG (ITU-T T.81 B.2) and JPEG-LS (ITU-T T.87 C.2): marker segments from SOI up to the first SOS.
 * SOF0..SOF15 (not DHT C4, JPG C8, DAC CC) and SOF55 (F7) give the frame; the SOS gives the
 * predictor (lossless JPEG) or NEAR (JPEG-LS).
 */
export function jpegFrameHeader(b: Uint8Array): CodestreamHeader {
  if (b[0] !== 0xff || b[1] !== 0xd8) {
    throw codecError('CODEC_DECODE_FAILED', 'the JPEG frame does not start with an SOI marker');
  }
  let pos = 2;
  let frame:
    | { rows: number; columns: number; components: number; precision: number; sof: number }
    | undefined;
  for (;;) {
    while (b[pos] === 0xff && b[pos + 1] === 0xff) pos++; // fill bytes (T.81 B.1.1.2)
    if (pos + 4 > b.length) truncated('JPEG headers');
    if (b[pos] !== 0xff) {
      throw codecError('CODEC_DECODE_FAILED', `no JPEG marker at byte [${pos}] of the frame`);
    }
    const marker = b[pos + 1] ?? 0;
    const length = u16(b, pos + 2);
    if (length < 2)
      throw codecError('CODEC_DECODE_FAILED', `JPEG segment length [${length}] at byte [${pos}]`);
    const body = pos + 4;
    if (pos + 2 + length > b.length) truncated('JPEG headers');
    const isSof =
      (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) || marker === 0xf7;
    if (isSof) {
      if (length < 8) truncated('JPEG frame header');
      frame = {
        precision: b[body] ?? 0,
        rows: u16(b, body + 1),
        columns: u16(b, body + 3),
        components: b[body + 5] ?? 0,
        sof: marker,
      };
    } else if (marker === 0xda) {
      if (frame === undefined)
        throw codecError('CODEC_DECODE_FAILED', 'JPEG scan before any frame header');
      const ns = b[body] ?? 0;
      const ss = b[body + 1 + 2 * ns] ?? 0; // predictor (lossless JPEG) or NEAR (JPEG-LS)
      const common = {
        rows: frame.rows,
        columns: frame.columns,
        components: frame.components,
        precision: frame.precision,
      };
      if (frame.sof === 0xf7) {
        return { ...common, reversible: ss === 0, interleave: b[body + 2 + 2 * ns] ?? 0 };
      }
      // SOF3 / SOF7 / SOF11 / SOF15: lossless processes (T.81 Table B.1).
      const lossless = [0xc3, 0xc7, 0xcb, 0xcf].includes(frame.sof);
      return lossless
        ? { ...common, reversible: true, predictor: ss }
        : { ...common, reversible: false };
    }
    pos += 2 + length;
  }
}

/** JPEG 2000 / HTJ2K main header (ISO/IEC 15444-1 A.5.1 SIZ, A.6.1 COD), raw or in a JP2 box. */
export function j2kFrameHeader(input: Uint8Array): CodestreamHeader {
  let b = input;
  if (!(b[0] === 0xff && b[1] === 0x4f)) {
    // A JP2 file: the codestream follows the 'jp2c' box type.
    const at = indexOf(b, [0x6a, 0x70, 0x32, 0x63]);
    if (at < 0)
      throw codecError('CODEC_DECODE_FAILED', 'no JPEG 2000 codestream (SOC marker) in the frame');
    b = b.subarray(at + 4);
    if (!(b[0] === 0xff && b[1] === 0x4f)) {
      throw codecError('CODEC_DECODE_FAILED', 'no JPEG 2000 codestream (SOC marker) in the frame');
    }
  }
  if (b.length < 4 + 40 || b[2] !== 0xff || b[3] !== 0x51) truncated('JPEG 2000 SIZ marker');
  const siz = 6; // past SOC (2), SIZ marker (2), Lsiz (2)
  const columns = u32(b, siz + 2) - u32(b, siz + 10);
  const rows = u32(b, siz + 6) - u32(b, siz + 14);
  const components = u16(b, siz + 34);
  const precision = ((b[siz + 36] ?? 0) & 0x7f) + 1;
  // Walk the main header to COD: its last SPcod byte is the wavelet (1 = 5-3 reversible).
  let pos = 4 + u16(b, 4);
  let reversible = false;
  while (pos + 4 <= b.length && b[pos] === 0xff) {
    const marker = b[pos + 1] ?? 0;
    if (marker === 0x90 || marker === 0x93) break; // SOT / SOD: end of the main header
    const length = u16(b, pos + 2);
    if (marker === 0x52) {
      if (pos + 14 > b.length) truncated('JPEG 2000 COD marker');
      reversible = b[pos + 13] === 1; // marker 2, Lcod 2, Scod 1, SGcod 4, SPcod: levels, xcb, ycb, style, transform
      break;
    }
    if (length < 2) break;
    pos += 2 + length;
  }
  return { rows, columns, components, precision, reversible };
}

function indexOf(b: Uint8Array, needle: readonly number[]): number {
  const limit = Math.min(b.length - needle.length, 4096);
  for (let i = 0; i <= limit; i++) {
    if (needle.every((v, k) => b[i + k] === v)) return i;
  }
  return -1;
}

/** RLE (PS3.5 G.3.1): 64-byte header, number of segments then 15 offsets, little endian. */
export function rleSegmentCount(b: Uint8Array): number {
  if (b.length < 64) truncated('RLE header');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const segments = view.getUint32(0, true);
  if (segments < 1 || segments > 15) {
    throw codecError('CODEC_DECODE_FAILED', `RLE header announces [${segments}] segments`);
  }
  let previous = 63;
  for (let i = 0; i < segments; i++) {
    const offset = view.getUint32(4 + 4 * i, true);
    if (offset <= previous || offset >= b.length) {
      throw codecError(
        'CODEC_DECODE_FAILED',
        `RLE segment [${i}] offset [${offset}] is out of order or past the frame`,
      );
    }
    previous = offset;
  }
  return segments;
}

/**
 * How many bytes each RLE segment decodes to (PackBits, PS3.5 G.3.1), counted without decoding. A
 * segment shorter than one byte plane would leave the rest of the plane to the decoder's zeros.
 */
export function rleSegmentLengths(b: Uint8Array): number[] {
  const segments = rleSegmentCount(b);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const offsets = Array.from({ length: segments }, (_, i) => view.getUint32(4 + 4 * i, true));
  return offsets.map((start, i) => {
    const end = offsets[i + 1] ?? b.length;
    let decoded = 0;
    let pos = start;
    while (pos < end) {
      const n = view.getInt8(pos);
      if (n >= 0) {
        decoded += n + 1;
        pos += n + 2;
      } else if (n !== -128) {
        decoded += 1 - n;
        pos += 2;
      } else {
        pos += 1;
      }
    }
    return decoded;
  });
}
