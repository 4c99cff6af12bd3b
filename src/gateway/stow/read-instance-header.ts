/**
 * Reads what the gateway needs to route one STOW-RS part, without decoding pixels: the File Meta
 * Information and the top-level data elements before Pixel Data (PS3.10 7.1, PS3.5 7). Sequences
 * are skipped, not parsed. It is deliberately small and fast (passthrough must stay near Orthanc's
 * own speed); the full DICOM work (pixels, patching) belongs to src/dicom.
 */
import { inflateRawSync } from 'node:zlib';
import {
  ITEM,
  ITEM_DELIMITATION as ITEM_DELIMITER,
  LONG_VRS,
  SEQUENCE_DELIMITATION as SEQUENCE_DELIMITER,
  UNDEFINED_LENGTH as UNDEFINED,
} from '../../dicom/tag-walker';

/** DICOM keywords (PS3.6) the rules may test, by tag. Binary VRs (US, IS as text) are decoded. */
export const HEADER_KEYWORDS: Readonly<Record<string, number>> = Object.freeze({
  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ConversionType: 0x00080064,
  Manufacturer: 0x00080070,
  InstitutionName: 0x00080080,
  ReferringPhysicianName: 0x00080090,
  StationName: 0x00081010,
  StudyDescription: 0x00081030,
  InstitutionalDepartmentName: 0x00081040,
  SeriesDescription: 0x0008103e,
  ManufacturerModelName: 0x00081090,
  PatientName: 0x00100010,
  PatientID: 0x00100020,
  IssuerOfPatientID: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,
  BodyPartExamined: 0x00180015,
  DeviceSerialNumber: 0x00181000,
  SoftwareVersions: 0x00181020,
  ProtocolName: 0x00181030,
  StudyInstanceUID: 0x0020000d,
  SeriesInstanceUID: 0x0020000e,
  StudyID: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  PixelRepresentation: 0x00280103,
  LossyImageCompression: 0x00282110,
});

const META_KEYWORDS: Readonly<Record<string, number>> = Object.freeze({
  MediaStorageSOPClassUID: 0x00020002,
  MediaStorageSOPInstanceUID: 0x00020003,
  TransferSyntaxUID: 0x00020010,
  SourceApplicationEntityTitle: 0x00020016,
});

const WANTED = new Set<number>([
  ...Object.values(HEADER_KEYWORDS),
  ...Object.values(META_KEYWORDS),
]);
const TAG_PIXEL_DATA = 0x7fe00010;
const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';

export interface InstanceHeader {
  readonly transferSyntaxUid: string;
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  /** Whether the part had a File Meta Information group (PS3.10 Part 10 file). */
  readonly hasFileMeta: boolean;
  /**
   * The top-level Pixel Data (7FE0,0010) value: its offset in the bytes read and its length
   * (undefined for encapsulated pixels); absent without Pixel Data, or for a deflated dataset.
   */
  readonly pixelData?: { readonly valueOffset: number; readonly length: number | undefined };
  /** A keyword's value as text (multiple values joined with `\`), or undefined when absent. */
  attribute(keyword: string): string | undefined;
}

export type ReadHeaderResult =
  | { readonly ok: true; readonly header: InstanceHeader }
  | {
      readonly ok: false;
      readonly reason: 'not-dicom' | 'truncated' | 'missing-uid' | 'malformed';
      readonly message: string;
    };

class Truncated extends Error {}
class Malformed extends Error {}

interface Cursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly little: boolean;
}

function u16(c: Cursor): number {
  if (c.pos + 2 > c.bytes.length) throw new Truncated();
  const v = c.view.getUint16(c.pos, c.little);
  c.pos += 2;
  return v;
}

function u32(c: Cursor): number {
  if (c.pos + 4 > c.bytes.length) throw new Truncated();
  const v = c.view.getUint32(c.pos, c.little);
  c.pos += 4;
  return v;
}

interface ElementHead {
  readonly tag: number;
  readonly vr: string | undefined;
  readonly length: number;
}

function readHead(c: Cursor, explicit: boolean): ElementHead {
  const group = u16(c);
  const element = u16(c);
  const tag = ((group << 16) | element) >>> 0;
  if (group === 0xfffe || !explicit) return { tag, vr: undefined, length: u32(c) };
  if (c.pos + 2 > c.bytes.length) throw new Truncated();
  const vr = String.fromCharCode(c.bytes[c.pos] ?? 0, c.bytes[c.pos + 1] ?? 0);
  c.pos += 2;
  if (!/^[A-Z]{2}$/.test(vr)) throw new Malformed(`bad VR at offset ${c.pos - 2}`);
  if (LONG_VRS.has(vr)) {
    c.pos += 2;
    return { tag, vr, length: u32(c) };
  }
  return { tag, vr, length: u16(c) };
}

