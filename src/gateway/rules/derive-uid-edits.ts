/**
 * UID policy `derive` (PS3.3 C.7.6.1.1.2, C.12.1.1.9): the pure description of the header edits that
 * turn the stored instance into a derived image. The DICOM adapter applies them.
 */
import { createHash } from 'node:crypto';

/** One coded entry (PS3.3 Table 8.8-1). */
export interface CodedEntry {
  readonly CodeValue: string;
  readonly CodingSchemeDesignator: string;
  readonly CodeMeaning: string;
}

export interface DerivedInstanceInput {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** Image Type (0008,0008) values as stored, or undefined when absent. */
  readonly imageType?: readonly string[];
  /** e.g. `fidelity`; goes into the Derivation Description. */
  readonly profile: string;
  readonly keyId: string;
  /** When the edit is made (Attribute Modification DateTime). */
  readonly at: Date;
  /** Modifying System (0400,0563). */
  readonly modifyingSystem?: string;
}

/** The edits, keyed by DICOM keyword, in the shape dcmjs's naturalized datasets use. */
export interface DerivedInstanceEdits {
  readonly SOPInstanceUID: string;
  readonly ImageType: readonly string[];
  readonly DerivationDescription: string;
  readonly SourceImageSequence: readonly [
    {
      readonly ReferencedSOPClassUID: string;
      readonly ReferencedSOPInstanceUID: string;
      readonly PurposeOfReferenceCodeSequence: readonly [CodedEntry];
    },
  ];
  /** Appended to any existing Original Attributes Sequence (0400,0561). */
  readonly OriginalAttributesSequenceItem: {
    readonly SourceOfPreviousValues: string;
    readonly AttributeModificationDateTime: string;
    readonly ModifyingSystem: string;
    readonly ReasonForTheAttributeModification: 'COERCE' | 'CORRECT';
    readonly ModifiedAttributesSequence: readonly [
      { readonly SOPInstanceUID: string; readonly ImageType?: readonly string[] },
    ];
  };
}

/**
 * PS3.16 CID 7202 "Source Image Purposes of Reference": the source was processed into this image.
 */
export const SOURCE_IMAGE_FOR_PROCESSING: CodedEntry = Object.freeze({
  CodeValue: '121322',
  CodingSchemeDesignator: 'DCM',
  CodeMeaning: 'Source image for image processing operation',
});

/**
 * A new UID under the `2.25` root (PS3.5 B.2: a UUID as one decimal integer), derived from the
 * original UID and the key id so that sending the same instance twice yields the same derived UID
 * (idempotent re-sends), while different keys yield different UIDs. 128 bits of SHA-256, version
 * and variant bits set as for a name-based UUID (RFC 9562 5.8).
 */
export function deriveSopInstanceUid(originalUid: string, salt: string): string {
  const digest = createHash('sha256').update(`${salt}\u0000${originalUid}`).digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/** DICOM DT (PS3.5 Table 6.2-1) in UTC: YYYYMMDDHHMMSS.FFFFFF+0000. */
function dicomDateTime(at: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(at.getUTCFullYear(), 4)}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())}` +
    `${p(at.getUTCHours())}${p(at.getUTCMinutes())}${p(at.getUTCSeconds())}` +
    `.${p(at.getUTCMilliseconds() * 1000, 6)}+0000`
  );
}

/**
 * The edits for UID policy `derive`. Image Type value 1 becomes DERIVED (PS3.3 C.7.6.1.1.2), the
 * other values are kept; absent Image Type becomes DERIVED\\SECONDARY.
 */
export function deriveUidEdits(input: DerivedInstanceInput): DerivedInstanceEdits {
  const newUid = deriveSopInstanceUid(input.sopInstanceUid, input.keyId);
  const imageType =
    input.imageType !== undefined && input.imageType.length > 0
      ? ['DERIVED', ...input.imageType.slice(1)]
      : ['DERIVED', 'SECONDARY'];
  const system = input.modifyingSystem ?? 'stego-gateway';
  // Derivation Description is ST (1024 chars): profile and key id only, never a patient attribute.
  const description =
    `Identity record embedded in background 4x4 DCT blocks by ${system} ` +
    `(profile ${input.profile}, key ${input.keyId}); diagnostic region unchanged`;
  return {
    SOPInstanceUID: newUid,
    ImageType: imageType,
    DerivationDescription: description,
    SourceImageSequence: [
      {
        ReferencedSOPClassUID: input.sopClassUid,
        ReferencedSOPInstanceUID: input.sopInstanceUid,
        PurposeOfReferenceCodeSequence: [SOURCE_IMAGE_FOR_PROCESSING],
      },
    ],
    OriginalAttributesSequenceItem: {
      SourceOfPreviousValues: '',
      AttributeModificationDateTime: dicomDateTime(input.at),
      ModifyingSystem: system,
      ReasonForTheAttributeModification: 'COERCE',
      ModifiedAttributesSequence: [
        input.imageType === undefined
          ? { SOPInstanceUID: input.sopInstanceUid }
          : { SOPInstanceUID: input.sopInstanceUid, ImageType: input.imageType },
      ],
    },
  };
}
