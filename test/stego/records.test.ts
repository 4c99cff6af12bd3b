import fc from 'fast-check';
import {
  DEFAULT_IDENTITY_FIELDS,
  decodeIdentityRecord,
  encodeIdentityRecord,
  identityText,
  type IdentityRecord,
} from '../../src/stego/identity-record';
import {
  addKeyToRing,
  generateKeyRing,
  parseKeyRing,
  serializeKeyRing,
} from '../../src/stego/key-ring';
import { StegoGatewayError } from '../../src/stego/errors';
import { open, seal } from '../../src/stego/seal';
import { bytesToSymbols, symbolsToBytes } from '../../src/stego/bits';
import { seededBytes, testRing } from './helpers/fixtures';

const record: IdentityRecord = {
  fields: [
    ['PatientName', 'Müller^Anna'],
    ['PatientID', 'ID-1'],
    ['OtherPatientIDs', 'X'],
  ],
  embeddedAt: '2024-05-01T10:00:00.000Z',
  keyId: 'k1',
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof StegoGatewayError ? e.code : 'other';
  }
  return undefined;
}

describe('identity record', () => {
  it('round-trips, including custom keywords, UTF-8 and non-canonical times (property)', () => {
    expect(decodeIdentityRecord(encodeIdentityRecord(record))).toEqual(record);
    const keyword = fc.oneof(
      fc.constantFrom(...DEFAULT_IDENTITY_FIELDS),
      fc.string({ minLength: 1, maxLength: 20 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(keyword, fc.string({ maxLength: 64 })), { maxLength: 12 }),
        fc.oneof(
          fc
            .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
            .map((d) => d.toISOString()),
          fc.string(),
        ),
        fc.string({ maxLength: 30 }),
        (fields, embeddedAt, keyId) => {
          const r = { fields, embeddedAt, keyId };
          expect(decodeIdentityRecord(encodeIdentityRecord(r))).toEqual(r);
        },
      ),
    );
  });

  it('is compact: ten typical fields in under 300 bytes', () => {
    const fields = DEFAULT_IDENTITY_FIELDS.map(
      (k) => [k, k.endsWith('UID') ? '1.2.840.113619.2.55.3.604688119.969.1' : 'value-12'] as const,
    );
    expect(
      encodeIdentityRecord({ fields, embeddedAt: record.embeddedAt, keyId: 'k-0123456789ab' })
        .length,
    ).toBeLessThan(300);
  });

  it('rejects damaged bytes with CORRUPT_RECORD', () => {
    const bytes = encodeIdentityRecord(record);
    expect(codeOf(() => decodeIdentityRecord(bytes.subarray(0, bytes.length - 3)))).toBe(
      'CORRUPT_RECORD',
    );
    expect(codeOf(() => decodeIdentityRecord(Uint8Array.of(9, 0)))).toBe('CORRUPT_RECORD');
    expect(codeOf(() => decodeIdentityRecord(Uint8Array.from([...bytes, 0])))).toBe(
      'CORRUPT_RECORD',
    );
  });

  it('renders the QR text as Keyword=value lines', () => {
    expect(identityText(record)).toBe('PatientName=Müller^Anna\nPatientID=ID-1\nOtherPatientIDs=X');
  });
});

describe('key ring', () => {
  it('serialises, parses and rotates (old keys still open)', () => {
    const ring = generateKeyRing(seededBytes(1), 'a');
    const json = JSON.parse(JSON.stringify(serializeKeyRing(ring))) as unknown;
    const parsed = parseKeyRing(json);
    expect(parsed.activeKeyId).toBe('a');
    expect(parsed.keys.get('a')).toEqual(ring.keys.get('a'));
    const rotated = addKeyToRing(parsed, 'b', seededBytes(2)(32), true);
    expect(rotated.activeKeyId).toBe('b');
    const blob = seal(ring, Uint8Array.of(1, 2, 3), new Uint8Array(0), seededBytes(3));
    expect(open(rotated, blob, new Uint8Array(0))).toMatchObject({ ok: true, keyId: 'a' });
  });

  it.each([
    ['not an object', 'x'],
    ['no keys', { activeKeyId: 'a', keys: {} }],
    ['short key', { activeKeyId: 'a', keys: { a: 'AAAA' } }],
    ['active missing', { activeKeyId: 'b', keys: { a: Buffer.alloc(32).toString('base64') } }],
    ['bad id', { activeKeyId: 'a b', keys: { 'a b': Buffer.alloc(32).toString('base64') } }],
    [
      'bad version',
      { version: 2, activeKeyId: 'a', keys: { a: Buffer.alloc(32).toString('base64') } },
    ],
  ])('rejects %s with INVALID_KEY_RING', (_, json) => {
    expect(codeOf(() => parseKeyRing(json))).toBe('INVALID_KEY_RING');
  });
});

describe('AES-256-GCM seal', () => {
  const ring = testRing();
  const aad = Uint8Array.of(7, 7);
  const blob = seal(ring, Uint8Array.of(1, 2, 3, 4), aad, seededBytes(4));

  it('opens under the ring and reports wrong-key otherwise', () => {
    expect(open(ring, blob, aad)).toMatchObject({ ok: true, keyId: 'test-key' });
    expect(open(testRing(2, 'test-key'), blob, aad)).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
    expect(open(testRing(2, 'other'), blob, aad)).toMatchObject({ ok: false, reason: 'wrong-key' });
    expect(open(undefined, blob, aad)).toMatchObject({ ok: false, reason: 'wrong-key' });
  });

  it('rejects tampering (ciphertext, header AAD) and truncation', () => {
    const tampered = Uint8Array.from(blob);
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] as number) ^ 1;
    expect(open(ring, tampered, aad).ok).toBe(false);
    expect(open(ring, blob, Uint8Array.of(7, 8)).ok).toBe(false);
    expect(open(ring, blob.subarray(0, 10), aad)).toMatchObject({ ok: false, reason: 'corrupted' });
  });
});

describe('bit packing', () => {
  it.each([7, 9, 12, 15])('bytes -> %i-bit symbols -> bytes (property)', (bits) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const symbols = bytesToSymbols(bytes, bits, Math.ceil((bytes.length * 8) / bits));
        expect(Array.from(symbolsToBytes(symbols, bits).subarray(0, bytes.length))).toEqual(
          Array.from(bytes),
        );
      }),
    );
  });
});
