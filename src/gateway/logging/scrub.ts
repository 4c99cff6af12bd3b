/**
 * Deep redaction of log objects: every property whose name is sensitive (patient attributes by
 * keyword or DICOM JSON tag, credentials, payloads) is replaced by CENSOR at any depth. Objects
 * are copied only along the paths that change, so the caller's objects are never mutated and a
 * clean object costs one walk.
 */
export const CENSOR = '[redacted]';

/**
 * Patient- and person-identifying DICOM attributes (after PS3.15 Annex E, Basic Application
 * Confidentiality Profile), by keyword and in DICOM JSON (PS3.18 F.2) tag form: every keyword that
 * starts with Patient or OtherPatient (PatientName, PatientID, PatientBirthDate, PatientAddress,
 * ... and, harmlessly, PatientPosition), names of physicians, operators and responsible persons,
 * clinical-trial subject ids, accession number; every tag of group 0010 (the Patient module) and
 * the tags of the others.
 */
export const PATIENT_KEY_PATTERN =
  /^(?:(?:Other)?Patient|IssuerOfPatientID|SourcePatientGroup|ClinicalTrialSubject|AccessionNumber$|MedicalRecordLocator$|EthnicGroup$|MilitaryRank$|BranchOfService$|CountryOfResidence$|RegionOfResidence$|ResponsiblePerson|OperatorsName$|.*Physician(?:s)?Name$|PersonName$|0010[0-9A-F]{4}$|0008(?:0050|0090|1048|1050|1060|1070|0092|0094)$|0012(?:0040|0042|0081)$|00321032$|00401010$)/i;

/** Explicit keywords, for documentation and tests; the pattern above covers them. */
export const PATIENT_KEYS = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'PatientAddress',
  'OtherPatientIDs',
  'OtherPatientNames',
  'ClinicalTrialSubjectID',
  'AccessionNumber',
  'ReferringPhysicianName',
  '00100010',
  '00100020',
  '00100030',
  '00120040',
] as const;

/** Credentials, the hidden identity and raw bodies. Matched case-insensitively. */
export const SECRET_KEYS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'token',
  'tokens',
  'accessToken',
  'apiKey',
  'secret',
  'hs256Secret',
  'password',
  'connectionString',
  'key',
  'payload',
  'identity',
  'identityRecord',
  'body',
] as const;

const SECRETS = new Set<string>(SECRET_KEYS.map((k) => k.toLowerCase()));

/** Deeper structures are cut off rather than walked (and never printed unredacted). */
export const MAX_DEPTH = 10;

export function isSensitiveKey(key: string): boolean {
  return SECRETS.has(key.toLowerCase()) || PATIENT_KEY_PATTERN.test(key);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Returns `value` itself when nothing is sensitive, else a copy with sensitive values censored. */
export function scrub(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i += 1) {
      const item: unknown = value[i];
      const clean = scrub(item, depth + 1);
      if (clean !== item) {
        copy ??= [...value];
        copy[i] = clean;
      }
    }
    return copy ?? value;
  }
  if (value instanceof Map) {
    return scrub(Object.fromEntries(value), depth);
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const inner = value[key];
    const clean = isSensitiveKey(key)
      ? inner === undefined
        ? undefined
        : CENSOR
      : scrub(inner, depth + 1);
    if (clean !== inner) {
      copy ??= { ...value };
      copy[key] = clean;
    }
  }
  return copy ?? value;
}
