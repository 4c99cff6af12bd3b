import { dilateSquare } from '../stego/block-map';

/**
 * Binary morphology on row-major 0/1 masks, square structuring elements of radius r (side 2r+1).
 * Squares are separable, so every operation is O(rows * columns) whatever the radius. Pixels outside
 * the image count as background for dilation and as foreground for erosion (opening keeps a body
 * that touches the image edge); closing pads the image with background instead.
 */

export function dilate(
  mask: Uint8Array,
  rows: number,
  columns: number,
  radius: number,
): Uint8Array {
  return dilateSquare(mask, rows, columns, radius);
}

export function erode(mask: Uint8Array, rows: number, columns: number, radius: number): Uint8Array {
  if (radius === 0) return binarize(mask);
  const grown = dilateSquare(invert(mask), rows, columns, radius);
  return invert(grown);
}

/** Erosion then dilation: removes specks and structures thinner than 2r+1. */
export function open(mask: Uint8Array, rows: number, columns: number, radius: number): Uint8Array {
  return dilate(erode(mask, rows, columns, radius), rows, columns, radius);
}

/**
 * Dilation then erosion: bridges gaps narrower than 2r+1 and never removes a foreground pixel.
 * Computed on the image padded by r background pixels each side, so that the outside is background
 * (nothing is added along the edges just because the image ends there).
 */
export function close(mask: Uint8Array, rows: number, columns: number, radius: number): Uint8Array {
  if (radius === 0) return binarize(mask);
  const pr = rows + 2 * radius;
  const pc = columns + 2 * radius;
  const padded = new Uint8Array(pr * pc);
  for (let y = 0; y < rows; y++) {
    padded.set(mask.subarray(y * columns, (y + 1) * columns), (y + radius) * pc + radius);
  }
  // Eroding an in-image pixel looks r px out, all inside the padded plane: the result is the
  // closing on an infinite background plane, cut back to the image.
  const closed = erode(dilate(padded, pr, pc, radius), pr, pc, radius);
  const out = new Uint8Array(rows * columns);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      out[y * columns + x] =
        closed[(y + radius) * pc + x + radius] || mask[y * columns + x] ? 1 : 0;
    }
  }
  return out;
}

export function invert(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 0 : 1;
  return out;
}

function binarize(mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let i = 0; i < mask.length; i++) out[i] = mask[i] ? 1 : 0;
  return out;
}

/** out[i] = table[labels[i]]: a per-label lookup (callbacks per pixel are slow). */
export function selectLabels(labels: Int32Array, table: Uint8Array): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = table[labels[i] ?? 0] ?? 0;
  return out;
}

export interface Components {
  /** 0 = background, 1..count = component label. */
  readonly labels: Int32Array;
  /** sizes[label] in pixels; sizes[0] is unused. */
  readonly sizes: readonly number[];
  readonly count: number;
}

/**
 * Connected components of the foreground, 8-connected (the usual choice for foreground objects),
 * labelled in raster order of their first pixel: deterministic.
 */
export function connectedComponents(mask: Uint8Array, rows: number, columns: number): Components {
  const labels = new Int32Array(rows * columns);
  const sizes: number[] = [0];
  const stack = new Int32Array(rows * columns);
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start] !== 0) continue;
    count++;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    labels[start] = count;
    while (top > 0) {
      const p = stack[--top] ?? 0;
      size++;
      const y = Math.floor(p / columns);
      const x = p - y * columns;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= rows) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= columns || (dx === 0 && dy === 0)) continue;
          const q = ny * columns + nx;
          if (mask[q] && labels[q] === 0) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes, count };
}

/**
 * Fills holes: background pixels not 4-connected to the image border become foreground (lungs,
 * bowel gas and airways inside the body are part of it).
 */
export function fillHoles(mask: Uint8Array, rows: number, columns: number): Uint8Array {
  const outside = new Uint8Array(rows * columns);
  const stack = new Int32Array(rows * columns);
  let top = 0;
  const push = (p: number): void => {
    if (!mask[p] && !outside[p]) {
      outside[p] = 1;
      stack[top++] = p;
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
    const p = stack[--top] ?? 0;
    const x = p % columns;
    if (x > 0 && !mask[p - 1] && !outside[p - 1]) {
      outside[p - 1] = 1;
      stack[top++] = p - 1;
    }
    if (x < columns - 1 && !mask[p + 1] && !outside[p + 1]) {
      outside[p + 1] = 1;
      stack[top++] = p + 1;
    }
    if (p >= columns && !mask[p - columns] && !outside[p - columns]) {
      outside[p - columns] = 1;
      stack[top++] = p - columns;
    }
    if (p + columns < mask.length && !mask[p + columns] && !outside[p + columns]) {
      outside[p + columns] = 1;
      stack[top++] = p + columns;
    }
  }
  return invert(outside);
}

/**
 * The components of `mask` that contain at least one pixel of `seeds` (binary reconstruction by
 * dilation): keeps whole objects, with their exact outline, that survived a filter on `seeds`.
 */
export function reconstruct(
  mask: Uint8Array,
  seeds: Uint8Array,
  rows: number,
  columns: number,
): Uint8Array {
  // A flood from the seeds through the mask (8-connected) touches only the kept objects.
  const out = new Uint8Array(rows * columns);
  const stack = new Int32Array(rows * columns);
  let top = 0;
  for (let i = 0; i < seeds.length; i++) {
    if (seeds[i] && mask[i] && !out[i]) {
      out[i] = 1;
      stack[top++] = i;
    }
  }
  while (top > 0) {
    const p = stack[--top] ?? 0;
    const y = Math.floor(p / columns);
    const x = p - y * columns;
    for (let dy = -1; dy <= 1; dy++) {
      const ny = y + dy;
      if (ny < 0 || ny >= rows) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const nx = x + dx;
        if (nx < 0 || nx >= columns) continue;
        const q = ny * columns + nx;
        if (mask[q] && !out[q]) {
          out[q] = 1;
          stack[top++] = q;
        }
      }
    }
  }
  return out;
}
