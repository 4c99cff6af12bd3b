/**
 * UID policy `derive` at the byte level: applies the edits of rules/derive-uid-edits.ts (new SOP
 * Instance UID, Image Type DERIVED, Derivation Description, Source Image Sequence, an Original
 * Attributes Sequence item) to a Part 10 file, rewriting only the top-level elements concerned
 * (and the File Meta group's SOP Instance UID and length). Every other byte is copied as it was, so
 * the pixel data and any private or odd element stay untouched. Explicit and implicit VR little
 * endian only.
 */
import type { DerivedInstanceEdits } from '../rules/derive-uid-edits';
import { walkTopLevel } from './read-instance-header';
import type { TopLevelElement } from './read-instance-header';

type Value =
  | { readonly vr: 'UI' | 'CS' | 'ST' | 'LO' | 'SH' | 'DT'; readonly values: readonly string[] }
  | { readonly vr: 'SQ'; readonly items: readonly DicomItem[] };
/** Data elements of one item (or of the edits), by tag. */
type DicomItem = ReadonlyMap<number, Value>;

const TAG = {
  MetaGroupLength: 0x00020000,
  MediaStorageSOPInstanceUID: 0x00020003,
  ImageType: 0x00080008,
  SOPInstanceUID: 0x00080018,
  CodeValue: 0x00080100,
  CodingSchemeDesignator: 0x00080102,
  CodeMeaning: 0x00080104,
  ReferencedSOPClassUID: 0x00081150,
  ReferencedSOPInstanceUID: 0x00081155,
  DerivationDescription: 0x00082111,
  SourceImageSequence: 0x00082112,
  PurposeOfReferenceCodeSequence: 0x0040a170,
  ModifiedAttributesSequence: 0x04000550,
  AttributeModificationDateTime: 0x04000562,
  ModifyingSystem: 0x04000563,
  SourceOfPreviousValues: 0x04000564,
  ReasonForTheAttributeModification: 0x04000565,
  OriginalAttributesSequence: 0x04000561,
} as const;

function text(vr: 'UI' | 'CS' | 'ST' | 'LO' | 'SH' | 'DT', ...values: string[]): Value {
  return { vr, values };
}

function encodeValue(value: Value, explicit: boolean): Buffer {
  if (value.vr === 'SQ') {
    return Buffer.concat(
      value.items.map((item) => {
        const body = encodeItem(item, explicit);
        const head = Buffer.alloc(8);
        head.writeUInt16LE(0xfffe, 0);
        head.writeUInt16LE(0xe000, 2);
        head.writeUInt32LE(body.length, 4);
        return Buffer.concat([head, body]);
      }),
    );
  }
  const raw = Buffer.from(value.values.join('\\'), 'latin1');
  // PS3.5 6.2: even length; UI pads with NUL, text VRs with a space.
  return raw.length % 2 === 0
    ? raw
    : Buffer.concat([raw, Buffer.from(value.vr === 'UI' ? '\0' : ' ', 'latin1')]);
}

function encodeElement(tag: number, value: Value, explicit: boolean): Buffer {
  const body = encodeValue(value, explicit);
  let head: Buffer;
  if (!explicit) {
    head = Buffer.alloc(8);
    head.writeUInt32LE(body.length, 4);
  } else if (value.vr === 'SQ') {
    head = Buffer.alloc(12);
    head.write('SQ', 4, 'latin1');
    head.writeUInt32LE(body.length, 8);
  } else {
    head = Buffer.alloc(8);
    head.write(value.vr, 4, 'latin1');
    head.writeUInt16LE(body.length, 6);
  }
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  return Buffer.concat([head, body]);
}

function encodeItem(item: DicomItem, explicit: boolean): Buffer {
  return Buffer.concat(
    [...item.entries()]
      .sort(([a], [b]) => a - b)
      .map(([tag, value]) => encodeElement(tag, value, explicit)),
  );
}

function originalAttributesItem(edits: DerivedInstanceEdits): DicomItem {
  const original = edits.OriginalAttributesSequenceItem;
  const modified = original.ModifiedAttributesSequence[0];
  const modifiedItem = new Map<number, Value>([
    [TAG.SOPInstanceUID, text('UI', modified.SOPInstanceUID)],
  ]);
  if (modified.ImageType !== undefined) {
    modifiedItem.set(TAG.ImageType, text('CS', ...modified.ImageType));
  }
  return new Map<number, Value>([
    [TAG.ModifiedAttributesSequence, { vr: 'SQ', items: [modifiedItem] }],
    [TAG.AttributeModificationDateTime, text('DT', original.AttributeModificationDateTime)],
    [TAG.ModifyingSystem, text('LO', original.ModifyingSystem)],
    [TAG.SourceOfPreviousValues, text('LO', original.SourceOfPreviousValues)],
    [TAG.ReasonForTheAttributeModification, text('CS', original.ReasonForTheAttributeModification)],
  ]);
}

/** The Original Attributes Sequence item in DICOM JSON (PS3.18 F.2), for the STOW-RS answer. */
export function originalAttributesJson(edits: DerivedInstanceEdits): Record<string, unknown> {
  const toJson = (item: DicomItem): Record<string, unknown> =>
    Object.fromEntries(
      [...item.entries()]
        .sort(([a], [b]) => a - b)
        .map(([tag, value]) => [
          tag.toString(16).toUpperCase().padStart(8, '0'),
          value.vr === 'SQ'
            ? { vr: 'SQ', Value: value.items.map(toJson) }
            : value.values.every((v) => v === '')
              ? { vr: value.vr }
              : { vr: value.vr, Value: value.values },
        ]),
    );
  return toJson(originalAttributesItem(edits));
}

