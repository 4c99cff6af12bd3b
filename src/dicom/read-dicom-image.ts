import type { PixelFrame } from '../stego/types';
import { dicomError } from './dicom-error';
import {
  decodeHeader,
  headerItems,
  headerNumber,
  headerString,
  type HeaderDataset,
} from './header';
import { decodeFrames, frameByteLength, type ByteRange, type PixelLayout } from './pixel-codec';
import type { ImageStorage } from './image-storage';
import { hexTag, TAG, walkPart10, type WalkedElement, type WalkedFile } from './tag-walker';

/** A Part 10 image with native pixel data, decoded into frames, with where its pixels lie. */
export interface DicomImage extends PixelLayout {
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly modality: string;
  readonly photometricInterpretation: 'MONOCHROME1' | 'MONOCHROME2';
  /** Rescale Slope / Intercept (0028,1053 / 0028,1052): physical = stored * slope + intercept. */
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /**
   * Pixel Padding Value .. Pixel Padding Range Limit (0028,0120 / 0028,0121) as stored sample values,
   * inclusive and ordered, or undefined when the header has no padding.
   */
  readonly paddingRange: readonly [number, number] | undefined;
  /** The Pixel Data value (7FE0,0010) in the original bytes. */
  readonly pixelData: ByteRange;
  readonly frames: readonly PixelFrame[];
  readonly header: HeaderDataset;
  /**
   * How the frames get back into Part 10 bytes when they are not patched in place in the original
   * (set by openDicomImage for converted, colour and compressed images; see image-storage.ts).
   */
  readonly storage?: ImageStorage;
}

/**
 * SOP classes that are never images, by UID prefix (PS3.4 Annex B.5): structured reports, RT plans
 * and structures, waveforms, encapsulated documents, presentation states, raw data, key objects.
 */
const NON_IMAGE_SOP_CLASS_PREFIXES = [
  '1.2.840.10008.5.1.4.1.1.88.', // SR, Key Object Selection
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.9.', // waveforms (ECG, audio, ...)
  '1.2.840.10008.5.1.4.1.1.104.', // encapsulated PDF, CDA, STL, ...
  '1.2.840.10008.5.1.4.1.1.11.', // presentation states
  '1.2.840.10008.5.1.4.1.1.66', // raw data, spatial registration, fiducials
  '1.2.840.10008.1.3.10', // Media Storage Directory (DICOMDIR)
];

function isNonImageSopClass(uid: string): boolean {
  return NON_IMAGE_SOP_CLASS_PREFIXES.some((p) => uid === p || uid.startsWith(p));
}

function requireInteger(
  ds: HeaderDataset,
  keyword: string,
  fallback: number | undefined,
  valid: (n: number) => boolean,
): number {
  const n = headerNumber(ds, keyword) ?? fallback;
  if (n === undefined) {
    throw dicomError('MALFORMED_DICOM', `the image has no ${keyword}`);
  }
  if (!Number.isInteger(n) || !valid(n)) {
    throw dicomError('UNSUPPORTED_PIXEL_FORMAT', `${keyword} [${n}] is not supported`);
  }
  return n;
}

/**
 * Rescale Slope / Intercept: top level, else the Pixel Value Transformation Sequence of the Shared
 * Functional Groups of an enhanced multi-frame image (PS3.3 C.7.6.16.2.9).
 */
function rescale(ds: HeaderDataset): { slope: number; intercept: number } {
  const candidates = [
    ds,
    ...headerItems(ds, 'SharedFunctionalGroupsSequence').flatMap((g) =>
      headerItems(g, 'PixelValueTransformationSequence'),
    ),
  ];
  for (const c of candidates) {
    const slope = headerNumber(c, 'RescaleSlope');
    const intercept = headerNumber(c, 'RescaleIntercept');
    if (slope !== undefined || intercept !== undefined) {
      return { slope: slope === undefined || slope === 0 ? 1 : slope, intercept: intercept ?? 0 };
    }
  }
  return { slope: 1, intercept: 0 };
}

