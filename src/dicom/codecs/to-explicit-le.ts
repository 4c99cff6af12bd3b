import { inflateRawSync } from 'node:zlib';
import { codecError } from './codec-error';
import { LONG_VRS } from '../tag-walker';

/**
 * The 'store-as-explicit-le' conversions: a Part 10 file in Explicit VR Big Endian (retired, PS3.5
 * A.3) or Deflated Explicit VR Little Endian (PS3.5 A.5) rewritten as Explicit VR Little Endian.
 * Values are kept as they are; only their byte order (big endian) or their compression (deflate)
 * changes, and the File Meta Information says the new Transfer Syntax UID. Checked against dcmtk's
 * `dcmconv +te`.
 */

export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const BIG_ENDIAN = '1.2.840.10008.1.2.2';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const UNDEFINED_LENGTH = 0xffffffff;
/** Deeper nesting than this is taken as a malformed (or hostile) file. */
const MAX_DEPTH = 64;
/** An inflated dataset larger than this is refused (a deflate bomb). */
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;

/** Bytes per number of the binary VRs whose byte order flips (PS3.5 Table 7.1-1; AT is two US). */
const WORD_BYTES: Readonly<Record<string, number>> = {
  US: 2,
  SS: 2,
  OW: 2,
  AT: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  OL: 4,
  OF: 4,
  FD: 8,
  OD: 8,
  SV: 8,
  UV: 8,
  OV: 8,
};

function malformed(message: string): never {
  throw codecError('CODEC_DECODE_FAILED', message);
}

interface Meta {
  readonly transferSyntaxUid: string;
  /** Offset of the first dataset byte. */
  readonly end: number;
}

