import { StegoGatewayError } from '../stego/errors';
import { lookupCapability, type TransferSyntaxCapability } from './codecs/capabilities';
import { carrierFrame, colourPolicy, type ColourCarrier } from './codecs/colour';
import { decodeToExplicitLittleEndian } from './codecs/decode-to-native';
import { decodeEncapsulatedImage } from './codecs/encapsulated-image';
import { planarToInterleaved, type FrameInfo } from './codecs/frame-info';
import { EXPLICIT_VR_LITTLE_ENDIAN, toExplicitLittleEndian } from './codecs/to-explicit-le';
import { dicomError } from './dicom-error';
import type { ImageStorage } from './image-storage';
import {
  describeImage,
  readDicomImage,
  requireNativeLength,
  type DicomImage,
  type ImageDescription,
} from './read-dicom-image';
import { walkPart10, type WalkedFile } from './tag-walker';

/**
 * What to do with lossy input (JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000, lossy
 * HTJ2K / JPEG XL, or a lossless syntax holding irreversibly coded frames): it is never re-encoded
 * lossily after embedding.
 * - 'passthrough' (default): a passthrough outcome; the caller stores the original untouched and
 *   warns;
 * - 'store-explicit-le': decoded and opened as Explicit VR Little Endian, written with the payload
 *   in that syntax (Lossy Image Compression "01", PS3.3 C.7.6.1.1.5).
 */
export type LossyPolicy = 'passthrough' | 'store-explicit-le';

export interface OpenDicomOptions {
  readonly lossyPolicy?: LossyPolicy;
  /**
   * 'extract' (read an embedded file: extraction, verification, segmentation) decodes lossy input
   * too, so that it can be searched for a payload; nothing is written. Default 'embed'.
   */
  readonly purpose?: 'embed' | 'extract';
}

/** Why a file passes through: the caller stores (or serves) the original bytes unchanged. */
export type PassthroughReason =
  /** A non-image SOP class (SR, RT plan, waveform, PDF, ...) or no Pixel Data. */
  | 'not-an-image'
  /** Lossy pixels and lossyPolicy 'passthrough'. */
  | 'lossy-compression'
  /** Lossy pixels that cannot be decoded here (video, JPEG XL recompressed JPEG). */
  | 'lossy-undecodable';

export type OpenDicomResult =
  | {
      readonly kind: 'image';
      readonly image: DicomImage;
      /** The transfer syntax that writeDicomImage writes (the original's, or Explicit VR LE). */
      readonly outputTransferSyntaxUid: string;
      /** Things the caller should tell the sender (e.g. lossy input stored as Explicit VR LE). */
      readonly warnings: readonly string[];
    }
  | {
      readonly kind: 'passthrough';
      readonly reason: PassthroughReason;
      /** A sentence naming the SOP class or transfer syntax; no patient attribute. */
      readonly message: string;
      readonly transferSyntaxUid: string;
    };

type Passthrough = Extract<OpenDicomResult, { kind: 'passthrough' }>;

const passthrough = (
  reason: PassthroughReason,
  message: string,
  transferSyntaxUid: string,
): Passthrough => ({ kind: 'passthrough', reason, message, transferSyntaxUid });

/**
 * A plain Uint8Array over the same memory: Buffer's slice() is a view, not a copy, and the writers
 * copy with slice() before changing anything (the caller's bytes must never change).
 */