/** Skips an undefined-length value: items (each possibly of undefined length) up to the delimiter. */
function skipUndefinedLength(c: Cursor, explicit: boolean, depth: number): void {
  if (depth > 64) throw new Malformed('sequences nested too deeply');
  for (;;) {
    const head = readHead(c, false);
    if (head.tag === SEQUENCE_DELIMITER) return;
    if (head.tag !== ITEM) throw new Malformed(`expected an item at offset ${c.pos - 8}`);
    if (head.length === UNDEFINED) skipItemElements(c, explicit, depth + 1);
    else skip(c, head.length);
  }
}

/** Skips the data elements of an undefined-length item up to its Item Delimitation Item. */
function skipItemElements(c: Cursor, explicit: boolean, depth: number): void {
  for (;;) {
    const head = readHead(c, explicit);
    if (head.tag === ITEM_DELIMITER) return;
    // PS3.5 6.2.2: UN of undefined length holds implicit VR little endian content.
    if (head.length === UNDEFINED)
      skipUndefinedLength(c, head.vr === 'UN' ? false : explicit, depth + 1);
    else skip(c, head.length);
  }
}

function skip(c: Cursor, length: number): void {
  if (c.pos + length > c.bytes.length) throw new Truncated();
  c.pos += length;
}

function decodeValue(c: Cursor, head: ElementHead, start: number): string {
  const raw = c.bytes.subarray(start, start + head.length);
  const vr = head.vr ?? implicitVr(head.tag);
  if (vr === 'US') {
    const values: number[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) values.push(c.view.getUint16(start + i, c.little));
    return values.join('\\');
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
}

/** Implicit VR files: the few binary attributes we read are US (PS3.6). */
function implicitVr(tag: number): string {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  if (group === 0x0028 && [0x0002, 0x0010, 0x0011, 0x0100, 0x0101, 0x0103].includes(element)) {
    return 'US';
  }
  return 'XX';
}

/** Where the top-level Pixel Data value starts, and its length (UNDEFINED: encapsulated). */
interface PixelDataAt {
  readonly valueOffset: number;
  readonly length: number;
}

function readElements(
  c: Cursor,
  explicit: boolean,
  values: Map<number, string>,
  onlyGroup: number | null,
  pixelsMayFollow = false,
): PixelDataAt | undefined {
  while (c.pos < c.bytes.length) {
    if (onlyGroup !== null) {
      if (c.pos + 2 > c.bytes.length) throw new Truncated();
      if (c.view.getUint16(c.pos, true) !== onlyGroup) return undefined;
    }
    const head = readHead(c, explicit);
    if (head.tag === TAG_PIXEL_DATA) {
      // A file cut inside its pixels is as unusable as one cut inside its header (unless only its
      // beginning was read on purpose: readInstanceHeader's `headOnly`).
      if (!pixelsMayFollow && head.length !== UNDEFINED && c.pos + head.length > c.bytes.length) {
        throw new Truncated();
      }
      return { valueOffset: c.pos, length: head.length };
    }
    if (head.length === UNDEFINED) {
      if (head.vr === undefined || head.vr === 'SQ' || head.vr === 'UN') {
        skipUndefinedLength(c, head.vr === 'UN' ? false : explicit, 0);
        continue;
      }
      throw new Malformed(`undefined length on VR ${head.vr}`);
    }
    const start = c.pos;
    skip(c, head.length);
    if (WANTED.has(head.tag) && head.vr !== 'SQ') values.set(head.tag, decodeValue(c, head, start));
  }
  return undefined;
}

function fail(
  reason: 'not-dicom' | 'truncated' | 'missing-uid' | 'malformed',
  message: string,
): ReadHeaderResult {
  return { ok: false, reason, message };
}

/**
 * Reads the routing header of a DICOM Part 10 file (or a bare little-endian dataset). `headOnly`:
 * `input` is the beginning of a longer file, so Pixel Data may run past its end (WADO-RS frames
 * read from a stored file: stored-frames.ts).
 */
export function readInstanceHeader(
  input: Uint8Array,
  options: { readonly headOnly?: boolean } = {},
): ReadHeaderResult {
  const bytes = input;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, string>();
  const hasPreamble =
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d;
  let pos = hasPreamble ? 132 : 0;
  let hasFileMeta = false;
  try {
    if (bytes.length - pos >= 2 && view.getUint16(pos, true) === 0x0002) {
      const meta: Cursor = { bytes, view, pos, little: true };
      readElements(meta, true, values, 0x0002);
      pos = meta.pos;
      hasFileMeta = true;
    } else if (hasPreamble) {
      return fail('malformed', 'the File Meta Information group is missing after the preamble');
    }
    const syntax =
      values.get(META_KEYWORDS.TransferSyntaxUID ?? 0) ?? guessSyntax(bytes, view, pos);
    if (syntax === undefined) return fail('not-dicom', 'the body is not a DICOM dataset');
    let dataset: Cursor;
    let explicit = true;
    if (syntax === DEFLATED) {
      let inflated: Buffer;
      try {
        inflated = inflateRawSync(bytes.subarray(pos), { maxOutputLength: 512 * 1024 * 1024 });
      } catch {
        return fail('malformed', 'the deflated dataset does not inflate');
      }
      const iv = new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength);
      dataset = { bytes: inflated, view: iv, pos: 0, little: true };
    } else {
      dataset = { bytes, view, pos, little: syntax !== EXPLICIT_BE };
      explicit = syntax !== IMPLICIT_LE;
    }
    const pixelData = readElements(dataset, explicit, values, null, options.headOnly === true);
    const get = (tag: number | undefined): string =>
      tag === undefined ? '' : (values.get(tag) ?? '');
    const header: InstanceHeader = {
      transferSyntaxUid: syntax,
      sopClassUid: get(HEADER_KEYWORDS.SOPClassUID) || get(META_KEYWORDS.MediaStorageSOPClassUID),
      sopInstanceUid:
        get(HEADER_KEYWORDS.SOPInstanceUID) || get(META_KEYWORDS.MediaStorageSOPInstanceUID),
      studyInstanceUid: get(HEADER_KEYWORDS.StudyInstanceUID),
      seriesInstanceUid: get(HEADER_KEYWORDS.SeriesInstanceUID),
      hasFileMeta,
      ...(pixelData === undefined || syntax === DEFLATED
        ? {}
        : {
            pixelData: {
              valueOffset: pixelData.valueOffset,
              length: pixelData.length === UNDEFINED ? undefined : pixelData.length,
            },
          }),
      attribute(keyword: string): string | undefined {
        const tag = HEADER_KEYWORDS[keyword] ?? META_KEYWORDS[keyword];
        return tag === undefined ? undefined : values.get(tag);
      },
    };
    if (
      header.sopInstanceUid === '' ||
      header.sopClassUid === '' ||
      header.studyInstanceUid === ''
    ) {
      return fail('missing-uid', 'SOP Class, SOP Instance or Study Instance UID is missing');
    }
    if (header.seriesInstanceUid === '') {
      return fail('missing-uid', 'Series Instance UID is missing');
    }
    return { ok: true, header };
  } catch (error) {
    if (error instanceof Truncated)
      return fail('truncated', 'the DICOM data ends inside an element');
    if (error instanceof Malformed)
      return fail('malformed', `malformed DICOM data: ${error.message}`);
    throw error;
  }
}

