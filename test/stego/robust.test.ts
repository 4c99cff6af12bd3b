import { blockMapFromMask } from '../../src/stego/block-map';
import { gaussianNoise, saltAndPepperNoise, uniformNoise } from '../../src/stego/attacks';
import { embedPayload, extractPayload, payloadCapacityBits } from '../../src/stego/embed';
import { encodeCompactRecord, verifyCompactRecord } from '../../src/stego/identity-record';
import { psnrMax65535 } from '../../src/stego/metrics';
import type { PixelFrame } from '../../src/stego/types';
import { ctMask, paddingPixels } from './helpers/ct-mask';
import {
  ctFiles,
  onlyUsableBlocksChanged,
  flipBlocks,
  realSlice,
  syntheticSlice,
  testRing,
} from './helpers/fixtures';

const ring = testRing();
const fields = [
  ['PatientName', 'Doe^Jane'],
  ['PatientID', 'TCGA-XY-0042'],
  ['StudyInstanceUID', '1.2.3.4.5'],
] as const;
const record = encodeCompactRecord(
  { fields, embeddedAt: '2024-05-01T10:00:00.000Z', keyId: 'test-key' },
  ring,
);

/** The paper's attacks at sigma = 147 stored units (about 53 dB), seeded. */
const ATTACKS: readonly [string, (f: PixelFrame, seed: number) => PixelFrame][] = [
  ['gaussian', (f, seed) => gaussianNoise(f, 147, seed)],
  ['uniform', (f, seed) => uniformNoise(f, 147, seed)],
  ['salt-and-pepper', (f, seed) => saltAndPepperNoise(f, 147, seed)],
];

describe('robust profile', () => {
  it('carries a compact record of >= 128 bits that verifies against the header', () => {
    expect(record.length * 8).toBeGreaterThanOrEqual(128);
    const v = verifyCompactRecord(record, fields, ring);
    expect(v).toEqual({ patientId: 'TCGA-XY-0042', keyId: 'test-key', digestMatches: true });
    const tampered = fields.map(([k, val]) => [k, k === 'StudyInstanceUID' ? '9.9' : val] as const);
    expect(verifyCompactRecord(record, tampered, ring).digestMatches).toBe(false);
  });

  it('round-trips on a synthetic slice, changing only usable blocks, at >= 70 dB', () => {
    const s = syntheticSlice(512, 3);
    const r = embedPayload(s.image.frame, s.map, record, {
      profile: 'robust',
      keyRing: ring,
      constraints: s.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.report.psnrMax65535).toBeGreaterThanOrEqual(70);
    expect(onlyUsableBlocksChanged(s.map, s.image.frame, r.stego)).toBe(true);
    const x = extractPayload(r.stego, s.map, { keyRing: ring });
    expect(x.ok && x.profile).toBe('robust');
    expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(record))).toBe(true);
    // 5% of all grid blocks flipped in the extraction map, both directions, with and without noise.
    for (const seed of [1, 2]) {
      const flipped = flipBlocks(s.map, 0.05, seed);
      for (const image of [r.stego, gaussianNoise(r.stego, 147, seed)]) {
        const y = extractPayload(image, flipped, { keyRing: ring, profile: 'robust' });
        expect(y.ok && Buffer.from(y.payload).equals(Buffer.from(record))).toBe(true);
      }
    }
  });

  it('reports wrong-key, no-payload and capacity', () => {
    const s = syntheticSlice(512, 4);
    const r = embedPayload(s.image.frame, s.map, record, {
      profile: 'robust',
      keyRing: ring,
      constraints: s.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    expect(
      extractPayload(r.stego, s.map, { keyRing: testRing(5, 'other'), profile: 'robust' }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
    expect(
      extractPayload(s.image.frame, s.map, { keyRing: ring, profile: 'robust' }),
    ).toMatchObject({
      ok: false,
      reason: 'no-payload',
    });
    const capacity = payloadCapacityBits(s.image.frame, s.map, 'robust');
    expect(capacity).toBeGreaterThanOrEqual(128);
    const big = new Uint8Array(capacity / 8 + 1);
    expect(
      embedPayload(s.image.frame, s.map, big, {
        profile: 'robust',
        keyRing: ring,
        constraints: s.constraints,
      }),
    ).toMatchObject({
      ok: false,
      reason: 'capacity',
    });
  });

  describe('noise attacks on real CT (mask recomputed from the attacked image)', () => {
    const files = [
      ...ctFiles('tcga-thca-whole-body').filter((_, i) => i % 68 === 0),
      ...ctFiles('lung-pet-ct-dx').filter((_, i) => i % 15 === 0),
      ...ctFiles('cmb-crc-chest-abdomen').filter((_, i) => i % 24 === 0),
    ];
    it.each(files)('%s', (file) => {
      const slice = realSlice(file);
      const r = embedPayload(slice.image.frame, slice.map, record, {
        profile: 'robust',
        keyRing: ring,
        constraints: slice.constraints,
      });
      if (!r.ok) throw new Error(r.message);
      expect(r.report.psnrMax65535).toBeGreaterThanOrEqual(70);
      expect(onlyUsableBlocksChanged(slice.map, slice.image.frame, r.stego)).toBe(true);
      ATTACKS.forEach(([name, attack], i) => {
        const noisy = attack(r.stego, 1000 + i);
        // The paper's attack strength: about 53 dB.
        expect(psnrMax65535(r.stego.samples, noisy.samples)).toBeLessThan(55.5);
        const image = { ...slice.image, frame: noisy };
        const map = blockMapFromMask(ctMask(image), { frozen: paddingPixels(image) });
        const x = extractPayload(noisy, map, { keyRing: ring, profile: 'robust' });
        expect([name, x.ok && Buffer.from(x.payload).equals(Buffer.from(record))]).toEqual([
          name,
          true,
        ]);
      });
    });
  });
});
