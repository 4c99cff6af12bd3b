/**
 * Binary mask operations for the onnx-maskrcnn post-processing (1 = significant). Dilation is
 * dilateSquare of src/stego/block-map.ts, the one the block map itself uses.
 */

/** Binary erosion by a (2r+1)x(2r+1) square (pixels outside the frame count as background). */
export function erodeSquare(
  mask: Uint8Array,
  rows: number,
  columns: number,
  radius: number,
): Uint8Array {
  if (radius === 0) return Uint8Array.from(mask, (v) => (v !== 0 ? 1 : 0));
  return squareMorphology(mask, rows, columns, radius, true);
}

/**
 * Binary dilation by a (2r+1)x(2r+1) square: the same result as dilateSquare of
 * src/stego/block-map.ts (a test checks it), faster.
 */
export function dilateMask(
  mask: Uint8Array,
  rows: number,
  columns: number,
  radius: number,
): Uint8Array {
  if (radius === 0) return Uint8Array.from(mask, (v) => (v !== 0 ? 1 : 0));
  return squareMorphology(mask, rows, columns, radius, false);
}

/**
 * Separable square erosion or dilation of a 0/1 mask without per-pixel work in the horizontal pass and without
 * strided column walks in the vertical one. Rows: each run of set pixels (found by indexOf) is
 * shrunk or grown by r and written with fill. Columns: rows padded to a multiple of 4 bytes and
 * combined 4 pixels at a time through Uint32Array views (AND of the 2r+1 rows for erosion, OR for
 * dilation), then copied back unpadded.
 */
function squareMorphology(
  mask: Uint8Array,
  rows: number,
  columns: number,
  radius: number,
  erode: boolean,
): Uint8Array {
  const stride = (columns + 3) & ~3;
  const words = stride >> 2;
  const horizontal = new Uint8Array(rows * stride);
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    const end = row + columns;
    const outRow = y * stride - row;
    let p = row;
    while (p < end) {
      let a = mask.indexOf(1, p);
      if (a < 0 || a >= end) break;
      let b = mask.indexOf(0, a);
      if (b < 0 || b > end) b = end;
      p = b;
      if (erode) {
        a += radius;
        b -= radius;
      } else {
        a = Math.max(row, a - radius);
        b = Math.min(end, b + radius);
      }
      if (a < b) horizontal.fill(1, outRow + a, outRow + b);
    }
  }
  const h32 = new Uint32Array(horizontal.buffer);
  // Van Herk / Gil-Werman: in blocks of 2r+1 rows, running ORs (ANDs) forwards from each block's
  // start and backwards from its end; any window of 2r+1 rows is one backward and one forward value.
  const span = 2 * radius + 1;
  const forward = new Uint32Array(rows * words);
  const backward = new Uint32Array(rows * words);
  for (let y = 0; y < rows; y++) {
    const base = y * words;
    if (y % span === 0) forward.set(h32.subarray(base, base + words), base);
    else if (erode)
      for (let w = 0; w < words; w++)
        forward[base + w] = (h32[base + w] as number) & (forward[base - words + w] as number);
    else
      for (let w = 0; w < words; w++)
        forward[base + w] = (h32[base + w] as number) | (forward[base - words + w] as number);
  }
  for (let y = rows - 1; y >= 0; y--) {
    const base = y * words;
    if ((y + 1) % span === 0 || y === rows - 1)
      backward.set(h32.subarray(base, base + words), base);
    else if (erode)
      for (let w = 0; w < words; w++)
        backward[base + w] = (h32[base + w] as number) & (backward[base + words + w] as number);
    else
      for (let w = 0; w < words; w++)
        backward[base + w] = (h32[base + w] as number) | (backward[base + words + w] as number);
  }
  const padded = new Uint8Array(rows * stride);
  const o32 = new Uint32Array(padded.buffer);
  for (let y = 0; y < rows; y++) {
    const lo = y - radius;
    const hi = y + radius;
    const base = y * words;
    if (erode) {
      // Rows outside the frame are background.
      if (lo < 0 || hi >= rows) continue;
      const f = hi * words;
      const g = lo * words;
      for (let w = 0; w < words; w++)
        o32[base + w] = (backward[g + w] as number) & (forward[f + w] as number);
    } else {
      const f = Math.min(hi, rows - 1) * words;
      if (lo < 0) {
        o32.set(forward.subarray(f, f + words), base);
        continue;
      }
      const g = lo * words;
      if (hi >= rows && Math.floor(lo / span) === Math.floor((rows - 1) / span)) {
        // The window's rest lies in lo's own (last) block: the forward value would reach back
        // before lo.
        o32.set(backward.subarray(g, g + words), base);
        continue;
      }
      for (let w = 0; w < words; w++)
        o32[base + w] = (backward[g + w] as number) | (forward[f + w] as number);
    }
  }
  if (stride === columns) return padded;
  const out = new Uint8Array(rows * columns);
  for (let y = 0; y < rows; y++) {
    out.set(padded.subarray(y * stride, y * stride + columns), y * columns);
  }
  return out;
}