/**
 * Pixel Padding Value and Range Limit in the image's own sample domain. Their VR is US or SS
 * following Pixel Representation, but files get it wrong (CMB-CRC CT: US 63536 beside signed
 * pixels, meaning -2000), so a signed image reads a 16-bit value >= 2^15 as two's complement.
 */
function paddingRange(
  ds: HeaderDataset,
  signed: boolean,
  bitsAllocated: number,
): readonly [number, number] | undefined {
  const value = headerNumber(ds, 'PixelPaddingValue');
  if (value === undefined) return undefined;
  const limit = headerNumber(ds, 'PixelPaddingRangeLimit') ?? value;
  const full = 2 ** Math.max(16, bitsAllocated);
  const toSample = (v: number): number => (signed && v >= full / 2 ? v - full : v);
  const a = toSample(value);
  const b = toSample(limit);
  return a <= b ? [a, b] : [b, a];
}

function findTopLevel(elements: readonly WalkedElement[], tag: number): WalkedElement | undefined {
  return elements.find((e) => e.tag === tag);
}

/** What the header says about an image's pixels, before any transfer-syntax decision. */
export interface ImageDescription {
  readonly sopClassUid: string;
  readonly modality: string;
  readonly photometricInterpretation: string;
  readonly samplesPerPixel: number;
  /** Planar Configuration (0028,0006): 1 = colour planes one after the other. */
  readonly planarConfiguration: number;
  readonly layout: PixelLayout;
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly paddingRange: readonly [number, number] | undefined;
  readonly header: HeaderDataset;
  readonly pixel: WalkedElement;
}

/** The top-level Pixel Data element, or the coded refusal when there is none. */
function requirePixelData(elements: readonly WalkedElement[], sopClassUid: string): WalkedElement {
  const pixel = findTopLevel(elements, TAG.PixelData);
  if (pixel !== undefined) return pixel;
  const other = [TAG.FloatPixelData, TAG.DoubleFloatPixelData].find(
    (t) => findTopLevel(elements, t) !== undefined,
  );
  if (other !== undefined) {
    throw dicomError('UNSUPPORTED_PIXEL_FORMAT', `float pixel data ${hexTag(other)}`);
  }
  throw dicomError('NOT_AN_IMAGE', `no Pixel Data (7FE0,0010) in SOP class [${sopClassUid}]`);
}

/**
 * The header of a little-endian Part 10 file (walked) as an image: NOT_AN_IMAGE for a non-image
 * SOP class or a file without Pixel Data, UNSUPPORTED_BITS_ALLOCATED / UNSUPPORTED_PIXEL_FORMAT for
 * pixels no path handles. Says nothing about photometric interpretation or transfer syntax.
 */
export function describeImage(bytes: Uint8Array, walked: WalkedFile): ImageDescription {
  const pixelElement = findTopLevel(walked.elements, TAG.PixelData);
  const header = decodeHeader(bytes, pixelElement?.elementOffset ?? bytes.length);
  const sopClassUid = headerString(header, 'SOPClassUID') ?? '';
  if (isNonImageSopClass(sopClassUid)) {
    throw dicomError('NOT_AN_IMAGE', `SOP class [${sopClassUid}] is not an image`);
  }
  const pixel = requirePixelData(walked.elements, sopClassUid);
  const bitsAllocated = headerNumber(header, 'BitsAllocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw dicomError('UNSUPPORTED_BITS_ALLOCATED', `Bits Allocated [${bitsAllocated}]`);
  }
  const rows = requireInteger(header, 'Rows', undefined, (n) => n >= 1);
  const columns = requireInteger(header, 'Columns', undefined, (n) => n >= 1);
  const bitsStored = requireInteger(
    header,
    'BitsStored',
    bitsAllocated,
    (n) => n >= 1 && n <= bitsAllocated,
  );
  const highBit = requireInteger(
    header,
    'HighBit',
    bitsStored - 1,
    (n) => n >= bitsStored - 1 && n < bitsAllocated,
  );
  const numberOfFrames = requireInteger(header, 'NumberOfFrames', 1, (n) => n >= 1);
  const signed = headerNumber(header, 'PixelRepresentation') === 1;
  const { slope, intercept } = rescale(header);
  return {
    sopClassUid,
    modality: headerString(header, 'Modality') ?? '',
    photometricInterpretation: headerString(header, 'PhotometricInterpretation') ?? '',
    samplesPerPixel: headerNumber(header, 'SamplesPerPixel') ?? 1,
    planarConfiguration: headerNumber(header, 'PlanarConfiguration') ?? 0,
    layout: { rows, columns, numberOfFrames, bitsAllocated, bitsStored, highBit, signed },
    rescaleSlope: slope,
    rescaleIntercept: intercept,
    paddingRange: paddingRange(header, signed, bitsAllocated),
    header,
    pixel,
  };
}