/** The File Meta Information (always explicit VR little endian, PS3.10 7.1). */
function readMeta(bytes: Uint8Array): Meta {
  if (bytes.length < 132 || String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM') {
    malformed('not a DICOM Part 10 file');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 132;
  let transferSyntaxUid = '';
  while (pos + 8 <= bytes.length && view.getUint16(pos, true) === 0x0002) {
    const element = view.getUint16(pos + 2, true);
    const vr = String.fromCharCode(bytes[pos + 4] ?? 0, bytes[pos + 5] ?? 0);
    const long = LONG_VRS.has(vr);
    if (long && pos + 12 > bytes.length) malformed('the File Meta Information is truncated');
    const length = long ? view.getUint32(pos + 8, true) : view.getUint16(pos + 6, true);
    const value = pos + (long ? 12 : 8);
    if (length === UNDEFINED_LENGTH || value + length > bytes.length) {
      malformed(`meta element (0002,${element.toString(16).padStart(4, '0')}) runs past the file`);
    }
    if (element === 0x0010) {
      transferSyntaxUid = String.fromCharCode(...bytes.subarray(value, value + length)).replace(
        /[\0 ]+$/,
        '',
      );
    }
    pos = value + length;
  }
  return { transferSyntaxUid, end: pos };
}

/** The meta bytes with (0002,0010) set to Explicit VR Little Endian and (0002,0000) updated. */
function rewriteMeta(bytes: Uint8Array, meta: Meta): Uint8Array {
  const out: number[] = [...bytes.subarray(0, 132)];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const elements: number[][] = [];
  let pos = 132;
  while (pos < meta.end) {
    const element = view.getUint16(pos + 2, true);
    const vr = String.fromCharCode(bytes[pos + 4] ?? 0, bytes[pos + 5] ?? 0);
    const long = LONG_VRS.has(vr);
    const length = long ? view.getUint32(pos + 8, true) : view.getUint16(pos + 6, true);
    const value = pos + (long ? 12 : 8);
    if (element === 0x0010) {
      const uid = [...Buffer.from(`${EXPLICIT_VR_LITTLE_ENDIAN}\0`, 'latin1')];
      elements.push([
        0x02,
        0x00,
        0x10,
        0x00,
        0x55,
        0x49,
        uid.length & 0xff,
        uid.length >>> 8,
        ...uid,
      ]);
    } else if (element !== 0x0000) {
      elements.push([...bytes.subarray(pos, value + length)]);
    }
    pos = value + length;
  }
  const groupLength = elements.reduce((n, e) => n + e.length, 0);
  out.push(
    0x02,
    0x00,
    0x00,
    0x00,
    0x55,
    0x4c,
    4,
    0,
    groupLength & 0xff,
    (groupLength >>> 8) & 0xff,
    (groupLength >>> 16) & 0xff,
    groupLength >>> 24,
  );
  for (const e of elements) out.push(...e);
  return Uint8Array.from(out);
}

function swapWords(bytes: Uint8Array, from: number, length: number, size: number): void {
  const end = from + length - (length % size);
  for (let i = from; i < end; i += size) bytes.subarray(i, i + size).reverse();
}

/**
 * Rewrites, in place, explicit VR big endian elements in `b` from `pos` until `end` (or an Item
 * Delimitation when `inItem`) as explicit VR little endian; returns where it stopped.
 */
function swapElements(
  b: Uint8Array,
  pos: number,
  end: number,
  depth: number,
  inItem: boolean,
): number {
  if (depth > MAX_DEPTH) malformed(`sequences nested deeper than [${MAX_DEPTH}]`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (pos < end) {
    if (pos + 8 > end) malformed(`the dataset ends inside an element header at byte [${pos}]`);
    const group = view.getUint16(pos, false);
    const element = view.getUint16(pos + 2, false);
    swapWords(b, pos, 4, 2);
    if (group === 0xfffe) {
      swapWords(b, pos + 4, 4, 4);
      if (element === 0xe00d) {
        if (inItem) return pos + 8;
        malformed(`unexpected item delimiter at byte [${pos}]`);
      }
      malformed(`unexpected item tag (FFFE,${element.toString(16)}) at byte [${pos}]`);
    }
    const vr = String.fromCharCode(b[pos + 4] ?? 0, b[pos + 5] ?? 0);
    if (!/^[A-Z]{2}$/.test(vr)) malformed(`no valid explicit VR at byte [${pos}]`);
    const long = LONG_VRS.has(vr);
    if (long && pos + 12 > end)
      malformed(`the dataset ends inside an element header at byte [${pos}]`);
    const length = long ? view.getUint32(pos + 8, false) : view.getUint16(pos + 6, false);
    if (long) swapWords(b, pos + 8, 4, 4);
    else swapWords(b, pos + 6, 2, 2);
    const value = pos + (long ? 12 : 8);
    if (vr === 'SQ') {
      pos = swapItems(
        b,
        value,
        length === UNDEFINED_LENGTH ? end : value + length,
        depth + 1,
        length === UNDEFINED_LENGTH,
      );
      continue;
    }
    if (length === UNDEFINED_LENGTH)
      malformed(`undefined length on a [${vr}] element at byte [${pos}]`);
    if (value + length > end)
      malformed(`element at byte [${pos}] runs past the data (length [${length}])`);
    const size = WORD_BYTES[vr];
    if (size !== undefined) swapWords(b, value, length, size);
    pos = value + length;
  }
  if (inItem) malformed('the dataset ends inside a sequence item');
  return pos;
}

/** Items of a sequence value from `pos`; returns the offset past the sequence. */
function swapItems(
  b: Uint8Array,
  pos: number,
  end: number,
  depth: number,
  undefinedLength: boolean,
): number {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  while (pos < end) {
    if (pos + 8 > b.length) malformed(`the dataset ends inside an item header at byte [${pos}]`);
    const group = view.getUint16(pos, false);
    const element = view.getUint16(pos + 2, false);
    const length = view.getUint32(pos + 4, false);
    if (group !== 0xfffe) malformed(`expected an item at byte [${pos}]`);
    swapWords(b, pos, 4, 2);
    swapWords(b, pos + 4, 4, 4);
    if (element === 0xe0dd) return pos + 8;
    if (element !== 0xe000) malformed(`expected an item at byte [${pos}]`);
    const value = pos + 8;
    if (length === UNDEFINED_LENGTH) {
      pos = swapElements(b, value, b.length, depth + 1, true);
    } else {
      if (value + length > b.length) malformed(`item at byte [${pos}] runs past the data`);
      swapElements(b, value, value + length, depth + 1, false);
      pos = value + length;
    }
  }
  if (undefinedLength) malformed('the dataset ends inside a sequence');
  return pos;
}

/**
 * The File Meta Information of a Part 10 file rewritten to say Explicit VR Little Endian, the
 * original Transfer Syntax UID, and where the dataset starts.
 */
export function explicitLittleEndianMeta(bytes: Uint8Array): {
  readonly head: Uint8Array;
  readonly transferSyntaxUid: string;
  readonly datasetOffset: number;
} {
  const meta = readMeta(bytes);
  return {
    head: rewriteMeta(bytes, meta),
    transferSyntaxUid: meta.transferSyntaxUid,
    datasetOffset: meta.end,
  };
}

/**
 * The file rewritten as Explicit VR Little Endian, from Explicit VR Big Endian or Deflated Explicit
 * VR Little Endian; CODEC_UNAVAILABLE for any other transfer syntax.
 */
export function toExplicitLittleEndian(bytes: Uint8Array): Uint8Array {
  const meta = readMeta(bytes);
  let dataset: Uint8Array;
  if (meta.transferSyntaxUid === DEFLATED) {
    try {
      dataset = new Uint8Array(
        inflateRawSync(bytes.subarray(meta.end), { maxOutputLength: MAX_INFLATED_BYTES }),
      );
    } catch (cause) {
      throw codecError('CODEC_DECODE_FAILED', 'the deflated dataset could not be inflated', cause);
    }
  } else if (meta.transferSyntaxUid === BIG_ENDIAN) {
    dataset = bytes.slice(meta.end);
    swapElements(dataset, 0, dataset.length, 0, false);
  } else {
    throw codecError(
      'CODEC_UNAVAILABLE',
      `no conversion to Explicit VR Little Endian from [${meta.transferSyntaxUid}]`,
    );
  }
  const head = rewriteMeta(bytes, meta);
  const out = new Uint8Array(head.length + dataset.length);
  out.set(head, 0);
  out.set(dataset, head.length);
  return out;
}
