import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { lookupCapability, type TransferSyntaxCapability } from './capabilities';
import { codecError } from './codec-error';
import {
  j2kFrameHeader,
  jpegFrameHeader,
  rleSegmentLengths,
  type CodestreamHeader,
} from './frame-header';
import {
  bytesPerSample,
  canonicalFrame,
  checkFrameInfo,
  firstStoredDifference,
  nativeFrameLength,
  planarToInterleaved,
  widenTo16,
  type FrameInfo,
} from './frame-info';
import {
  RPCL_PROGRESSION,
  runNative,
  type EncodeParameters,
  type NativeOperation,
  withCodecs,
} from './native-codecs';

/**
 * Frame-level decode and encode for every syntax of the capability table whose pixels are coded
 * frame by frame. Native frames are little endian, interleaved (see frame-info.ts).
 */

export interface EncodeOptions {
  /** JPEG Lossless Process 14 (.4.57): the predictor to use (the original frame's; default 1). */
  readonly predictor?: number;
}

function capabilityOf(syntaxUid: string, direction: 'decode' | 'encode'): TransferSyntaxCapability {
  const capability = lookupCapability(syntaxUid);
  if (capability === undefined) {
    throw codecError('CODEC_UNAVAILABLE', `no codec for unknown transfer syntax [${syntaxUid}]`);
  }
  if (!capability[direction]) {
    throw codecError(
      'CODEC_UNAVAILABLE',
      `cannot ${direction} ${capability.name} [${syntaxUid}] frames`,
    );
  }
  if (['native', 'big-endian', 'deflated-dataset', 'video'].includes(capability.family)) {
    throw codecError(
      'CODEC_UNAVAILABLE',
      `${capability.name} [${syntaxUid}] is not coded frame by frame`,
    );
  }
  return capability;
}

/** What a compressed frame's own headers say, or undefined for families without such headers. */
export function inspectFrame(syntaxUid: string, frame: Uint8Array): CodestreamHeader | undefined {
  const family = lookupCapability(syntaxUid)?.family;
  if (family === 'jpeg' || family === 'jpeg-ls') return jpegFrameHeader(frame);
  if (family === 'jpeg-2000' || family === 'htj2k') return j2kFrameHeader(frame);
  return undefined;
}

function checkHeader(header: CodestreamHeader, info: FrameInfo): void {
  if (
    header.rows !== info.rows ||
    header.columns !== info.columns ||
    header.components !== info.samplesPerPixel
  ) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `the compressed frame holds [${header.rows}x${header.columns}x${header.components}], the header says [${info.rows}x${info.columns}x${info.samplesPerPixel}]`,
    );
  }
  if (
    header.precision !== undefined &&
    (header.precision < 1 || header.precision > info.bitsAllocated)
  ) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `the compressed frame has [${header.precision}]-bit samples in a [${info.bitsAllocated}]-bit container`,
    );
  }
}

/** Family-specific checks before a codec runs; returns the frame's header where it has one. */
function precheck(
  capability: TransferSyntaxCapability,
  frame: Uint8Array,
  info: FrameInfo,
): CodestreamHeader | undefined {
  if (capability.family === 'rle') {
    const lengths = rleSegmentLengths(frame);
    if (lengths.length !== info.samplesPerPixel * bytesPerSample(info)) {
      throw codecError(
        'CODEC_FRAME_MISMATCH',
        `the RLE frame has [${lengths.length}] segments, the header implies [${info.samplesPerPixel * bytesPerSample(info)}]`,
      );
    }
    const plane = info.rows * info.columns;
    const short = lengths.findIndex((n) => n < plane);
    if (short >= 0) {
      throw codecError(
        'CODEC_FRAME_MISMATCH',
        `RLE segment [${short}] decodes to [${lengths[short]}] bytes, a [${info.rows}x${info.columns}] plane needs [${plane}]`,
      );
    }
    return undefined;
  }
  if (
    (capability.family === 'jpeg-2000' || capability.family === 'htj2k') &&
    info.samplesPerPixel === 3 &&
    info.bitsAllocated !== 8
  ) {
    // The WebAssembly JPEG 2000 coders handle colour in 8 bits only (they truncate wider samples).
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `${capability.name} colour with Bits Allocated [${info.bitsAllocated}]`,
    );
  }
  const header = inspectFrame(capability.uid, frame);
  if (header !== undefined) checkHeader(header, info);
  return header;
}

