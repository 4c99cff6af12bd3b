/** Packs bytes MSB-first into `count` symbols of `bits` bits (zero-padded). */
export function bytesToSymbols(bytes: Uint8Array, bits: number, count: number): Int32Array {
  const out = new Int32Array(count);
  let acc = 0;
  let have = 0;
  let k = 0;
  for (let i = 0; i < count; i++) {
    while (have < bits) {
      acc = (acc << 8) | (k < bytes.length ? (bytes[k] as number) : 0);
      k++;
      have += 8;
    }
    out[i] = (acc >>> (have - bits)) & ((1 << bits) - 1);
    have -= bits;
    acc &= (1 << have) - 1;
  }
  return out;
}

/** Unpacks symbols of `bits` bits MSB-first into whole bytes (a trailing partial byte is dropped). */
export function symbolsToBytes(symbols: ArrayLike<number>, bits: number): Uint8Array {
  const out = new Uint8Array(Math.floor((symbols.length * bits) / 8));
  let acc = 0;
  let have = 0;
  let k = 0;
  for (let i = 0; i < symbols.length && k < out.length; i++) {
    acc = (acc << bits) | (symbols[i] as number);
    have += bits;
    while (have >= 8 && k < out.length) {
      out[k++] = (acc >>> (have - 8)) & 0xff;
      have -= 8;
    }
    acc &= (1 << have) - 1;
  }
  return out;
}

/** Bits (0/1 array) to bytes, MSB first. */
export function bitsToBytes(bits: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let i = 0; i < bits.length; i++)
    if (bits[i]) out[i >> 3] = (out[i >> 3] as number) | (0x80 >> (i & 7));
  return out;
}
