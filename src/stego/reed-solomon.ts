/**
 * Reed-Solomon codes over GF(2^m) with errors-and-erasures decoding (Berlekamp-Massey on Forney
 * syndromes, Chien search, Forney's algorithm; after the "Reed-Solomon codes for coders" tutorial).
 * Generator roots alpha^0..alpha^(nsym-1) (first consecutive root 0, as QR codes and
 * @zxing/library's GenericGF.QR_CODE_FIELD_256 use; a test checks our encoder against zxing's).
 * We keep our own decoder because zxing's decodes errors only: a symbol whose carrier block is
 * missing is a known erasure and costs one parity symbol instead of two.
 * Polynomials are arrays with the highest degree first.
 */
export class GaloisField {
  readonly size: number;
  readonly exp: Uint16Array;
  readonly log: Uint16Array;

  constructor(
    readonly bits: number,
    readonly primitive: number,
  ) {
    this.size = 1 << bits;
    const order = this.size - 1;
    this.exp = new Uint16Array(order * 2);
    this.log = new Uint16Array(this.size);
    let x = 1;
    for (let i = 0; i < order; i++) {
      this.exp[i] = x;
      this.log[x] = i;
      x <<= 1;
      if (x & this.size) x ^= primitive;
      if (x === 1 && i < order - 1)
        throw new RangeError(`polynomial is not primitive [${primitive}]`);
    }
    for (let i = order; i < order * 2; i++) this.exp[i] = this.exp[i - order] as number;
  }

  mul(a: number, b: number): number {
    if (a === 0 || b === 0) return 0;
    return this.exp[(this.log[a] as number) + (this.log[b] as number)] as number;
  }

  div(a: number, b: number): number {
    if (b === 0) throw new RangeError('division by zero in GF');
    if (a === 0) return 0;
    const order = this.size - 1;
    return this.exp[((this.log[a] as number) + order - (this.log[b] as number)) % order] as number;
  }

  pow(a: number, power: number): number {
    if (a === 0) return 0;
    const order = this.size - 1;
    const e = ((((this.log[a] as number) * power) % order) + order) % order;
    return this.exp[e] as number;
  }

  inverse(a: number): number {
    return this.div(1, a);
  }

  alphaPow(power: number): number {
    const order = this.size - 1;
    return this.exp[((power % order) + order) % order] as number;
  }

  polyScale(p: readonly number[], x: number): number[] {
    return p.map((c) => this.mul(c, x));
  }

  polyAdd(p: readonly number[], q: readonly number[]): number[] {
    const r = new Array<number>(Math.max(p.length, q.length)).fill(0);
    for (let i = 0; i < p.length; i++) r[i + r.length - p.length] = p[i] as number;
    for (let i = 0; i < q.length; i++)
      r[i + r.length - q.length] = (r[i + r.length - q.length] as number) ^ (q[i] as number);
    return r;
  }

  polyMul(p: readonly number[], q: readonly number[]): number[] {
    const r = new Array<number>(p.length + q.length - 1).fill(0);
    for (let j = 0; j < q.length; j++) {
      const qj = q[j] as number;
      if (qj === 0) continue;
      for (let i = 0; i < p.length; i++)
        r[i + j] = (r[i + j] as number) ^ this.mul(p[i] as number, qj);
    }
    return r;
  }

  polyEval(p: ArrayLike<number>, x: number): number {
    let y = p[0] as number;
    for (let i = 1; i < p.length; i++) y = this.mul(y, x) ^ (p[i] as number);
    return y;
  }
}

export const GF256 = new GaloisField(8, 0x11d);

const fields = new Map<number, GaloisField>();
/** Primitive polynomials by symbol size (x^m + ...), as in zxing's GenericGF where it has one. */
const PRIMITIVES: Readonly<Record<number, number>> = {
  4: 0x13,
  6: 0x43,
  8: 0x11d,
  9: 0x211,
  10: 0x409,
  12: 0x1069,
  15: 0x8003,
};

export function galoisField(bits: number): GaloisField {
  let f = fields.get(bits);
  if (f === undefined) {
    const primitive = PRIMITIVES[bits];
    if (primitive === undefined) throw new RangeError(`no primitive polynomial for GF(2^${bits})`);
    f = new GaloisField(bits, primitive);
    fields.set(bits, f);
  }
  return f;
}

const generators = new Map<string, number[]>();

function generatorPoly(gf: GaloisField, nsym: number): number[] {
  const key = `${gf.bits}:${nsym}`;
  let g = generators.get(key);
  if (g === undefined) {
    g = [1];
    for (let i = 0; i < nsym; i++) g = gf.polyMul(g, [1, gf.alphaPow(i)]);
    generators.set(key, g);
  }
  return g;
}

/** Systematic encoding: returns the message followed by `nsym` parity symbols. */
export function rsEncode(gf: GaloisField, message: ArrayLike<number>, nsym: number): number[] {
  if (message.length + nsym > gf.size - 1) {
    throw new RangeError(`codeword too long for GF(2^${gf.bits}) [${message.length + nsym}]`);
  }
  const gen = generatorPoly(gf, nsym);
  const out = new Array<number>(message.length + nsym).fill(0);
  for (let i = 0; i < message.length; i++) out[i] = message[i] as number;
  for (let i = 0; i < message.length; i++) {
    const coef = out[i] as number;
    if (coef === 0) continue;
    const lc = gf.log[coef] as number;
    for (let j = 1; j < gen.length; j++) {
      const gj = gen[j] as number;
      if (gj !== 0)
        out[i + j] = (out[i + j] as number) ^ (gf.exp[lc + (gf.log[gj] as number)] as number);
    }
  }
  for (let i = 0; i < message.length; i++) out[i] = message[i] as number;
  return out;
}

