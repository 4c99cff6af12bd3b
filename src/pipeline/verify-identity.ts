import { readAnyDicomImage, readIdentityFields } from '../dicom';
import { DEFAULT_IDENTITY_FIELDS } from '../stego/identity-record';
import type { ProfileName } from '../stego/profiles';
import {
  extractFromImage,
  type ExtractFailure,
  type ExtractIdentityOptions,
} from './extract-identity';

/** One field of the hidden record beside the header's current value. */
export interface FieldAgreement {
  readonly field: string;
  /** The hidden value; null when the profile does not carry it (robust: only PatientID). */
  readonly hidden: string | null;
  readonly header: string | null;
  readonly agrees: boolean;
}

export type VerifyIdentityResult =
  | {
      readonly ok: true;
      readonly profile: ProfileName;
      readonly keyId: string | null;
      /** True when every field (and, for robust, the digest over all fields) agrees. */
      readonly agrees: boolean;
      readonly fields: readonly FieldAgreement[];
      /** robust: whether the keyed digest binds the header's current identity fields. */
      readonly digestMatches?: boolean;
      readonly embeddedAt?: string;
      readonly framesAgree: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: ExtractFailure | 'not-identity';
      readonly message: string;
    };

/**
 * Extracts the hidden identity and compares it, field by field, with the header as it is now: a
 * changed PatientID or a swapped header shows as disagreement. Values are patient data: callers
 * decide what to show.
 */
export async function verifyIdentity(
  bytes: Uint8Array,
  options: ExtractIdentityOptions,
): Promise<VerifyIdentityResult> {
  const image = await readAnyDicomImage(bytes);
  const extracted = await extractFromImage(image, options);
  if (!extracted.ok) return { ok: false, reason: extracted.reason, message: extracted.message };
  const { identity } = extracted;
  const base = {
    ok: true as const,
    profile: extracted.profile,
    keyId: extracted.keyId,
    framesAgree: extracted.framesAgree,
  };
  const compare = (hidden: readonly (readonly [string, string])[]): FieldAgreement[] => {
    const header = new Map(
      readIdentityFields(
        image.header,
        hidden.map(([k]) => k),
      ),
    );
    return hidden.map(([field, value]) => {
      const now = header.get(field) ?? '';
      return { field, hidden: value, header: now, agrees: value === now };
    });
  };
  switch (identity.kind) {
    case 'record': {
      const fields = compare(identity.record.fields);
      return {
        ...base,
        keyId: identity.record.keyId === '' ? extracted.keyId : identity.record.keyId,
        agrees: fields.every((f) => f.agrees),
        fields,
        embeddedAt: identity.record.embeddedAt,
      };
    }
    case 'text': {
      const fields = compare(identity.fields);
      return { ...base, agrees: fields.every((f) => f.agrees), fields };
    }
    case 'compact': {
      const keywords = options.identityFields ?? DEFAULT_IDENTITY_FIELDS;
      const header = new Map(readIdentityFields(image.header, keywords));
      const patientId = header.get('PatientID') ?? '';
      const fields: FieldAgreement[] = keywords.map((field) =>
        field === 'PatientID'
          ? {
              field,
              hidden: identity.patientId,
              header: patientId,
              agrees: identity.patientId === patientId,
            }
          : {
              field,
              hidden: null,
              header: header.get(field) ?? '',
              agrees: identity.digestMatches,
            },
      );
      return {
        ...base,
        keyId: identity.keyId === '' ? extracted.keyId : identity.keyId,
        agrees: identity.digestMatches && identity.patientId === patientId,
        fields,
        digestMatches: identity.digestMatches,
      };
    }
    case 'bytes':
      return {
        ok: false,
        reason: 'not-identity',
        message: `the hidden payload ([${extracted.payload.length}] bytes) is not an identity record`,
      };
  }
}
