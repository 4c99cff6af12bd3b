import type { SampleConstraints } from './types';

/**
 * Ternary Hamming matrix embedding ("+-1 embedding"): a unit of L pixels carries t trits, the
 * syndrome H (x mod 3) over GF(3), where the columns of H run through the (3^t - 1) / 2 non-zero
 * directions of GF(3)^t up to sign (then repeat). Any target syndrome is reached by changing at most
 * ONE pixel by +-1 (probability (3^t - 1) / 3^t that a change is needed at all), the smallest
 * possible change of the block's integer (and so DCT) representation. Syndromes are integers in
 * [0, 3^t) with base-3 digits as trits.
 */
export class TernaryCode {
  readonly states: number;
  /** Column of each pixel as a base-3 integer. */
  private readonly columns: Int32Array;
  /** columnTrits[i * t + k] = trit k of column i. */
  private readonly columnTrits: Int8Array;
  /** For each difference state d: pixels whose column is d (change +1) and -d (change -1). */
  private readonly plus: Int32Array[];
  private readonly minus: Int32Array[];

  constructor(
    readonly trits: number,
    readonly length: number,
  ) {
    this.states = 3 ** trits;
    const canonical: number[] = [];
    for (let v = 1; v < this.states; v++) {
      // Canonical up to sign: the most significant non-zero trit is 1.
      let x = v;
      let top = 0;
      while (x > 0) {
        top = x % 3;
        x = Math.floor(x / 3);
      }
      if (top === 1) canonical.push(v);
    }
    if (length < canonical.length)
      throw new RangeError(`unit too short for ${trits} trits [${length}]`);
    this.columns = new Int32Array(length);
    this.columnTrits = new Int8Array(length * trits);
    for (let i = 0; i < length; i++) {
      const c = canonical[i % canonical.length] as number;
      this.columns[i] = c;
      let x = c;
      for (let k = 0; k < trits; k++) {
        this.columnTrits[i * trits + k] = x % 3;
        x = Math.floor(x / 3);
      }
    }
    const plus: number[][] = Array.from({ length: this.states }, () => []);
    const minus: number[][] = Array.from({ length: this.states }, () => []);
    for (let i = 0; i < length; i++) {
      const c = this.columns[i] as number;
      plus[c]?.push(i);
      minus[this.negate(c)]?.push(i);
    }
    this.plus = plus.map((a) => Int32Array.from(a));
    this.minus = minus.map((a) => Int32Array.from(a));
  }

  negate(state: number): number {
    let out = 0;
    let scale = 1;
    let x = state;
    for (let k = 0; k < this.trits; k++) {
      out += ((3 - (x % 3)) % 3) * scale;
      x = Math.floor(x / 3);
      scale *= 3;
    }
    return out;
  }

  /** Trit-wise a - b (mod 3). */
  subtract(a: number, b: number): number {
    let out = 0;
    let scale = 1;
    let x = a;
    let y = b;
    for (let k = 0; k < this.trits; k++) {
      out += (((x % 3) - (y % 3) + 3) % 3) * scale;
      x = Math.floor(x / 3);
      y = Math.floor(y / 3);
      scale *= 3;
    }
    return out;
  }

  /** Syndrome of the unit's pixels (indices into `samples`). */
  syndrome(samples: Int32Array, pixels: Int32Array): number {
    const t = this.trits;
    const acc = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < this.length; i++) {
      const r = (((samples[pixels[i] as number] as number) % 3) + 3) % 3;
      if (r === 0) continue;
      for (let k = 0; k < t; k++)
        acc[k] = (acc[k] as number) + r * (this.columnTrits[i * t + k] as number);
    }
    let out = 0;
    let scale = 1;
    for (let k = 0; k < t; k++) {
      out += ((acc[k] as number) % 3) * scale;
      scale *= 3;
    }
    return out;
  }

  /**
   * Makes the unit's syndrome equal `target` with the cheapest allowed change: one pixel +-1, else
   * two pixels +-1, else one pixel +-2. Returns the number of changed pixels, or -1 if no allowed
   * change exists (the caller treats the symbol as lost; the code corrects it).
   */
  embed(
    samples: Int32Array,
    pixels: Int32Array,
    target: number,
    constraints: SampleConstraints,
  ): number {
    const d = this.subtract(target, this.syndrome(samples, pixels));
    if (d === 0) return 0;
    const plus = this.plus[d] as Int32Array;
    const minus = this.minus[d] as Int32Array;
    for (const i of plus) if (tryChange(samples, pixels[i] as number, 1, constraints)) return 1;
    for (const i of minus) if (tryChange(samples, pixels[i] as number, -1, constraints)) return 1;
    for (let a = 0; a < this.length; a++) {
      for (const delta of [1, -1]) {
        const pa = pixels[a] as number;
        if (!allowed((samples[pa] as number) + delta, constraints)) continue;
        const ca =
          delta === 1 ? (this.columns[a] as number) : this.negate(this.columns[a] as number);
        const rest = this.subtract(d, ca);
        for (const b of this.plus[rest] as Int32Array) {
          if (b !== a && allowed((samples[pixels[b] as number] as number) + 1, constraints)) {
            samples[pa] = (samples[pa] as number) + delta;
            samples[pixels[b] as number] = (samples[pixels[b] as number] as number) + 1;
            return 2;
          }
        }
        for (const b of this.minus[rest] as Int32Array) {
          if (b !== a && allowed((samples[pixels[b] as number] as number) - 1, constraints)) {
            samples[pa] = (samples[pa] as number) + delta;
            samples[pixels[b] as number] = (samples[pixels[b] as number] as number) - 1;
            return 2;
          }
        }
      }
    }
    // Two +-1 changes (squared error 2) beat one +-2 (squared error 4); this is the last resort.
    for (const i of minus) if (tryChange(samples, pixels[i] as number, 2, constraints)) return 1;
    for (const i of plus) if (tryChange(samples, pixels[i] as number, -2, constraints)) return 1;
    return -1;
  }
}

export function allowed(value: number, c: SampleConstraints): boolean {
  if (value < c.minValue || value > c.maxValue) return false;
  for (const [lo, hi] of c.forbidden) if (value >= lo && value <= hi) return false;
  return true;
}

function tryChange(
  samples: Int32Array,
  index: number,
  delta: number,
  c: SampleConstraints,
): boolean {
  const v = (samples[index] as number) + delta;
  if (!allowed(v, c)) return false;
  samples[index] = v;
  return true;
}
