import fc from 'fast-check';
import { GenericGF, ReedSolomonEncoder } from '@zxing/library';
import { GF256, galoisField, rsDecode, rsEncode } from '../../src/stego/reed-solomon';
import { SeededRandom } from '../../src/stego/prng';

describe('Reed-Solomon', () => {
  it('encodes exactly as @zxing/library over the QR field', () => {
    const rng = new SeededRandom(7);
    for (const [k, nsym] of [
      [10, 6],
      [100, 40],
      [223, 32],
    ] as const) {
      const message = Array.from({ length: k }, () => rng.nextUint32() & 0xff);
      const zx = new Int32Array([...message, ...new Array<number>(nsym).fill(0)]);
      new ReedSolomonEncoder(GenericGF.QR_CODE_FIELD_256).encode(zx, nsym);
      expect(rsEncode(GF256, message, nsym)).toEqual(Array.from(zx));
    }
  });

  it.each([4, 8, 9, 12])('corrects errors and erasures with 2e + f <= nsym in GF(2^%i)', (bits) => {
    const gf = galoisField(bits);
    const rng = new SeededRandom(bits);
    for (let trial = 0; trial < 30; trial++) {
      const n = Math.min(gf.size - 1, 15 + (rng.nextUint32() % 200));
      const nsym = 2 + (rng.nextUint32() % Math.floor(n / 2));
      const message = Array.from({ length: n - nsym }, () => rng.nextUint32() % gf.size);
      const codeword = rsEncode(gf, message, nsym);
      const erasures = rng.nextUint32() % (nsym + 1);
      const errors = Math.floor((nsym - erasures) / 2);
      const positions = new Set<number>();
      while (positions.size < erasures + errors) positions.add(rng.nextUint32() % n);
      const list = [...positions];
      const received = codeword.slice();
      for (const p of list)
        received[p] = (received[p] as number) ^ (1 + (rng.nextUint32() % (gf.size - 1)));
      const result = rsDecode(gf, received, nsym, list.slice(0, erasures));
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.message).toEqual(message);
        expect(result.erasures).toBe(erasures);
        expect(result.corrected).toBe(errors);
      }
    }
  });

  it('reports failure (never a wrong message) when far too many symbols are wrong', () => {
    const rng = new SeededRandom(3);
    let wrong = 0;
    for (let trial = 0; trial < 50; trial++) {
      const message = Array.from({ length: 40 }, () => rng.nextUint32() & 0xff);
      const received = rsEncode(GF256, message, 20);
      for (let i = 0; i < 30; i++) received[rng.nextUint32() % 60] = rng.nextUint32() & 0xff;
      const result = rsDecode(GF256, received, 20);
      if (result.ok && result.message.join() !== message.join()) wrong++;
    }
    expect(wrong).toBe(0);
  });

  it('round-trips any message (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.integer({ min: 2, max: 50 }),
        (bytes, nsym) => {
          const cw = rsEncode(GF256, bytes, nsym);
          const r = rsDecode(GF256, cw, nsym);
          expect(r.ok && r.message).toEqual(Array.from(bytes));
        },
      ),
    );
  });
});
