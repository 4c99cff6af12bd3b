import { readIdentityFields, type HeaderDataset } from '../dicom';
import type { KeyRing } from '../stego/key-ring';
import {
  decodeIdentityRecord,
  DEFAULT_IDENTITY_FIELDS,
  encodeCompactRecord,
  encodeIdentityRecord,
  identityText,
  verifyCompactRecord,
  type IdentityRecord,
} from '../stego/identity-record';
import type { ProfileName } from '../stego/profiles';
import { pipelineError } from './pipeline-error';

/** The identity record of a header: its fields now, when, and under which key. */
export function identityRecordOf(
  header: HeaderDataset,
  fields: readonly string[] | undefined,
  embeddedAt: Date,
  keyId: string,
): IdentityRecord {
  return {
    fields: readIdentityFields(header, fields ?? DEFAULT_IDENTITY_FIELDS),
    embeddedAt: embeddedAt.toISOString(),
    keyId,
  };
}

/**
 * What each profile embeds for an identity record: paper the QR text (UTF-8 `Keyword=value` lines,
 * as the paper puts patient data in its QR code), fidelity the full binary record, robust the
 * compact record (PatientID + a keyed digest of all fields) that survives its noise.
 */
export function identityPayload(
  profile: ProfileName,
  record: IdentityRecord,
  keyRing: KeyRing | undefined,
): Uint8Array {
  switch (profile) {
    case 'paper':
      return new Uint8Array(Buffer.from(identityText(record), 'utf8'));
    case 'fidelity':
      return encodeIdentityRecord(record);
    case 'robust':
      if (keyRing === undefined) {
        throw pipelineError(
          'KEY_RING_REQUIRED',
          'profile [robust] seals its record: a key ring is required',
        );
      }
      return encodeCompactRecord(record, keyRing);
  }
}

/** An extracted payload, read back by what its profile embeds. */
export type HiddenIdentity =
  /** fidelity: the whole record. */
  | { readonly kind: 'record'; readonly record: IdentityRecord }
  /** paper: the QR text and the fields parsed from it. */
  | {
      readonly kind: 'text';
      readonly text: string;
      readonly fields: readonly (readonly [string, string])[];
    }
  /** robust: PatientID and whether the digest binds the header's current fields. */
  | {
      readonly kind: 'compact';
      readonly patientId: string;
      readonly keyId: string;
      readonly digestMatches: boolean;
    }
  /** Anything else (a payload from --payload-file): the bytes only. */
  | { readonly kind: 'bytes' };

function parseIdentityText(text: string): [string, string][] | undefined {
  const fields: [string, string][] = [];
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) return undefined;
    const keyword = line.slice(0, eq);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(keyword)) return undefined;
    fields.push([keyword, line.slice(eq + 1)]);
  }
  return fields;
}

/** Interprets an extracted payload; `header` and `keyRing` serve the robust digest check. */
export function readHiddenIdentity(
  profile: ProfileName,
  payload: Uint8Array,
  header: HeaderDataset,
  fields: readonly string[] | undefined,
  keyRing: KeyRing | undefined,
): HiddenIdentity {
  try {
    switch (profile) {
      case 'fidelity':
        return { kind: 'record', record: decodeIdentityRecord(payload) };
      case 'paper': {
        const text = Buffer.from(payload).toString('utf8');
        const parsed = parseIdentityText(text);
        return parsed === undefined ? { kind: 'bytes' } : { kind: 'text', text, fields: parsed };
      }
      case 'robust': {
        if (keyRing === undefined) return { kind: 'bytes' };
        const headerFields = readIdentityFields(header, fields ?? DEFAULT_IDENTITY_FIELDS);
        const v = verifyCompactRecord(payload, headerFields, keyRing);
        return { kind: 'compact', ...v };
      }
    }
  } catch {
    // Not an identity record: a payload embedded from a file.
    return { kind: 'bytes' };
  }
}