const DECODERS: Partial<Record<string, NativeOperation>> = {
  rle: 'decodeRle',
  jpeg: 'decodeJpeg',
  'jpeg-ls': 'decodeJpegLs',
  'jpeg-2000': 'decodeJpeg2000',
  htj2k: 'decodeHtJpeg2000',
  'jpeg-xl': 'decodeJpegXl',
};

/** Shapes a codec's output into a native frame of exactly the expected length. */
function normalise(
  out: Uint8Array,
  info: FrameInfo,
  header: CodestreamHeader | undefined,
): Uint8Array {
  const expected = nativeFrameLength(info);
  let frame = out;
  if (info.bitsAllocated === 16 && frame.length === expected / 2 && (header?.precision ?? 9) <= 8) {
    frame = widenTo16(frame); // an 8-bit codestream in a 16-bit container
  }
  if (frame.length === expected + 1) frame = frame.subarray(0, expected); // odd-length padding
  if (frame.length !== expected) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `the decoded frame has [${frame.length}] bytes, [${expected}] expected`,
    );
  }
  if (info.samplesPerPixel === 3 && header?.interleave === 0)
    return planarToInterleaved(frame, info);
  return frame;
}

/**
 * Decodes one frame (its fragments concatenated) of `syntaxUid` into a native frame. JPEG colour
 * comes back in the colour space it was coded in (no YBR to RGB conversion); JPEG 2000 colour with a
 * multiple-component transform (YBR_RCT / YBR_ICT) comes back as RGB.
 */
export async function decodeFrame(
  syntaxUid: string,
  frame: Uint8Array,
  info: FrameInfo,
): Promise<Uint8Array> {
  const capability = capabilityOf(syntaxUid, 'decode');
  checkFrameInfo(info);
  const expected = nativeFrameLength(info);
  if (capability.family === 'encapsulated-uncompressed')
    return normalise(frame.slice(), info, undefined);
  if (capability.family === 'deflated-frame') {
    try {
      // maxOutputLength bounds a deflate bomb to one frame's size.
      return normalise(
        new Uint8Array(inflateRawSync(frame, { maxOutputLength: expected + 1 })),
        info,
        undefined,
      );
    } catch (cause) {
      throw codecError('CODEC_DECODE_FAILED', 'the deflated frame could not be inflated', cause);
    }
  }
  const header = precheck(capability, frame, info);
  const operation = DECODERS[capability.family];
  if (operation === undefined)
    throw codecError('CODEC_UNAVAILABLE', `no decoder for ${capability.name}`);
  // The 8-bit JPEG decoder writes one byte per sample but spaces rows by Bits Allocated: ask it for
  // 8-bit rows and widen them afterwards (normalise).
  const narrow =
    capability.family === 'jpeg' && info.bitsAllocated === 16 && (header?.precision ?? 16) <= 8;
  const codecInfo = narrow ? { ...info, bitsAllocated: 8 } : info;
  return normalise(
    await withCodecs(() =>
      runNative(operation, frame, codecInfo, info.photometricInterpretation, {}),
    ),
    info,
    header,
  );
}

function encodeCall(
  capability: TransferSyntaxCapability,
  info: FrameInfo,
  options: EncodeOptions,
): { operation: NativeOperation; parameters: EncodeParameters } {
  switch (capability.uid) {
    case '1.2.840.10008.1.2.5':
      return { operation: 'encodeRle', parameters: { lossy: false } };
    case '1.2.840.10008.1.2.4.57':
      return {
        operation: 'encodeJpeg',
        parameters: { lossy: false, predictor: options.predictor ?? 1, pointTransform: 0 },
      };
    case '1.2.840.10008.1.2.4.70':
      return {
        operation: 'encodeJpeg',
        parameters: { lossy: false, predictor: 1, pointTransform: 0 },
      };
    case '1.2.840.10008.1.2.4.80':
      return { operation: 'encodeJpegLs', parameters: { lossy: false } };
    case '1.2.840.10008.1.2.4.90':
      // PS3.5 8.2.4: YBR_RCT means the reversible colour transform is in the codestream; RGB not.
      return {
        operation: 'encodeJpeg2000',
        parameters: { lossy: false, allowMct: info.photometricInterpretation === 'YBR_RCT' },
      };
    case '1.2.840.10008.1.2.4.201':
      return { operation: 'encodeHtJpeg2000', parameters: { lossy: false } };
    case '1.2.840.10008.1.2.4.202':
      return {
        operation: 'encodeHtJpeg2000',
        parameters: { lossy: false, progressionOrder: RPCL_PROGRESSION },
      };
    case '1.2.840.10008.1.2.4.110':
      return { operation: 'encodeJpegXl', parameters: { lossy: false } };
    default:
      throw codecError('CODEC_UNAVAILABLE', `no encoder for ${capability.name}`);
  }
}

