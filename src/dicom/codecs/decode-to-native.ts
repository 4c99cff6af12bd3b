import { decodeHeader, headerNumber, headerString } from '../header';
import { TAG, walkPart10, type WalkedElement } from '../tag-walker';
import { lookupCapability } from './capabilities';
import { codecError } from './codec-error';
import { decodeEncapsulatedImage } from './encapsulated-image';
import type { FrameInfo } from './frame-info';
import { explicitLittleEndianMeta, toExplicitLittleEndian } from './to-explicit-le';

/**
 * Any file whose pixels can be decoded here, rewritten as Explicit VR Little Endian with native
 * Pixel Data: what 'store-as-explicit-le' stores, and what the gateway answers when a client asks
 * for Explicit VR Little Endian and Orthanc cannot transcode (it has no JPEG 2000 decoder). Header
 * elements are copied as they are, except those the decoded pixels make wrong:
 * - Photometric Interpretation: JPEG 2000 YBR_RCT / YBR_ICT decode to RGB; JPEG YBR_FULL_422 decodes
 *   to full-resolution YBR_FULL samples;
 * - Planar Configuration: 0 (decoded colour is interleaved);
 * - Lossy Image Compression (0028,2110): "01" when the source syntax is lossy (PS3.3 C.7.6.1.1.5:
 *   once lossy, always lossy);
 * - group length elements of groups 0028 and 7FE0 (retired) are dropped, since lengths change, and
 *   so are the Extended Offset Table and its lengths (7FE0,0001 / 7FE0,0002).
 */

const TAGS = {
  PhotometricInterpretation: 0x00280004,
  PlanarConfiguration: 0x00280006,
  LossyImageCompression: 0x00282110,
} as const;

function element(tag: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB' || vr === 'OW';
  const padded =
    value.length % 2 === 0
      ? value
      : Uint8Array.from([...value, vr === 'OB' || vr === 'OW' ? 0 : 0x20]);
  const head = new Uint8Array(long ? 12 : 8);
  const view = new DataView(head.buffer);
  view.setUint16(0, tag >>> 16, true);
  view.setUint16(2, tag & 0xffff, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) view.setUint32(8, padded.length, true);
  else view.setUint16(6, padded.length, true);
  const out = new Uint8Array(head.length + padded.length);
  out.set(head, 0);
  out.set(padded, head.length);
  return out;
}

const text = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function decodedPhotometric(photometric: string, family: string): string {
  if (family === 'jpeg-2000' || family === 'htj2k') {
    return photometric === 'YBR_RCT' || photometric === 'YBR_ICT' ? 'RGB' : photometric;
  }
  if (family === 'jpeg' && photometric === 'YBR_FULL_422') return 'YBR_FULL';
  return photometric;
}

/**
 * The file as Explicit VR Little Endian with native Pixel Data. Native files come back unchanged
 * (a copy); big endian and deflated files as toExplicitLittleEndian gives them; encapsulated files
 * decoded frame by frame. CODEC_UNAVAILABLE where the syntax cannot be decoded here.
 */
export async function decodeToExplicitLittleEndian(bytes: Uint8Array): Promise<Uint8Array> {
  const walked = walkPart10(bytes);
  const capability = lookupCapability(walked.transferSyntaxUid);
  if (capability === undefined || !capability.decode) {
    throw codecError(
      'CODEC_UNAVAILABLE',
      `cannot decode transfer syntax [${walked.transferSyntaxUid}]`,
    );
  }
  if (capability.family === 'big-endian' || capability.family === 'deflated-dataset') {
    return toExplicitLittleEndian(bytes);
  }
  if (capability.family === 'native') return bytes.slice();
  const pixel = walked.elements.find((e) => e.tag === TAG.PixelData);
  if (pixel === undefined || pixel.valueLength !== undefined) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      'no encapsulated Pixel Data in an encapsulated transfer syntax',
    );
  }
  const header = decodeHeader(bytes, pixel.elementOffset);
  const photometric = headerString(header, 'PhotometricInterpretation') ?? '';
  const info: FrameInfo = {
    rows: headerNumber(header, 'Rows') ?? 0,
    columns: headerNumber(header, 'Columns') ?? 0,
    bitsAllocated: headerNumber(header, 'BitsAllocated') ?? 0,
    bitsStored: headerNumber(header, 'BitsStored') ?? headerNumber(header, 'BitsAllocated') ?? 0,
    samplesPerPixel: headerNumber(header, 'SamplesPerPixel') ?? 1,
    signed: headerNumber(header, 'PixelRepresentation') === 1,
    photometricInterpretation: photometric,
  };
  const decoded = await decodeEncapsulatedImage(
    bytes,
    pixel,
    walked.transferSyntaxUid,
    info,
    headerNumber(header, 'NumberOfFrames') ?? 1,
  );
  const newPhotometric = decodedPhotometric(photometric, capability.family);
  const lossy = !capability.lossless || !decoded.reversible;
  const before = walked.elements.filter((e) => e.elementOffset < pixel.elementOffset);
  const parts: Uint8Array[] = [];
  let lossyWritten = false;
  const writeLossyBefore = (e: WalkedElement | undefined): void => {
    if (!lossy || lossyWritten || (e !== undefined && e.tag < TAGS.LossyImageCompression)) return;
    lossyWritten = true;
    if (e?.tag !== TAGS.LossyImageCompression)
      parts.push(element(TAGS.LossyImageCompression, 'CS', text('01')));
  };
  for (const e of before) {
    if ((e.tag >>> 16 === 0x0028 || e.tag >>> 16 === 0x7fe0) && (e.tag & 0xffff) === 0) continue;
    // Extended Offset Table and its lengths (PS3.3 C.7.6.3.1.8) describe fragments that are gone.
    if (e.tag === 0x7fe00001 || e.tag === 0x7fe00002) continue;
    writeLossyBefore(e);
    if (e.tag === TAGS.PhotometricInterpretation && newPhotometric !== photometric) {
      parts.push(element(e.tag, 'CS', text(newPhotometric)));
    } else if (e.tag === TAGS.PlanarConfiguration) {
      parts.push(element(e.tag, 'US', Uint8Array.of(0, 0)));
    } else if (e.tag === TAGS.LossyImageCompression && lossy) {
      parts.push(element(e.tag, 'CS', text('01')));
    } else {
      parts.push(bytes.subarray(e.elementOffset, e.endOffset));
    }
  }
  writeLossyBefore(undefined);
  parts.push(
    element(TAG.PixelData, info.bitsAllocated === 8 ? 'OB' : 'OW', concat(decoded.frames)),
  );
  parts.push(bytes.subarray(decoded.valueEndOffset));
  return concat([explicitLittleEndianMeta(bytes).head, ...parts]);
}