export function plainView(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function isCode(error: unknown, code: string): error is StegoGatewayError {
  return error instanceof StegoGatewayError && error.code === code;
}

/**
 * Opens any Part 10 file for embedding or extraction, deciding by the frozen capability table
 * (codecs/capabilities.ts) and the colour policy (codecs/colour.ts):
 * - native little endian: frames read as they are (monochrome: readDicomImage, patched in place);
 * - big endian and deflated datasets: rewritten as Explicit VR Little Endian, then opened (written
 *   in that syntax: documented in docs/formats.md);
 * - lossless compressed: every frame decoded; writeDicomImage re-encodes in the same syntax,
 *   verified, and splices the new Pixel Data into the original bytes;
 * - lossy: a 'passthrough' outcome, or Explicit VR Little Endian under lossyPolicy
 *   'store-explicit-le';
 * - colour: the engine sees the carrier plane (G of RGB, Y of YBR); palette colour refused;
 * - non-images: a 'not-an-image' passthrough outcome.
 * Anything else is refused with a coded StegoGatewayError (NOT_DICOM, MALFORMED_DICOM,
 * TRUNCATED_FILE, UNSUPPORTED_*, CODEC_*, ENCAPSULATION_MALFORMED); the input is never modified.
 */
export async function openDicomImage(
  input: Uint8Array,
  options: OpenDicomOptions = {},
): Promise<OpenDicomResult> {
  const bytes = plainView(input);
  const walked = walkPart10(bytes);
  const uid = walked.transferSyntaxUid;
  const capability = lookupCapability(uid);
  if (capability === undefined) {
    throw dicomError('UNSUPPORTED_TRANSFER_SYNTAX', `unknown transfer syntax [${uid}]`);
  }
  if (capability.family === 'big-endian' || capability.family === 'deflated-dataset') {
    return openConverted(toExplicitLittleEndian(bytes), uid, options, []);
  }
  let d: ImageDescription;
  try {
    d = describeImage(bytes, walked);
  } catch (error) {
    if (isCode(error, 'NOT_AN_IMAGE')) return passthrough('not-an-image', error.message, uid);
    throw error;
  }
  switch (capability.embedPolicy) {
    case 'embed-native':
      return image(openNative(bytes, walked, d), uid);
    case 'passthrough-lossy-warning':
      return openLossy(bytes, capability, options, `transfer syntax ${capability.name} [${uid}]`);
    case 'embed-reencode-same-syntax':
      return openEncapsulated(bytes, d, capability, options);
    case 'store-as-explicit-le':
    case 'refuse':
      throw dicomError(
        'UNSUPPORTED_TRANSFER_SYNTAX',
        `transfer syntax ${capability.name} [${uid}]: ${capability.note}`,
      );
  }
}

function image(
  opened: DicomImage,
  outputTransferSyntaxUid: string,
  warnings: readonly string[] = [],
): OpenDicomResult {
  return { kind: 'image', image: opened, outputTransferSyntaxUid, warnings };
}

/** Opens `base` (an Explicit VR Little Endian rewrite) and makes its writer write into it. */
async function openConverted(
  base: Uint8Array,
  originalUid: string,
  options: OpenDicomOptions,
  warnings: readonly string[],
): Promise<OpenDicomResult> {
  const inner = await openDicomImage(base, options);
  if (inner.kind === 'passthrough') return { ...inner, transferSyntaxUid: originalUid };
  const storage: ImageStorage = inner.image.storage ?? {
    kind: 'native-base',
    base,
    outputTransferSyntaxUid: EXPLICIT_VR_LITTLE_ENDIAN,
  };
  return image(
    { ...inner.image, transferSyntaxUid: originalUid, storage },
    EXPLICIT_VR_LITTLE_ENDIAN,
    [...warnings, ...inner.warnings],
  );
}

async function openLossy(
  bytes: Uint8Array,
  capability: TransferSyntaxCapability,
  options: OpenDicomOptions,
  what: string,
): Promise<OpenDicomResult> {
  const decodeIt = options.purpose === 'extract' || options.lossyPolicy === 'store-explicit-le';
  if (!capability.decode) {
    return passthrough(
      'lossy-undecodable',
      `${what} is lossy and cannot be decoded here: stored untouched, no payload`,
      capability.uid,
    );
  }
  if (!decodeIt) {
    return passthrough(
      'lossy-compression',
      `${what} holds lossy pixels: stored untouched, no payload (re-encoding would lose more)`,
      capability.uid,
    );
  }
  return openConverted(await decodeToExplicitLittleEndian(bytes), capability.uid, options, [
    `${what} holds lossy pixels: stored as Explicit VR Little Endian with the payload (Lossy Image Compression 01)`,
  ]);
}

/** The frame layout the codecs and the colour policy work with. */
function frameInfoOf(d: ImageDescription): FrameInfo {
  return {
    rows: d.layout.rows,
    columns: d.layout.columns,
    bitsAllocated: d.layout.bitsAllocated,
    bitsStored: d.layout.bitsStored,
    samplesPerPixel: d.samplesPerPixel,
    signed: d.layout.signed,
    photometricInterpretation: d.photometricInterpretation,
  };
}

function carrierOf(d: ImageDescription): ColourCarrier {
  const policy = colourPolicy(d.photometricInterpretation, d.samplesPerPixel);
  if (policy.kind === 'refuse') throw dicomError('UNSUPPORTED_PHOTOMETRIC', policy.reason);
  return policy.carrier;
}

/** The DicomImage of decoded frames: the engine sees the carrier plane as a monochrome image. */
function carrierImage(
  d: ImageDescription,
  transferSyntaxUid: string,
  frames: DicomImage['frames'],
  pixelLength: number,
  storage: ImageStorage | undefined,
  carrier: ColourCarrier,
): DicomImage {
  const p = d.photometricInterpretation;
  const monochrome = carrier === 'monochrome';
  return {
    ...d.layout,
    transferSyntaxUid,
    sopClassUid: d.sopClassUid,
    modality: d.modality,
    // The carrier of a colour image (G, Y) reads as intensity, like MONOCHROME2.
    photometricInterpretation: p === 'MONOCHROME1' ? 'MONOCHROME1' : 'MONOCHROME2',
    rescaleSlope: d.rescaleSlope,
    rescaleIntercept: d.rescaleIntercept,
    // Pixel Padding Value applies to grayscale samples only (PS3.3 C.7.5.1.1.2).
    paddingRange: monochrome ? d.paddingRange : undefined,
    pixelData: { offset: d.pixel.valueOffset, length: pixelLength },
    frames,
    header: d.header,
    ...(storage === undefined ? {} : { storage }),
  };
}

/** Native little endian: monochrome through readDicomImage; colour through its carrier plane. */
function openNative(bytes: Uint8Array, walked: WalkedFile, d: ImageDescription): DicomImage {
  const carrier = carrierOf(d);
  if (carrier === 'monochrome') return readDicomImage(bytes);
  const info = frameInfoOf(d);
  // YBR_FULL_422 holds two samples per pixel on average (PS3.3 C.7.6.3.1.2).
  const samples = carrier === 'ybr-422-luma' ? 2 : d.samplesPerPixel;
  const range = requireNativeLength(d.pixel, d.layout, samples);
  const frameBytes = d.layout.rows * d.layout.columns * samples * (d.layout.bitsAllocated / 8);
  const planar = d.planarConfiguration === 1 && carrier !== 'ybr-422-luma';
  const natives = Array.from({ length: d.layout.numberOfFrames }, (_, f) => {
    const raw = bytes.subarray(range.offset + f * frameBytes, range.offset + (f + 1) * frameBytes);
    return planar ? planarToInterleaved(raw, info) : raw.slice();
  });
  const frames = natives.map((n) => carrierFrame(n, info, carrier));
  const storage: ImageStorage = {
    kind: 'native-colour',
    base: bytes,
    outputTransferSyntaxUid: walked.transferSyntaxUid,
    natives,
    info,
    carrier,
    valueOffset: range.offset,
    planar,
    frameBytes,
  };
  return carrierImage(d, walked.transferSyntaxUid, frames, range.length, storage, carrier);
}

/**
 * Lossless compressed: every frame decoded; frames whose own header says they were coded
 * irreversibly (a lossless syntax holding lossy data) make the file lossy.
 */
async function openEncapsulated(
  bytes: Uint8Array,
  d: ImageDescription,
  capability: TransferSyntaxCapability,
  options: OpenDicomOptions,
): Promise<OpenDicomResult> {
  const carrier = carrierOf(d);
  const info = frameInfoOf(d);
  if (d.pixel.valueLength !== undefined) {
    throw dicomError(
      'MALFORMED_DICOM',
      `native Pixel Data in the encapsulated transfer syntax [${capability.uid}]`,
    );
  }
  const decoded = await decodeEncapsulatedImage(
    bytes,
    d.pixel,
    capability.uid,
    info,
    d.layout.numberOfFrames,
  );
  if (!decoded.reversible) {
    return openLossy(
      bytes,
      capability,
      options,
      `transfer syntax ${capability.name} [${capability.uid}] with irreversibly coded frames`,
    );
  }
  const frames = decoded.frames.map((n) => carrierFrame(n, info, carrier));
  const storage: ImageStorage = {
    kind: 'reencode',
    base: bytes,
    outputTransferSyntaxUid: capability.uid,
    natives: decoded.frames,
    info,
    carrier,
    valueOffset: d.pixel.valueOffset,
    valueEndOffset: decoded.valueEndOffset,
    predictor: decoded.predictor,
  };
  return image(
    carrierImage(
      d,
      capability.uid,
      frames,
      decoded.valueEndOffset - d.pixel.valueOffset,
      storage,
      carrier,
    ),
    capability.uid,
  );
}

/**
 * A passthrough outcome as the coded error callers that cannot store the original themselves give:
 * NOT_AN_IMAGE for a non-image, UNSUPPORTED_TRANSFER_SYNTAX for lossy pixels (the codes
 * readDicomImage gives such files).
 */
export function passthroughError(p: Passthrough): StegoGatewayError {
  return dicomError(
    p.reason === 'not-an-image' ? 'NOT_AN_IMAGE' : 'UNSUPPORTED_TRANSFER_SYNTAX',
    p.message,
    p,
  );
}

/**
 * The passthrough reason behind an error made by passthroughError (for instance thrown by the
 * pipeline's embedIdentity), or undefined for any other error: the gateway stores the original and
 * warns instead of rejecting.
 */
export function passthroughReasonOf(error: unknown): PassthroughReason | undefined {
  if (!(error instanceof StegoGatewayError)) return undefined;
  const cause: unknown = error.cause;
  if (typeof cause !== 'object' || cause === null) return undefined;
  const c = cause as { kind?: unknown; reason?: unknown };
  if (c.kind !== 'passthrough') return undefined;
  return c.reason === 'not-an-image' ||
    c.reason === 'lossy-compression' ||
    c.reason === 'lossy-undecodable'
    ? c.reason
    : undefined;
}

/**
 * Any image for reading (extraction, verification, segmentation): openDicomImage with purpose
 * 'extract' (lossy pixels decoded too); a non-image is refused with NOT_AN_IMAGE.
 */
export async function readAnyDicomImage(bytes: Uint8Array): Promise<DicomImage> {
  const opened = await openDicomImage(bytes, { purpose: 'extract' });
  if (opened.kind === 'passthrough') throw passthroughError(opened);
  return opened.image;
}

/**
 * Any image for embedding: openDicomImage; a passthrough outcome is thrown as its coded error
 * (passthroughError), for callers that only know refusals.
 */
export async function openDicomImageForEmbedding(
  bytes: Uint8Array,
  lossyPolicy: LossyPolicy = 'passthrough',
): Promise<Extract<OpenDicomResult, { kind: 'image' }>> {
  const opened = await openDicomImage(bytes, { lossyPolicy });
  if (opened.kind === 'passthrough') throw passthroughError(opened);
  return opened;
}