/** Refuses a native Pixel Data value shorter than the frames the header announces. */
export function requireNativeLength(
  pixel: WalkedElement,
  layout: PixelLayout,
  samplesPerPixel: number,
): ByteRange {
  const needed = frameByteLength(layout) * samplesPerPixel * layout.numberOfFrames;
  if (pixel.valueLength === undefined) {
    throw dicomError('MALFORMED_DICOM', 'encapsulated Pixel Data in a native transfer syntax');
  }
  if (pixel.valueLength < needed) {
    throw dicomError(
      'TRUNCATED_FILE',
      `Pixel Data holds [${pixel.valueLength}] bytes, ${layout.rows}x${layout.columns}x${layout.numberOfFrames} pixels need [${needed}]`,
    );
  }
  return { offset: pixel.valueOffset, length: pixel.valueLength };
}

/**
 * Reads a Part 10 file with native little-endian monochrome pixel data into frames and header
 * (synchronous; patched in place by writeDicomFrames). Refuses, with a specific code, anything it
 * cannot patch in place: see dicom-error.ts. openDicomImage reaches every other kind of file.
 */
export function readDicomImage(bytes: Uint8Array): DicomImage {
  const walked = walkPart10(bytes);
  const ts = walked.transferSyntax;
  if (ts === undefined) {
    throw dicomError(
      'UNSUPPORTED_TRANSFER_SYNTAX',
      `unknown transfer syntax [${walked.transferSyntaxUid}]`,
    );
  }
  // Refusing a non-image or a colour image is more useful than refusing its transfer syntax, but
  // the header of a deflated or big-endian file cannot be read here without decoding all of it.
  if (ts.pixelAccess !== 'native' && (ts.deflated || !ts.littleEndian)) {
    throw dicomError('UNSUPPORTED_TRANSFER_SYNTAX', `transfer syntax ${ts.name} [${ts.uid}]`);
  }
  const d = describeImage(bytes, walked);
  const photometric = d.photometricInterpretation;
  if (d.samplesPerPixel !== 1 || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) {
    throw dicomError(
      'UNSUPPORTED_PHOTOMETRIC',
      `photometric interpretation [${photometric}] with [${d.samplesPerPixel}] samples per pixel`,
    );
  }
  if (ts.pixelAccess !== 'native') {
    throw dicomError('UNSUPPORTED_TRANSFER_SYNTAX', `transfer syntax ${ts.name} [${ts.uid}]`);
  }
  const range = requireNativeLength(d.pixel, d.layout, 1);
  return {
    ...d.layout,
    transferSyntaxUid: ts.uid,
    sopClassUid: d.sopClassUid,
    modality: d.modality,
    photometricInterpretation: photometric,
    rescaleSlope: d.rescaleSlope,
    rescaleIntercept: d.rescaleIntercept,
    paddingRange: d.paddingRange,
    pixelData: range,
    frames: decodeFrames(bytes, range, d.layout),
    header: d.header,
  };
}
