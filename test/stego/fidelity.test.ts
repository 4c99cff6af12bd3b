import { embedPayload, extractPayload, payloadCapacityBits } from '../../src/stego/embed';
import { addKeyToRing } from '../../src/stego/key-ring';
import { SeededRandom } from '../../src/stego/prng';
import { storedRange } from '../../src/stego/attacks';
import {
  ctFiles,
  flipBlocks,
  onlyUsableBlocksChanged,
  realSlice,
  seededBytes,
  syntheticSlice,
  testRing,
} from './helpers/fixtures';

const ring = testRing();

function payloadOf(bytes: number, seed: number): Uint8Array {
  return new SeededRandom(seed).bytes(bytes);
}

describe('fidelity profile', () => {
  const synthetic = syntheticSlice(256, 5);

  it.each([1, 150, 1500])('round-trips a %i-byte payload on a synthetic slice', (bytes) => {
    const payload = payloadOf(bytes, bytes);
    const r = embedPayload(synthetic.image.frame, synthetic.map, payload, {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
      randomBytes: seededBytes(bytes),
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(onlyUsableBlocksChanged(synthetic.map, synthetic.image.frame, r.stego)).toBe(true);
    const [lo, hi] = storedRange(r.stego);
    expect(Math.min(...r.stego.samples)).toBeGreaterThanOrEqual(lo);
    expect(Math.max(...r.stego.samples)).toBeLessThanOrEqual(hi);
    const x = extractPayload(r.stego, synthetic.map, { keyRing: ring });
    expect(x.ok && x.profile).toBe('fidelity');
    expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
    expect(x.ok && x.keyId).toBe('test-key');
  });

  it('never changes the input frame', () => {
    const before = Int32Array.from(synthetic.image.frame.samples);
    embedPayload(synthetic.image.frame, synthetic.map, payloadOf(100, 1), {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
    });
    expect(synthetic.image.frame.samples).toEqual(before);
  });

  it('extracts an identity-sized payload when 5% of the blocks flip in the extraction map', () => {
    const payload = payloadOf(160, 2);
    const r = embedPayload(synthetic.image.frame, synthetic.map, payload, {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
      randomBytes: seededBytes(3),
    });
    if (!r.ok) throw new Error(r.message);
    for (const seed of [1, 2, 3]) {
      const flipped = flipBlocks(synthetic.map, 0.05, seed);
      const x = extractPayload(r.stego, flipped, { keyRing: ring, profile: 'fidelity' });
      expect(x.ok).toBe(true);
      if (x.ok) {
        expect(Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
        expect(x.correctedSymbols + x.erasures).toBeGreaterThan(0);
      }
    }
  });

  it('reports wrong-key for an unknown key id and for a same-id different key', () => {
    const r = embedPayload(synthetic.image.frame, synthetic.map, payloadOf(40, 4), {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    const other = testRing(99, 'other-key');
    expect(
      extractPayload(r.stego, synthetic.map, { keyRing: other, profile: 'fidelity' }),
    ).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
    const impostor = testRing(99, 'test-key');
    expect(extractPayload(r.stego, synthetic.map, { keyRing: impostor })).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
    expect(extractPayload(r.stego, synthetic.map, { profile: 'fidelity' })).toMatchObject({
      ok: false,
      reason: 'wrong-key',
    });
  });

  it('opens payloads sealed under an older key after rotation', () => {
    const r = embedPayload(synthetic.image.frame, synthetic.map, payloadOf(40, 5), {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    const rotated = addKeyToRing(ring, 'new-key', new SeededRandom(8).bytes(32), true);
    const x = extractPayload(r.stego, synthetic.map, { keyRing: rotated, profile: 'fidelity' });
    expect(x.ok && x.keyId).toBe('test-key');
  });

  it('reports no-payload on a clean image', () => {
    expect(
      extractPayload(synthetic.image.frame, synthetic.map, { keyRing: ring, profile: 'fidelity' }),
    ).toMatchObject({
      ok: false,
      reason: 'no-payload',
    });
  });

  it('reports corrupted when the body is damaged beyond the code', () => {
    const r = embedPayload(synthetic.image.frame, synthetic.map, payloadOf(1500, 6), {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    const damaged = Int32Array.from(r.stego.samples);
    const rng = new SeededRandom(11);
    // Damage the background heavily but leave most header carriers alone by changing only 40%.
    for (let i = 0; i < damaged.length; i++)
      if (rng.next() < 0.4) damaged[i] = (damaged[i] as number) + 1;
    const x = extractPayload({ ...r.stego, samples: damaged }, synthetic.map, {
      keyRing: ring,
      profile: 'fidelity',
    });
    expect(x.ok).toBe(false);
    if (!x.ok) expect(['corrupted', 'no-payload']).toContain(x.reason);
  });

  it('returns capacity with figures when the payload does not fit, and no-background without blocks', () => {
    const capacity = payloadCapacityBits(synthetic.image.frame, synthetic.map, 'fidelity');
    expect(capacity).toBeGreaterThan(1000);
    const tooBig = payloadOf(Math.ceil(capacity / 8) + 200, 7);
    const r = embedPayload(synthetic.image.frame, synthetic.map, tooBig, {
      profile: 'fidelity',
      keyRing: ring,
      constraints: synthetic.constraints,
    });
    expect(r).toMatchObject({ ok: false, reason: 'capacity', neededBits: tooBig.length * 8 });
    const empty = { ...synthetic.map, usable: new Uint8Array(synthetic.map.usable.length) };
    expect(
      embedPayload(synthetic.image.frame, empty, payloadOf(10, 1), {
        profile: 'fidelity',
        keyRing: ring,
        constraints: synthetic.constraints,
      }),
    ).toMatchObject({ ok: false, reason: 'no-background' });
  });

  describe('on real 512x512 CT', () => {
    const files = [
      ...ctFiles('tcga-thca-whole-body').slice(0, 1),
      ...ctFiles('lung-pet-ct-dx').slice(0, 1),
      ...ctFiles('cmb-crc-chest-abdomen').slice(0, 1),
    ];

    it.each(files)(
      'hides 13,107 bits at PSNR(65535) >= 115.5 dB and extracts them exactly: %s',
      (file) => {
        const slice = realSlice(file);
        const payload = payloadOf(Math.ceil(13107 / 8), 13107);
        const r = embedPayload(slice.image.frame, slice.map, payload, {
          profile: 'fidelity',
          keyRing: ring,
          constraints: slice.constraints,
        });
        if (!r.ok) throw new Error(r.message);
        expect(r.report.psnrMax65535).toBeGreaterThanOrEqual(115.5);
        expect(onlyUsableBlocksChanged(slice.map, slice.image.frame, r.stego)).toBe(true);
        const pad = slice.image.pixelPaddingValue;
        let newPadding = 0;
        for (let i = 0; i < r.stego.samples.length; i++) {
          if (r.stego.samples[i] === pad && slice.image.frame.samples[i] !== pad) newPadding++;
        }
        expect(newPadding).toBe(0);
        const x = extractPayload(r.stego, slice.map, { keyRing: ring });
        expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
      },
    );

    it.each([
      ctFiles('lung-pet-ct-dx')[24] as string,
      ctFiles('cmb-crc-chest-abdomen')[12] as string,
    ])(
      'extracts an identity record with 5%% of all grid blocks flipped (both directions): %s',
      (file) => {
        const slice = realSlice(file);
        const payload = payloadOf(280, 21);
        const r = embedPayload(slice.image.frame, slice.map, payload, {
          profile: 'fidelity',
          keyRing: ring,
          constraints: slice.constraints,
        });
        if (!r.ok) throw new Error(r.message);
        for (const seed of [1, 2]) {
          const x = extractPayload(r.stego, flipBlocks(slice.map, 0.05, seed), {
            keyRing: ring,
            profile: 'fidelity',
          });
          expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
        }
      },
    );

    it('hides the paper payload of 131,524 bits where the background holds it, PSNR reported', () => {
      const slice = realSlice(files[0] as string);
      const payload = payloadOf(Math.ceil(131524 / 8), 131524);
      const capacity = payloadCapacityBits(slice.image.frame, slice.map, 'fidelity');
      const r = embedPayload(slice.image.frame, slice.map, payload, {
        profile: 'fidelity',
        keyRing: ring,
        constraints: slice.constraints,
      });
      expect(capacity).toBeGreaterThan(131524);
      if (!r.ok) throw new Error(r.message);
      // +-1 changes bound this near 107 dB on the whole image; the background-only bound is lower.
      expect(r.report.psnrMax65535).toBeGreaterThan(100);
      const x = extractPayload(r.stego, slice.map, { keyRing: ring, profile: 'fidelity' });
      expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
    });
  });
});