/** Without File Meta: accept a little-endian dataset that starts with group 0008 (PS3.10 7.1). */
function guessSyntax(bytes: Uint8Array, view: DataView, pos: number): string | undefined {
  if (bytes.length - pos < 8 || view.getUint16(pos, true) !== 0x0008) return undefined;
  const vr = String.fromCharCode(bytes[pos + 4] ?? 0, bytes[pos + 5] ?? 0);
  return /^[A-Z]{2}$/.test(vr) ? '1.2.840.10008.1.2.1' : IMPLICIT_LE;
}

/** One element of the File Meta group or of the top level of the dataset, by byte offsets. */
export interface TopLevelElement {
  readonly tag: number;
  /** Offset of the tag. */
  readonly start: number;
  /** Offset of the value. */
  readonly valueStart: number;
  /** Offset just past the element (past its delimiter for undefined lengths). */
  readonly end: number;
  readonly undefinedLength: boolean;
}

export interface TopLevelLayout {
  readonly transferSyntaxUid: string;
  readonly explicitVr: boolean;
  /** Offset of the File Meta group (after the preamble). */
  readonly metaStart: number;
  readonly meta: readonly TopLevelElement[];
  readonly datasetStart: number;
  readonly dataset: readonly TopLevelElement[];
}

/**
 * Every File Meta and top-level dataset element of a Part 10 file in explicit or implicit VR little
 * endian, with offsets (for byte-level edits that keep everything else as it is). Undefined for
 * other files (no File Meta, big endian, deflated) and for malformed ones.
 */
export function walkTopLevel(bytes: Uint8Array): TopLevelLayout | undefined {
  const read = readInstanceHeader(bytes);
  if (!read.ok || !read.header.hasFileMeta) return undefined;
  if (String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') return undefined;
  const syntax = read.header.transferSyntaxUid;
  if (syntax === DEFLATED || syntax === EXPLICIT_BE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const c: Cursor = { bytes, view, pos: 132, little: true };
  const walk = (explicit: boolean, onlyGroup: number | null): TopLevelElement[] => {
    const out: TopLevelElement[] = [];
    while (c.pos < bytes.length) {
      if (onlyGroup !== null && view.getUint16(c.pos, true) !== onlyGroup) break;
      const start = c.pos;
      const head = readHead(c, explicit);
      const valueStart = c.pos;
      const undefinedLength = head.length === UNDEFINED;
      if (undefinedLength) skipUndefinedLength(c, head.vr === 'UN' ? false : explicit, 0);
      else skip(c, head.length);
      out.push({ tag: head.tag, start, valueStart, end: c.pos, undefinedLength });
    }
    return out;
  };
  try {
    const meta = walk(true, 0x0002);
    const datasetStart = c.pos;
    const explicitVr = syntax !== IMPLICIT_LE;
    const dataset = walk(explicitVr, null);
    return { transferSyntaxUid: syntax, explicitVr, metaStart: 132, meta, datasetStart, dataset };
  } catch (error) {
    if (error instanceof Truncated || error instanceof Malformed) return undefined;
    throw error;
  }
}