export type DeriveResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly message: string };

/** Applies the `derive` edits; refuses files it cannot edit safely (no File Meta, big endian, deflated). */
export function applyDerivedEdits(bytes: Uint8Array, edits: DerivedInstanceEdits): DeriveResult {
  const layout = walkTopLevel(bytes);
  if (layout === undefined) {
    return {
      ok: false,
      message: 'uidPolicy [derive] needs a Part 10 file in explicit or implicit VR little endian',
    };
  }
  const source = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const slice = (e: TopLevelElement): Buffer => source.subarray(e.start, e.end);

  // File Meta: explicit VR always; new Media Storage SOP Instance UID, group length recomputed.
  const metaParts: Buffer[] = [];
  for (const element of layout.meta) {
    if (element.tag === TAG.MetaGroupLength) continue;
    metaParts.push(
      element.tag === TAG.MediaStorageSOPInstanceUID
        ? encodeElement(element.tag, text('UI', edits.SOPInstanceUID), true)
        : slice(element),
    );
  }
  const metaBody = Buffer.concat(metaParts);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(metaBody.length, 8);

  const explicit = layout.explicitVr;
  const source0 = edits.SourceImageSequence[0];
  const code = source0.PurposeOfReferenceCodeSequence[0];
  const replacements = new Map<number, Value>([
    [TAG.ImageType, text('CS', ...edits.ImageType)],
    [TAG.SOPInstanceUID, text('UI', edits.SOPInstanceUID)],
    [TAG.DerivationDescription, text('ST', edits.DerivationDescription)],
    [
      TAG.SourceImageSequence,
      {
        vr: 'SQ',
        items: [
          new Map<number, Value>([
            [TAG.ReferencedSOPClassUID, text('UI', source0.ReferencedSOPClassUID)],
            [TAG.ReferencedSOPInstanceUID, text('UI', source0.ReferencedSOPInstanceUID)],
            [
              TAG.PurposeOfReferenceCodeSequence,
              {
                vr: 'SQ',
                items: [
                  new Map<number, Value>([
                    [TAG.CodeValue, text('SH', code.CodeValue)],
                    [TAG.CodingSchemeDesignator, text('SH', code.CodingSchemeDesignator)],
                    [TAG.CodeMeaning, text('LO', code.CodeMeaning)],
                  ]),
                ],
              },
            ],
          ]),
        ],
      },
    ],
  ]);
  const newSequence: Value = { vr: 'SQ', items: [originalAttributesItem(edits)] };
  const newItem = encodeValue(newSequence, explicit);

  const out: Buffer[] = [
    source.subarray(0, layout.metaStart),
    groupLength,
    metaBody,
    source.subarray(layout.meta.at(-1)?.end ?? layout.datasetStart, layout.datasetStart),
  ];
  const pending = new Map(replacements);
  let originalAttributesDone = false;
  const flushBefore = (tag: number): void => {
    for (const [pendingTag, value] of [...pending].sort(([a], [b]) => a - b)) {
      if (pendingTag >= tag) break;
      out.push(encodeElement(pendingTag, value, explicit));
      pending.delete(pendingTag);
    }
    if (!originalAttributesDone && TAG.OriginalAttributesSequence < tag) {
      out.push(encodeElement(TAG.OriginalAttributesSequence, newSequence, explicit));
      originalAttributesDone = true;
    }
  };
  for (const element of layout.dataset) {
    // The group lengths of the edited groups would now be wrong; they are retired in the dataset
    // (PS3.5 7.2), so they go. Other groups keep theirs.
    if (element.tag === 0x00080000 || element.tag === 0x04000000) continue;
    flushBefore(element.tag);
    const replacement = pending.get(element.tag);
    if (replacement !== undefined) {
      out.push(encodeElement(element.tag, replacement, explicit));
      pending.delete(element.tag);
    } else if (element.tag === TAG.OriginalAttributesSequence && !originalAttributesDone) {
      out.push(withAppendedItem(slice(element), newItem, explicit, element.undefinedLength));
      originalAttributesDone = true;
    } else {
      out.push(slice(element));
    }
  }
  flushBefore(0xffffffff);
  return { ok: true, bytes: Buffer.concat(out) };
}

/** Appends an encoded item to a sequence element (defined length: patched; undefined: before its delimiter). */
function withAppendedItem(
  element: Buffer,
  item: Buffer,
  explicit: boolean,
  undefinedLength: boolean,
): Buffer {
  if (undefinedLength) {
    // The value ends with the Sequence Delimitation Item (FFFE,E0DD), 8 bytes.
    const delimiter = element.subarray(element.length - 8);
    return Buffer.concat([element.subarray(0, element.length - 8), item, delimiter]);
  }
  const headLength = explicit ? 12 : 8;
  const head = Buffer.from(element.subarray(0, headLength));
  const length = head.readUInt32LE(headLength - 4);
  head.writeUInt32LE(length + item.length, headLength - 4);
  return Buffer.concat([head, element.subarray(headLength), item]);
}
