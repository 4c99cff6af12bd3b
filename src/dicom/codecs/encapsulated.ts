import { codecError } from './codec-error';

/**
 * Encapsulated Pixel Data (PS3.5 A.4): a Basic Offset Table item, then one item per fragment, then a
 * Sequence Delimitation Item. A frame is one or more consecutive fragments. Read here with a small
 * walker of our own (dcmjs copies and re-splits fragments); written with one fragment per frame.
 */

const ITEM_GROUP = 0xfffe;
const ITEM_ELEMENT = 0xe000;
const SEQUENCE_DELIMITATION_ELEMENT = 0xe0dd;
/** Size of an item header: tag (4) + length (4). */
const ITEM_HEADER_BYTES = 8;
const UNDEFINED_LENGTH = 0xffffffff;

export interface FragmentRange {
  /** Offset of the fragment's first byte (past its item header) in the scanned bytes. */
  readonly offset: number;
  readonly length: number;
  /** Offset of the item header, relative to the first fragment's item header (as BOT offsets are). */
  readonly itemOffset: number;
}

export interface EncapsulatedPixelData {
  /** The Basic Offset Table: byte offsets of each frame's first fragment item; may be empty. */
  readonly basicOffsetTable: readonly number[];
  readonly fragments: readonly FragmentRange[];
  /** Offset just past the Sequence Delimitation Item. */
  readonly endOffset: number;
}

function itemTag(view: DataView, offset: number): { group: number; element: number } {
  return { group: view.getUint16(offset, true), element: view.getUint16(offset + 2, true) };
}

function need(bytes: Uint8Array, offset: number, count: number, what: string): void {
  if (offset + count > bytes.length) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `encapsulated Pixel Data ends inside ${what} at byte [${offset}] (length [${bytes.length}])`,
    );
  }
}

/**
 * Reads the items of encapsulated Pixel Data whose value (the Basic Offset Table item) starts at
 * `valueOffset` in `bytes`.
 */
export function readEncapsulatedPixelData(
  bytes: Uint8Array,
  valueOffset: number,
): EncapsulatedPixelData {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  need(bytes, valueOffset, ITEM_HEADER_BYTES, 'the Basic Offset Table item header');
  const bot = itemTag(view, valueOffset);
  if (bot.group !== ITEM_GROUP || bot.element !== ITEM_ELEMENT) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `encapsulated Pixel Data must start with a Basic Offset Table item, found [${bot.group.toString(16)},${bot.element.toString(16)}] at byte [${valueOffset}]`,
    );
  }
  const botLength = view.getUint32(valueOffset + 4, true);
  if (botLength === UNDEFINED_LENGTH || botLength % 4 !== 0) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `Basic Offset Table length [${botLength}] is not a multiple of 4`,
    );
  }
  need(bytes, valueOffset + ITEM_HEADER_BYTES, botLength, 'the Basic Offset Table');
  const basicOffsetTable: number[] = [];
  for (let i = 0; i < botLength; i += 4) {
    basicOffsetTable.push(view.getUint32(valueOffset + ITEM_HEADER_BYTES + i, true));
  }
  const firstItem = valueOffset + ITEM_HEADER_BYTES + botLength;
  const fragments: FragmentRange[] = [];
  let pos = firstItem;
  for (;;) {
    need(bytes, pos, ITEM_HEADER_BYTES, 'an item header');
    const { group, element } = itemTag(view, pos);
    const length = view.getUint32(pos + 4, true);
    if (group === ITEM_GROUP && element === SEQUENCE_DELIMITATION_ELEMENT) {
      return { basicOffsetTable, fragments, endOffset: pos + ITEM_HEADER_BYTES };
    }
    if (group !== ITEM_GROUP || element !== ITEM_ELEMENT) {
      throw codecError(
        'ENCAPSULATION_MALFORMED',
        `expected a fragment item at byte [${pos}], found [${group.toString(16)},${element.toString(16)}]`,
      );
    }
    if (length === UNDEFINED_LENGTH) {
      throw codecError(
        'ENCAPSULATION_MALFORMED',
        `fragment item at byte [${pos}] has undefined length`,
      );
    }
    need(bytes, pos + ITEM_HEADER_BYTES, length, `a fragment of length [${length}]`);
    fragments.push({ offset: pos + ITEM_HEADER_BYTES, length, itemOffset: pos - firstItem });
    pos += ITEM_HEADER_BYTES + length;
  }
}

/** True where a fragment starts a new codestream: JPEG / JPEG-LS SOI, J2K SOC, JP2 signature box. */
function startsCodestream(bytes: Uint8Array, f: FragmentRange): boolean {
  const b0 = bytes[f.offset];
  const b1 = bytes[f.offset + 1];
  if (f.length < 2) return false;
  if (b0 === 0xff && (b1 === 0xd8 || b1 === 0x4f)) return true;
  // JP2 file: a 12-byte signature box "jP  " (ISO/IEC 15444-1 I.5.1).
  return (
    f.length >= 12 &&
    bytes[f.offset + 4] === 0x6a &&
    bytes[f.offset + 5] === 0x50 &&
    bytes[f.offset + 6] === 0x20 &&
    bytes[f.offset + 7] === 0x20
  );
}

