import fc from 'fast-check';
import { blockMapFromMask } from '../../src/stego/block-map';
import { embedPayload, extractPayload } from '../../src/stego/embed';
import { SeededRandom } from '../../src/stego/prng';
import type { PixelFrame, SampleConstraints } from '../../src/stego/types';
import { onlyUsableBlocksChanged, testRing } from './helpers/fixtures';

const ring = testRing();

/** A random frame: values near the bottom and top of the stored range too, random rectangles as mask. */
function randomCase(seed: number, size: number, signed: boolean) {
  const rng = new SeededRandom(seed);
  const bitsStored = signed ? 16 : 12;
  const [lo, hi] = signed ? [-32768, 32767] : [0, 4095];
  const samples = new Int32Array(size * size);
  for (let i = 0; i < samples.length; i++) {
    const r = rng.next();
    samples[i] =
      r < 0.1
        ? lo + (rng.nextUint32() % 3)
        : r < 0.12
          ? hi - (rng.nextUint32() % 3)
          : lo + 20 + (rng.nextUint32() % 40);
  }
  const mask = new Uint8Array(size * size);
  for (let k = 0; k < 3; k++) {
    const x0 = rng.nextUint32() % size;
    const y0 = rng.nextUint32() % size;
    const w = rng.nextUint32() % (size / 2);
    const h = rng.nextUint32() % (size / 2);
    for (let y = y0; y < Math.min(size, y0 + h); y++)
      for (let x = x0; x < Math.min(size, x0 + w); x++) mask[y * size + x] = 1;
  }
  const frame: PixelFrame = { rows: size, columns: size, bitsStored, signed, samples };
  const forbiddenValue = lo + 21;
  const constraints: SampleConstraints = {
    minValue: lo,
    maxValue: hi,
    forbidden: [[forbiddenValue, forbiddenValue]],
  };
  const frozen = Uint8Array.from(samples, (v) => (v === forbiddenValue ? 1 : 0));
  return {
    frame,
    map: blockMapFromMask({ rows: size, columns: size, data: mask }, { frozen }),
    constraints,
    forbiddenValue,
  };
}

describe('invariants of every profile (property)', () => {
  it.each(['fidelity', 'robust', 'paper'] as const)(
    '%s: only usable blocks change, values stay in range and off forbidden values, extraction is exact',
    (profile) => {
      let embedded = 0;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 1e9 }),
          fc.boolean(),
          fc.uint8Array({ minLength: 1, maxLength: 20 }),
          (seed, signed, payload) => {
            const { frame, map, constraints, forbiddenValue } = randomCase(
              seed,
              profile === 'robust' ? 512 : 96,
              signed,
            );
            const r = embedPayload(frame, map, payload, { profile, keyRing: ring, constraints });
            if (!r.ok) {
              expect(['capacity', 'no-background']).toContain(r.reason);
              return;
            }
            embedded++;
            expect(onlyUsableBlocksChanged(map, frame, r.stego)).toBe(true);
            let bad = 0;
            for (let i = 0; i < frame.samples.length; i++) {
              const v = r.stego.samples[i] as number;
              if (v === frame.samples[i]) continue;
              if (v < constraints.minValue || v > constraints.maxValue || v === forbiddenValue)
                bad++;
            }
            expect(bad).toBe(0);
            const x = extractPayload(r.stego, map, { keyRing: ring, profile });
            expect(x.ok && Buffer.from(x.payload).equals(Buffer.from(payload))).toBe(true);
          },
        ),
        { numRuns: profile === 'fidelity' ? 25 : 6 },
      );
      // Most random cases must really embed, or the property says nothing.
      expect(embedded).toBeGreaterThan(profile === 'fidelity' ? 15 : 3);
    },
  );
});