/** The photometric interpretation the native frame handed to an encoder is in. */
function nativePhotometric(info: FrameInfo): string {
  // Decoded JPEG 2000 colour is RGB (the inverse transform ran); the encoder applies it again.
  return info.photometricInterpretation === 'YBR_RCT' ||
    info.photometricInterpretation === 'YBR_ICT'
    ? 'RGB'
    : info.photometricInterpretation;
}

/**
 * Encodes one native frame in `syntaxUid` (lossless settings only). Samples are first put in
 * canonical form (frame-info.ts), so bits above High Bit are not carried over.
 */
export async function encodeFrame(
  syntaxUid: string,
  native: Uint8Array,
  info: FrameInfo,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const capability = capabilityOf(syntaxUid, 'encode');
  checkFrameInfo(info);
  if (native.length < nativeFrameLength(info)) {
    throw codecError(
      'CODEC_FRAME_MISMATCH',
      `the native frame has [${native.length}] bytes, [${nativeFrameLength(info)}] expected`,
    );
  }
  const family = capability.family;
  if (family === 'encapsulated-uncompressed') return canonicalFrame(native, info, 'sign-extended');
  if (family === 'deflated-frame') {
    return new Uint8Array(deflateRawSync(canonicalFrame(native, info, 'sign-extended')));
  }
  // JPEG lossless codes unsigned samples of Bits Stored bits (T.81 H.1), and the JPEG 2000 coder
  // reads samples of 8 bits or less as unsigned bytes: both get the stored bits, unsigned, and the
  // DICOM header keeps the sign. Both also want one byte per sample for 8 bits or less.
  const unsignedCoding = family === 'jpeg' || (family === 'jpeg-2000' && info.bitsStored <= 8);
  const narrow = unsignedCoding && info.bitsAllocated === 16 && info.bitsStored <= 8;
  const canonical = canonicalFrame(native, info, unsignedCoding ? 'masked' : 'sign-extended');
  const input = narrow ? canonical.filter((_, i) => i % 2 === 0) : canonical;
  const codecInfo = {
    ...info,
    ...(unsignedCoding ? { signed: false } : {}),
    ...(narrow ? { bitsAllocated: 8 } : {}),
  };
  if (
    (family === 'jpeg-2000' || family === 'htj2k') &&
    info.samplesPerPixel === 3 &&
    info.bitsAllocated !== 8
  ) {
    throw codecError(
      'CODEC_UNSUPPORTED_IMAGE',
      `${capability.name} colour with Bits Allocated [${info.bitsAllocated}]`,
    );
  }
  const { operation, parameters } = encodeCall(capability, info, options);
  return withCodecs(() =>
    runNative(operation, input, codecInfo, nativePhotometric(info), parameters),
  );
}

/**
 * encodeFrame, then decode the result and compare every stored sample with `native`: the frame
 * is returned only if decoding it gives exactly the pixels it was made from.
 */
export async function encodeFrameVerified(
  syntaxUid: string,
  native: Uint8Array,
  info: FrameInfo,
  options: EncodeOptions = {},
): Promise<Uint8Array> {
  const encoded = await encodeFrame(syntaxUid, native, info, options);
  const decodeInfo = { ...info, photometricInterpretation: nativePhotometric(info) };
  const decoded = await decodeFrame(syntaxUid, encoded, decodeInfo);
  const at = firstStoredDifference(native, decoded, info);
  if (at >= 0) {
    throw codecError(
      'CODEC_ROUNDTRIP_MISMATCH',
      `re-encoded ${lookupCapability(syntaxUid)?.name ?? syntaxUid} frame differs from its pixels at sample [${at}]`,
    );
  }
  return encoded;
}