export type RsDecodeResult =
  { ok: true; message: number[]; corrected: number; erasures: number } | { ok: false };

function syndromes(gf: GaloisField, codeword: readonly number[], nsym: number): number[] {
  const s = new Array<number>(nsym + 1).fill(0);
  for (let i = 0; i < nsym; i++) s[i + 1] = gf.polyEval(codeword, gf.alphaPow(i));
  return s;
}

/**
 * Decodes a codeword (message + nsym parity) with known erasure positions (indices into the
 * codeword). Corrects e errors and f erasures when 2e + f <= nsym; otherwise returns ok: false (a
 * final syndrome check rejects most miscorrections).
 */
export function rsDecode(
  gf: GaloisField,
  received: ArrayLike<number>,
  nsym: number,
  erasePositions: readonly number[] = [],
): RsDecodeResult {
  const n = received.length;
  const msg = Array.from(received);
  if (erasePositions.length > nsym) return { ok: false };
  for (const p of erasePositions) msg[p] = 0;
  const synd = syndromes(gf, msg, nsym);
  if (synd.every((v) => v === 0)) {
    return {
      ok: true,
      message: msg.slice(0, n - nsym),
      corrected: 0,
      erasures: erasePositions.length,
    };
  }
  // Forney syndromes: remove the erasures' contribution so Berlekamp-Massey finds only errors.
  const fsynd = synd.slice(1);
  for (const p of erasePositions) {
    const x = gf.alphaPow(n - 1 - p);
    for (let j = 0; j < fsynd.length - 1; j++)
      fsynd[j] = gf.mul(fsynd[j] as number, x) ^ (fsynd[j + 1] as number);
  }
  const errLoc = findErrorLocator(gf, fsynd, nsym, erasePositions.length);
  if (errLoc === undefined) return { ok: false };
  const errPos = findErrors(gf, [...errLoc].reverse(), n);
  if (errPos === undefined) return { ok: false };
  const all = [...erasePositions, ...errPos];
  const corrected = correctErrata(gf, msg, synd, all);
  if (corrected === undefined) return { ok: false };
  if (syndromes(gf, corrected, nsym).some((v) => v !== 0)) return { ok: false };
  let changed = 0;
  for (const p of errPos) if (corrected[p] !== received[p]) changed++;
  return {
    ok: true,
    message: corrected.slice(0, n - nsym),
    corrected: changed,
    erasures: erasePositions.length,
  };
}

function findErrorLocator(
  gf: GaloisField,
  synd: readonly number[],
  nsym: number,
  eraseCount: number,
): number[] | undefined {
  let errLoc = [1];
  let oldLoc = [1];
  const shift = synd.length > nsym ? synd.length - nsym : 0;
  for (let i = 0; i < nsym - eraseCount; i++) {
    const k = i + shift;
    let delta = synd[k] as number;
    for (let j = 1; j < errLoc.length; j++)
      delta ^= gf.mul(errLoc[errLoc.length - 1 - j] as number, synd[k - j] as number);
    oldLoc = [...oldLoc, 0];
    if (delta !== 0) {
      if (oldLoc.length > errLoc.length) {
        const newLoc = gf.polyScale(oldLoc, delta);
        oldLoc = gf.polyScale(errLoc, gf.inverse(delta));
        errLoc = newLoc;
      }
      errLoc = gf.polyAdd(errLoc, gf.polyScale(oldLoc, delta));
    }
  }
  let start = 0;
  while (start < errLoc.length && errLoc[start] === 0) start++;
  errLoc = errLoc.slice(start);
  const errs = errLoc.length - 1;
  if (errs * 2 + eraseCount > nsym) return undefined;
  return errLoc;
}

function findErrors(
  gf: GaloisField,
  errLocReversed: readonly number[],
  n: number,
): number[] | undefined {
  const errs = errLocReversed.length - 1;
  const positions: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gf.polyEval(errLocReversed, gf.alphaPow(i)) === 0) positions.push(n - 1 - i);
  }
  return positions.length === errs ? positions : undefined;
}

function correctErrata(
  gf: GaloisField,
  msg: number[],
  synd: readonly number[],
  positions: readonly number[],
): number[] | undefined {
  if (positions.length === 0) return msg;
  const n = msg.length;
  const coefPos = positions.map((p) => n - 1 - p);
  let errLoc = [1];
  for (const c of coefPos) errLoc = gf.polyMul(errLoc, gf.polyAdd([1], [gf.alphaPow(c), 0]));
  // Error evaluator: (S(x) * Lambda(x)) mod x^(deg Lambda + 1), computed on reversed syndromes.
  const nsymEval = errLoc.length - 1;
  const product = gf.polyMul([...synd].reverse(), errLoc);
  const evaluator = product.slice(product.length - (nsymEval + 1));
  const x = coefPos.map((c) => gf.alphaPow(c));
  const out = msg.slice();
  for (let i = 0; i < x.length; i++) {
    const xi = x[i] as number;
    const xiInv = gf.inverse(xi);
    let locPrime = 1;
    for (let j = 0; j < x.length; j++)
      if (j !== i) locPrime = gf.mul(locPrime, 1 ^ gf.mul(xiInv, x[j] as number));
    if (locPrime === 0) return undefined;
    const y = gf.mul(xi, gf.polyEval(evaluator, xiInv));
    const p = positions[i] as number;
    out[p] = (out[p] as number) ^ gf.div(y, locPrime);
  }
  return out;
}
