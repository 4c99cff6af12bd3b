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
  // Separable: a pixel survives a line pass when its whole window lies inside the line and holds
  // no background; prefix counts of background make each pass O(length).
  const horizontal = new Uint8Array(mask.length);
  const zeros = new Int32Array(Math.max(rows, columns) + 1);
  for (let y = 0; y < rows; y++) {
    erodeLine(mask, horizontal, y * columns, 1, columns, radius, zeros);
  }
  const out = new Uint8Array(mask.length);
  for (let x = 0; x < columns; x++) erodeLine(horizontal, out, x, columns, rows, radius, zeros);
  return out;
}

function erodeLine(
  input: Uint8Array,
  out: Uint8Array,
  start: number,
  stride: number,
  length: number,
  radius: number,
  zeros: Int32Array,
): void {
  zeros[0] = 0;
  for (let i = 0; i < length; i++) {
    zeros[i + 1] = (zeros[i] as number) + (input[start + i * stride] === 0 ? 1 : 0);
  }
  for (let i = radius; i < length - radius; i++) {
    if ((zeros[i + radius + 1] as number) - (zeros[i - radius] as number) === 0) {
      out[start + i * stride] = 1;
    }
  }
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
  const outside = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  const push = (i: number): void => {
    if (mask[i] === 0 && outside[i] === 0) {
      outside[i] = 1;
      stack[top++] = i;
    }
  };
  for (let x = 0; x < columns; x++) {
    push(x);
    push((rows - 1) * columns + x);
  }
  for (let y = 0; y < rows; y++) {
    push(y * columns);
    push(y * columns + columns - 1);
  }
  while (top > 0) {
    const i = stack[--top] as number;
    const y = (i / columns) | 0;
    const x = i - y * columns;
    if (x > 0) push(i - 1);
    if (x < columns - 1) push(i + 1);
    if (y > 0) push(i - columns);
    if (y < rows - 1) push(i + columns);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = outside[i] === 0 ? 1 : 0;
  return out;
}
