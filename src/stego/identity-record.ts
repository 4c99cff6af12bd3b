import { createHmac, timingSafeEqual } from 'node:crypto';
import { StegoGatewayError } from './errors';
import { activeKey, type KeyRing } from './key-ring';

/** The identity fields taken from the DICOM header by default (DICOM keywords, PS3.6). */
export const DEFAULT_IDENTITY_FIELDS = [
  'PatientName',
  'PatientID',
  'IssuerOfPatientID',
  'PatientBirthDate',
  'PatientSex',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'SOPInstanceUID',
  'AccessionNumber',
  'InstitutionName',
] as const;

export interface IdentityRecord {
  readonly fields: ReadonlyArray<readonly [keyword: string, value: string]>;
  /** ISO 8601. */
  readonly embeddedAt: string;
  readonly keyId: string;
}

const RECORD_VERSION = 1;
const FLAG_TIME_AS_MS = 1;
const CUSTOM_KEYWORD = 0xff;

function corrupt(message: string): StegoGatewayError {
  return new StegoGatewayError('CORRUPT_RECORD', message, { httpStatus: 422 });
}

class Writer {
  private readonly parts: number[] = [];
  byte(v: number): void {
    this.parts.push(v & 0xff);
  }
  varint(v: number): void {
    let n = v;
    while (n >= 0x80) {
      this.parts.push((n & 0x7f) | 0x80);
      n = Math.floor(n / 128);
    }
    this.parts.push(n);
  }
  bytes(b: Uint8Array): void {
    for (const v of b) this.parts.push(v);
  }
  text(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.varint(b.length);
    this.bytes(b);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

class Reader {
  private offset = 0;
  constructor(private readonly data: Uint8Array) {}
  byte(): number {
    const v = this.data[this.offset];
    if (v === undefined) throw corrupt(`record ends early [offset ${this.offset}]`);
    this.offset++;
    return v;
  }
  varint(): number {
    let result = 0;
    let scale = 1;
    // Up to 8 bytes: 56 bits cover milliseconds since 1970 for millennia.
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw corrupt(`varint too long [offset ${this.offset}]`);
  }
  bytes(n: number): Uint8Array {
    if (this.offset + n > this.data.length) {
      throw corrupt(`record ends early [need ${n} bytes at offset ${this.offset}]`);
    }
    const out = this.data.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  text(): string {
    const b = this.bytes(this.varint());
    const s = Buffer.from(b).toString('utf8');
    if (!Buffer.from(s, 'utf8').equals(Buffer.from(b))) throw corrupt('text is not valid UTF-8');
    return s;
  }
  get remaining(): number {
    return this.data.length - this.offset;
  }
}

/**
 * Compact, versioned binary form: version, flags, embeddedAt (milliseconds when the ISO text is the
 * canonical `toISOString()` form, else the text), key id, then the fields (well-known keywords as a
 * one-byte index into DEFAULT_IDENTITY_FIELDS, others spelled out).
 */
export function encodeIdentityRecord(r: IdentityRecord): Uint8Array {
  const w = new Writer();
  w.byte(RECORD_VERSION);
  const ms = Date.parse(r.embeddedAt);
  const canonical = Number.isFinite(ms) && ms >= 0 && new Date(ms).toISOString() === r.embeddedAt;
  w.byte(canonical ? FLAG_TIME_AS_MS : 0);
  if (canonical) w.varint(ms);
  else w.text(r.embeddedAt);
  w.text(r.keyId);
  w.varint(r.fields.length);
  for (const [keyword, value] of r.fields) {
    const index = (DEFAULT_IDENTITY_FIELDS as readonly string[]).indexOf(keyword);
    if (index >= 0) w.byte(index);
    else {
      w.byte(CUSTOM_KEYWORD);
      w.text(keyword);
    }
    w.text(value);
  }
  return w.done();
}

export function decodeIdentityRecord(b: Uint8Array): IdentityRecord {
  const r = new Reader(b);
  const version = r.byte();
  if (version !== RECORD_VERSION) throw corrupt(`unknown record version [${version}]`);
  const flags = r.byte();
  if ((flags & ~FLAG_TIME_AS_MS) !== 0) throw corrupt(`unknown record flags [${flags}]`);
  const embeddedAt = flags & FLAG_TIME_AS_MS ? new Date(r.varint()).toISOString() : r.text();
  const keyId = r.text();
  const count = r.varint();
  if (count > 1024) throw corrupt(`too many fields [${count}]`);
  const fields: (readonly [string, string])[] = [];
  for (let i = 0; i < count; i++) {
    const index = r.byte();
    let keyword: string;
    if (index === CUSTOM_KEYWORD) keyword = r.text();
    else {
      const known = DEFAULT_IDENTITY_FIELDS[index];
      if (known === undefined) throw corrupt(`unknown field index [${index}]`);
      keyword = known;
    }
    fields.push([keyword, r.text()] as const);
  }
  if (r.remaining !== 0) throw corrupt(`trailing bytes [${r.remaining}]`);
  return Object.freeze({ fields: Object.freeze(fields), embeddedAt, keyId });
}

/** The text the paper profile puts into its QR code: one `Keyword=value` line per field. */
export function identityText(r: IdentityRecord): string {
  return r.fields.map(([k, v]) => `${k}=${v}`).join('\n');
}

// ---- compact record (robust profile) ----------------------------------------------------------

const COMPACT_VERSION = 1;
/** Digest bytes: at least 64 bits (issue 2); padded up so the record is >= 16 bytes (128 bits). */
const MIN_DIGEST_BYTES = 8;
const MIN_COMPACT_BYTES = 16;

/** One byte naming the key: the first byte of SHA-256-HMAC(keyId) under a fixed label. */
export function keyTag(keyId: string): number {
  return createHmac('sha256', 'stego-gateway key tag').update(keyId, 'utf8').digest()[0] ?? 0;
}

function canonicalFields(fields: IdentityRecord['fields']): Buffer {
  const sorted = [...fields].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Buffer.from(JSON.stringify(sorted), 'utf8');
}

function digestFor(key: Uint8Array, fields: IdentityRecord['fields'], length: number): Buffer {
  return createHmac('sha256', key)
    .update('stego-gateway compact record v1\n')
    .update(canonicalFields(fields))
    .digest()
    .subarray(0, length);
}

function patientIdOf(fields: IdentityRecord['fields']): string {
  return fields.find(([k]) => k === 'PatientID')?.[1] ?? '';
}

/**
 * Robust profile record: version, key tag, PatientID, and a truncated HMAC-SHA256 (>= 64 bits, under
 * the ring's active key) over ALL identity fields (sorted by keyword); >= 128 bits in all.
 */
export function encodeCompactRecord(r: IdentityRecord, ring: KeyRing): Uint8Array {
  const pid = Buffer.from(patientIdOf(r.fields), 'utf8');
  if (pid.length > 64)
    throw corrupt(`PatientID too long for the compact record [${pid.length} bytes]`);
  const fixed = 3 + pid.length;
  const digestLength = Math.max(MIN_DIGEST_BYTES, MIN_COMPACT_BYTES - fixed);
  const out = new Uint8Array(fixed + digestLength);
  out[0] = COMPACT_VERSION;
  out[1] = keyTag(ring.activeKeyId);
  out[2] = pid.length;
  out.set(pid, 3);
  out.set(digestFor(activeKey(ring), r.fields, digestLength), fixed);
  return out;
}

export interface CompactVerification {
  readonly patientId: string;
  readonly keyId: string;
  readonly digestMatches: boolean;
}

/** Checks a compact record against the header's fields under every ring key with the record's tag. */
export function verifyCompactRecord(
  bytes: Uint8Array,
  headerFields: IdentityRecord['fields'],
  ring: KeyRing,
): CompactVerification {
  if (bytes.length < 3 + MIN_DIGEST_BYTES)
    throw corrupt(`compact record too short [${bytes.length}]`);
  if (bytes[0] !== COMPACT_VERSION) throw corrupt(`unknown compact record version [${bytes[0]}]`);
  const pidLength = bytes[2] ?? 0;
  const fixed = 3 + pidLength;
  const digestLength = bytes.length - fixed;
  if (digestLength < MIN_DIGEST_BYTES) throw corrupt('compact record digest too short');
  const patientId = Buffer.from(bytes.subarray(3, fixed)).toString('utf8');
  const digest = Buffer.from(bytes.subarray(fixed));
  let keyId = '';
  for (const [id, key] of ring.keys) {
    if (keyTag(id) !== bytes[1]) continue;
    if (keyId === '') keyId = id;
    if (timingSafeEqual(digestFor(key, headerFields, digestLength), digest)) {
      return { patientId, keyId: id, digestMatches: true };
    }
  }
  return { patientId, keyId, digestMatches: false };
}
