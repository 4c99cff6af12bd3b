import { dicomError } from './dicom-error';
import { lookupTransferSyntax, type TransferSyntax } from './transfer-syntaxes';

/**
 * A small walker over the top level of a Part 10 byte stream (PS3.10 7.1, PS3.5 7). It finds where
 * each top-level element's value lies in the ORIGINAL bytes, so that Pixel Data can be patched in
 * place without re-encoding anything else (dcmjs rewrites Specific Character Set and sequence lengths
 * on write). Sequences and items are walked only to find their ends; their contents are not decoded.
 */

/** Element with undefined length (PS3.5 7.1.1). */
export const UNDEFINED_LENGTH = 0xffffffff;
export const ITEM = 0xfffee000;
export const ITEM_DELIMITATION = 0xfffee00d;
export const SEQUENCE_DELIMITATION = 0xfffee0dd;
/** Deeper nesting than this is taken as a malformed (or hostile) file. */
const MAX_DEPTH = 64;

/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 Table 7.1-1). */
export const LONG_VRS: ReadonlySet<string> = new Set([
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

export const TAG = {
  TransferSyntaxUID: 0x00020010,
  PixelData: 0x7fe00010,
  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
} as const;

export interface WalkedElement {
  /** (group << 16 | element), unsigned. */
  readonly tag: number;
  /** Explicit VR, or undefined in implicit VR. */
  readonly vr: string | undefined;
  /** Offset of the element's first byte (its tag). */
  readonly elementOffset: number;
  /** Offset of the value's first byte. */
  readonly valueOffset: number;
  /** Value length in bytes; undefined for undefined length (sequences, encapsulated pixel data). */
  readonly valueLength: number | undefined;
  /** Offset just past the element, delimiters included. */
  readonly endOffset: number;
}

export interface WalkedFile {
  readonly transferSyntaxUid: string;
  /** Undefined when the UID is not in the table. */
  readonly transferSyntax: TransferSyntax | undefined;
  /** Offset of the first dataset element (just past the File Meta Information). */
  readonly datasetOffset: number;
  /** Top-level dataset elements, in stream order; empty when the dataset is not walked. */
  readonly elements: readonly WalkedElement[];
}

export function hexTag(tag: number): string {
  return `(${(tag >>> 16).toString(16).padStart(4, '0').toUpperCase()},${(tag & 0xffff)
    .toString(16)
    .padStart(4, '0')
    .toUpperCase()})`;
}

/** True if the bytes start with a Part 10 preamble and "DICM" (PS3.10 7.1). */
export function hasPart10Prefix(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

class Cursor {
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  need(offset: number, count: number, what: string): void {
    if (offset + count > this.bytes.length) {
      throw dicomError(
        'TRUNCATED_FILE',
        `the file ends inside ${what} at byte [${offset}] (file length [${this.bytes.length}])`,
      );
    }
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  tag(offset: number): number {
    return ((this.u16(offset) << 16) | this.u16(offset + 2)) >>> 0;
  }

  vr(offset: number): string {
    const a = this.bytes[offset] ?? 0;
    const b = this.bytes[offset + 1] ?? 0;
    return String.fromCharCode(a, b);
  }

  ascii(offset: number, length: number): string {
    let s = '';
    for (let i = 0; i < length; i++) s += String.fromCharCode(this.bytes[offset + i] ?? 0);
    return s;
  }
}

function isVr(vr: string): boolean {
  return /^[A-Z]{2}$/.test(vr);
}

interface Header {
  readonly tag: number;
  readonly vr: string | undefined;
  readonly valueOffset: number;
  readonly valueLength: number;
}

function readHeader(c: Cursor, offset: number, explicitVr: boolean): Header {
  c.need(offset, 8, 'an element header');
  const tag = c.tag(offset);
  // Items and delimiters never carry a VR (PS3.5 7.5).
  if (tag >>> 16 === 0xfffe) {
    return { tag, vr: undefined, valueOffset: offset + 8, valueLength: c.u32(offset + 4) };
  }
  if (!explicitVr) {
    return { tag, vr: undefined, valueOffset: offset + 8, valueLength: c.u32(offset + 4) };
  }
  const vr = c.vr(offset + 4);
  if (!isVr(vr)) {
    throw dicomError(
      'MALFORMED_DICOM',
      `element ${hexTag(tag)} at byte [${offset}] has no valid explicit VR [${JSON.stringify(vr)}]`,
    );
  }
  if (LONG_VRS.has(vr)) {
    c.need(offset, 12, 'an element header');
    return { tag, vr, valueOffset: offset + 12, valueLength: c.u32(offset + 8) };
  }
  return { tag, vr, valueOffset: offset + 8, valueLength: c.u16(offset + 6) };
}

/**
 * Walks the items of an undefined-length sequence (or the fragments of encapsulated pixel data)
 * starting at `offset`; returns the offset just past its Sequence Delimitation Item.
 */
function skipItems(c: Cursor, offset: number, explicitVr: boolean, depth: number): number {
  if (depth > MAX_DEPTH) {
    throw dicomError('MALFORMED_DICOM', `sequences nested deeper than [${MAX_DEPTH}]`);
  }
  let pos = offset;
  for (;;) {
    const h = readHeader(c, pos, explicitVr);
    if (h.tag === SEQUENCE_DELIMITATION) return h.valueOffset;
    if (h.tag !== ITEM) {
      throw dicomError(
        'MALFORMED_DICOM',
        `expected an item tag in a sequence at byte [${pos}], found ${hexTag(h.tag)}`,
      );
    }
    if (h.valueLength === UNDEFINED_LENGTH) {
      pos = skipElements(c, h.valueOffset, explicitVr, depth + 1, true);
    } else {
      c.need(h.valueOffset, h.valueLength, `an item of length [${h.valueLength}]`);
      pos = h.valueOffset + h.valueLength;
    }
  }
}

/** Offset just past the element whose header is `h`. */
function skipValue(c: Cursor, h: Header, explicitVr: boolean, depth: number): number {
  if (h.valueLength !== UNDEFINED_LENGTH) {
    c.need(h.valueOffset, h.valueLength, `element ${hexTag(h.tag)} of length [${h.valueLength}]`);
    return h.valueOffset + h.valueLength;
  }
  // An undefined-length UN holds implicit VR little endian (PS3.5 6.2.2 note).
  const itemsExplicit = explicitVr && h.vr !== 'UN';
  return skipItems(c, h.valueOffset, itemsExplicit, depth + 1);
}

/**
 * Walks dataset elements from `offset` to the end of the bytes, or to an Item Delimitation Item when
 * `inItem`; returns the offset just past the last byte consumed.
 */
function skipElements(
  c: Cursor,
  offset: number,
  explicitVr: boolean,
  depth: number,
  inItem: boolean,
  collect?: WalkedElement[],
): number {
  let pos = offset;
  while (pos < c.length) {
    const h = readHeader(c, pos, explicitVr);
    if (h.tag === ITEM_DELIMITATION) {
      if (inItem) return h.valueOffset;
      throw dicomError('MALFORMED_DICOM', `unexpected item delimiter at byte [${pos}]`);
    }
    const end = skipValue(c, h, explicitVr, depth);
    collect?.push({
      tag: h.tag,
      vr: h.vr,
      elementOffset: pos,
      valueOffset: h.valueOffset,
      valueLength: h.valueLength === UNDEFINED_LENGTH ? undefined : h.valueLength,
      endOffset: end,
    });
    pos = end;
  }
  if (inItem) {
    throw dicomError('TRUNCATED_FILE', 'the file ends inside a sequence item');
  }
  return pos;
}

/** Reads the File Meta Information (always explicit VR little endian, PS3.10 7.1). */
function walkMeta(c: Cursor): { transferSyntaxUid: string | undefined; datasetOffset: number } {
  let pos = 132;
  let transferSyntaxUid: string | undefined;
  while (pos + 4 <= c.length && c.u16(pos) === 0x0002) {
    const h = readHeader(c, pos, true);
    if (h.valueLength === UNDEFINED_LENGTH) {
      throw dicomError('MALFORMED_DICOM', `meta element ${hexTag(h.tag)} has undefined length`);
    }
    const end = skipValue(c, h, true, 0);
    if (h.tag === TAG.TransferSyntaxUID) {
      transferSyntaxUid = c
        .ascii(h.valueOffset, h.valueLength)
        .replace(/[\0 ]+$/, '')
        .trim();
    }
    pos = end;
  }
  return { transferSyntaxUid, datasetOffset: pos };
}

/**
 * Walks a Part 10 file. The dataset itself is walked only for transfer syntaxes whose byte layout
 * this walker understands (little endian, not deflated); for others `elements` is empty and the
 * caller refuses the file by its transfer syntax.
 */
export function walkPart10(bytes: Uint8Array): WalkedFile {
  if (!hasPart10Prefix(bytes)) {
    throw dicomError(
      'NOT_DICOM',
      `not a DICOM Part 10 file: no "DICM" prefix at byte 128 (file length [${bytes.length}])`,
    );
  }
  const c = new Cursor(bytes);
  const { transferSyntaxUid, datasetOffset } = walkMeta(c);
  if (transferSyntaxUid === undefined || transferSyntaxUid === '') {
    throw dicomError('MALFORMED_DICOM', 'the File Meta Information has no Transfer Syntax UID');
  }
  const transferSyntax = lookupTransferSyntax(transferSyntaxUid);
  if (transferSyntax === undefined || !transferSyntax.littleEndian || transferSyntax.deflated) {
    return { transferSyntaxUid, transferSyntax, datasetOffset, elements: [] };
  }
  const elements: WalkedElement[] = [];
  try {
    skipElements(c, datasetOffset, transferSyntax.explicitVr, 0, false, elements);
  } catch (error) {
    // Bytes after a complete Pixel Data element (stray padding, a cut signature) are kept as they
    // are and never read: only what comes before Pixel Data, and Pixel Data itself, must be sound.
    const pixelDataComplete = elements.some((e) => e.tag === TAG.PixelData);
    if (!pixelDataComplete) throw error;
  }
  return { transferSyntaxUid, transferSyntax, datasetOffset, elements };
}