/** The 8-connected components of `mask` that share a pixel with `seed`. */
export function keepTouching(
  mask: Uint8Array,
  seed: Uint8Array,
  rows: number,
  columns: number,
): Uint8Array {
  const out = new Uint8Array(mask.length);
  const stack = new Int32Array(mask.length);
  let top = 0;
  for (let i = 0; i < mask.length; i++) {
    if (seed[i] !== 0 && mask[i] !== 0 && out[i] === 0) {
      out[i] = 1;
      stack[top++] = i;
    }
  }
  while (top > 0) {
    const i = stack[--top] as number;
    const y = (i / columns) | 0;
    const x = i - y * columns;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= rows) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= columns) continue;
        const j = yy * columns + xx;
        if (mask[j] !== 0 && out[j] === 0) {
          out[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  return out;
}

/** Whether pixel i has an 8-neighbour set in `mask`. */
export function touches(mask: Uint8Array, i: number, rows: number, columns: number): boolean {
  const y = (i / columns) | 0;
  const x = i - y * columns;
  for (let yy = Math.max(0, y - 1); yy <= Math.min(rows - 1, y + 1); yy++) {
    for (let xx = Math.max(0, x - 1); xx <= Math.min(columns - 1, x + 1); xx++) {
      if (mask[yy * columns + xx] !== 0) return true;
    }
  }
  return false;
}

/** Fills holes: background not 4-connected to the frame border becomes significant. */
export function fillHoles(mask: Uint8Array, rows: number, columns: number): Uint8Array {
  const n = rows * columns;
  // 1 = significant or reached from the border; what stays 0 is a hole, and the answer is its
  // complement. Background on the border seeds the flood (one stack, no per-pixel closures).
  const reached = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (mask[i] === 0) continue;
    reached[i] = 2;
  }
  const seed = (i: number): void => {
    if (reached[i] === 0) {
      reached[i] = 1;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < columns; x++) {
    seed(x);
    seed((rows - 1) * columns + x);
  }
  for (let y = 0; y < rows; y++) {
    seed(y * columns);
    seed(y * columns + columns - 1);
  }
  const last = columns - 1;
  while (top > 0) {
    const i = stack[--top] as number;
    const x = i % columns;
    let j = i - 1;
    if (x > 0 && reached[j] === 0) {
      reached[j] = 1;
      stack[top++] = j;
    }
    j = i + 1;
    if (x < last && reached[j] === 0) {
      reached[j] = 1;
      stack[top++] = j;
    }
    j = i - columns;
    if (j >= 0 && reached[j] === 0) {
      reached[j] = 1;
      stack[top++] = j;
    }
    j = i + columns;
    if (j < n && reached[j] === 0) {
      reached[j] = 1;
      stack[top++] = j;
    }
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = reached[i] === 1 ? 0 : 1;
  return out;
}