/** Groups fragment indices into frames (PS3.5 A.4: Basic Offset Table, else one per frame, else markers). */
function groupFragments(
  bytes: Uint8Array,
  encapsulated: EncapsulatedPixelData,
  numberOfFrames: number,
): number[][] {
  const { fragments, basicOffsetTable } = encapsulated;
  if (fragments.length === 0) {
    throw codecError('ENCAPSULATION_MALFORMED', 'encapsulated Pixel Data has no fragment');
  }
  if (numberOfFrames === 1) return [fragments.map((_, i) => i)];
  if (fragments.length < numberOfFrames) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `[${fragments.length}] fragments cannot hold [${numberOfFrames}] frames`,
    );
  }
  if (basicOffsetTable.length > 0) {
    if (basicOffsetTable.length !== numberOfFrames) {
      throw codecError(
        'ENCAPSULATION_MALFORMED',
        `the Basic Offset Table has [${basicOffsetTable.length}] entries for [${numberOfFrames}] frames`,
      );
    }
    const starts = basicOffsetTable.map((offset) => {
      const index = fragments.findIndex((f) => f.itemOffset === offset);
      if (index < 0) {
        throw codecError(
          'ENCAPSULATION_MALFORMED',
          `Basic Offset Table entry [${offset}] is not a fragment start`,
        );
      }
      return index;
    });
    if (starts[0] !== 0 || starts.some((s, i) => i > 0 && s <= (starts[i - 1] ?? 0))) {
      throw codecError(
        'ENCAPSULATION_MALFORMED',
        'Basic Offset Table entries are not increasing from 0',
      );
    }
    return starts.map((s, i) => range(s, starts[i + 1] ?? fragments.length));
  }
  if (fragments.length === numberOfFrames) return fragments.map((_, i) => [i]);
  const starts = fragments.flatMap((f, i) => (startsCodestream(bytes, f) ? [i] : []));
  if (starts.length !== numberOfFrames || starts[0] !== 0) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `cannot split [${fragments.length}] fragments into [${numberOfFrames}] frames without a Basic Offset Table`,
    );
  }
  return starts.map((s, i) => range(s, starts[i + 1] ?? fragments.length));
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/**
 * The compressed bytes of each frame: its fragments concatenated (a copy when a frame spans several
 * fragments, a view into `bytes` when it is one).
 */
export function frameFragments(
  bytes: Uint8Array,
  encapsulated: EncapsulatedPixelData,
  numberOfFrames: number,
): Uint8Array[] {
  if (!Number.isInteger(numberOfFrames) || numberOfFrames < 1) {
    throw codecError('ENCAPSULATION_MALFORMED', `Number of Frames [${numberOfFrames}]`);
  }
  return groupFragments(bytes, encapsulated, numberOfFrames).map((indices) => {
    const parts = indices.map((i) => {
      const f = encapsulated.fragments[i] as FragmentRange;
      return bytes.subarray(f.offset, f.offset + f.length);
    });
    return parts.length === 1 ? (parts[0] as Uint8Array) : concat(parts);
  });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function itemHeader(element: number, length: number): Uint8Array {
  const header = new Uint8Array(ITEM_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint16(0, ITEM_GROUP, true);
  view.setUint16(2, element, true);
  view.setUint32(4, length, true);
  return header;
}

/**
 * The value of an encapsulated Pixel Data element holding `frames`, one fragment per frame, each
 * padded to even length with a zero byte (PS3.5 A.4: items have even length), with a Basic Offset
 * Table when there is more than one frame, and the closing Sequence Delimitation Item.
 */
export function encapsulateFrames(frames: readonly Uint8Array[]): Uint8Array {
  if (frames.length === 0) {
    throw codecError('ENCAPSULATION_MALFORMED', 'no frame to encapsulate');
  }
  const padded = frames.map((f) => (f.length % 2 === 0 ? f : concat([f, new Uint8Array(1)])));
  const offsets: number[] = [];
  let at = 0;
  for (const f of padded) {
    offsets.push(at);
    at += ITEM_HEADER_BYTES + f.length;
  }
  const withTable = frames.length > 1 && at <= 0xffffffff;
  const table = new Uint8Array(withTable ? offsets.length * 4 : 0);
  const tableView = new DataView(table.buffer);
  offsets.forEach((o, i) => {
    if (withTable) tableView.setUint32(i * 4, o, true);
  });
  return concat([
    itemHeader(ITEM_ELEMENT, table.length),
    table,
    ...padded.flatMap((f) => [itemHeader(ITEM_ELEMENT, f.length), f]),
    itemHeader(SEQUENCE_DELIMITATION_ELEMENT, 0),
  ]);
}

/**
 * A copy of the Part 10 `original` in which the value of its top-level encapsulated Pixel Data
 * element (from `valueOffset` to `valueEndOffset`, delimiter included) is `newValue`. Every byte
 * before and after it stays as it was; the element keeps its undefined length.
 */
export function replacePixelDataValue(
  original: Uint8Array,
  valueOffset: number,
  valueEndOffset: number,
  newValue: Uint8Array,
): Uint8Array {
  if (valueOffset < 0 || valueEndOffset < valueOffset || valueEndOffset > original.length) {
    throw codecError(
      'ENCAPSULATION_MALFORMED',
      `Pixel Data value range [${valueOffset}, ${valueEndOffset}] lies outside the file (length [${original.length}])`,
    );
  }
  return concat([original.subarray(0, valueOffset), newValue, original.subarray(valueEndOffset)]);
}
