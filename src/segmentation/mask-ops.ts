/**
 * Binary mask operations for the onnx-maskrcnn post-processing (1 = significant). Dilation is
 * dilateSquare of src/stego/block-map.ts, the one the block map itself uses.
 */

/**
 * Index of the first `value` in array[from, to), or -1. A plain loop on purpose: in Node 20 (V8 11.3)
 * TypedArray.prototype.indexOf costs about 1.5 microseconds a call whatever the distance it scans,
 * 15-20 times this loop over the short runs of a mask row (1,024 calls on a 512 x 512 mask: 1.5 ms
 * against 0.09 ms), and the post-processing makes thousands of such calls per frame.
 */
export function findByte(array: Uint8Array, value: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (array[i] === value) return i;
  return -1;
}

/** Index of the last `value` in array[from, to), or -1 (see findByte). */
export function findLastByte(array: Uint8Array, value: number, from: number, to: number): number {
  for (let i = to - 1; i >= from; i--) if (array[i] === value) return i;
  return -1;
}

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
 * strided column walks in the vertical one. Rows: each run of set pixels (found by findByte) is
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
      let a = findByte(mask, 1, p, end);
      if (a < 0) break;
      let b = findByte(mask, 0, a, end);
      if (b < 0) b = end;
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

/**
 * Fills holes: background not 4-connected to the frame border becomes significant.
 *
 * Works on runs of background, not pixels: a frame of a body holds a few runs per row (about 1,500
 * in a 512 x 512 CT slice against 150,000 background pixels). Runs of neighbouring rows that share
 * a column are 4-connected and joined in a union-find; a run on the border marks its set; every run
 * of a marked set is written back as background with fill, the rest of the frame is significant.
 */
export function fillHoles(mask: Uint8Array, rows: number, columns: number): Uint8Array {
  const runs = new RunList();
  const rowStart = new Int32Array(rows + 1);
  for (let y = 0; y < rows; y++) {
    rowStart[y] = runs.length;
    const row = y * columns;
    let x = 0;
    while (x < columns) {
      while (x < columns && mask[row + x] !== 0) x++;
      if (x >= columns) break;
      const from = x;
      while (x < columns && mask[row + x] === 0) x++;
      runs.push(from, x);
    }
  }
  rowStart[rows] = runs.length;
  const parent = new Int32Array(runs.length);
  for (let r = 0; r < parent.length; r++) parent[r] = r;
  const find = (r: number): number => {
    let root = r;
    while (parent[root] !== root) root = parent[root] as number;
    while (parent[r] !== root) {
      const next = parent[r] as number;
      parent[r] = root;
      r = next;
    }
    return root;
  };
  const { starts, ends } = runs;
  for (let y = 1; y < rows; y++) {
    // Two sorted lists of half-open intervals: walk both, join every overlapping pair.
    let a = rowStart[y - 1] as number;
    const aEnd = rowStart[y] as number;
    let b = aEnd;
    const bEnd = rowStart[y + 1] as number;
    while (a < aEnd && b < bEnd) {
      if (
        (starts[a] as number) < (ends[b] as number) &&
        (starts[b] as number) < (ends[a] as number)
      ) {
        const ra = find(a);
        const rb = find(b);
        if (ra !== rb) parent[ra] = rb;
      }
      if ((ends[a] as number) <= (ends[b] as number)) a++;
      else b++;
    }
  }
  const border = new Uint8Array(runs.length);
  for (let y = 0; y < rows; y++) {
    for (let r = rowStart[y] as number; r < (rowStart[y + 1] as number); r++) {
      if (y === 0 || y === rows - 1 || starts[r] === 0 || ends[r] === columns) border[find(r)] = 1;
    }
  }
  const out = new Uint8Array(rows * columns).fill(1);
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    for (let r = rowStart[y] as number; r < (rowStart[y + 1] as number); r++) {
      if (border[find(r)] !== 0)
        out.fill(0, row + (starts[r] as number), row + (ends[r] as number));
    }
  }
  return out;
}

/** A growable list of half-open runs [start, end). */
class RunList {
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  length = 0;

  push(start: number, end: number): void {
    if (this.length === this.starts.length) {
      const starts = new Int32Array(this.length * 2);
      const ends = new Int32Array(this.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    this.starts[this.length] = start;
    this.ends[this.length] = end;
    this.length++;
  }
}
