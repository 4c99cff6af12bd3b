import {
  dilateMask,
  erodeSquare,
  fillHoles,
  findByte,
  findLastByte,
  keepTouching,
  touches,
} from './mask-ops';
import { BLOCK_SIZE, type PixelFrame } from '../stego/types';
import { faintSamplesPerBlock, GROWTH_MIN_PER_BLOCK, type FaintTissueLevel } from './faint-tissue';
import { resample } from './preprocess';

/**
 * Max over the instance masks scoring at least `scoreThreshold` (the union of the body instances), as
 * a size x size probability map; undefined when no instance qualifies.
 * `masks` is the model's [n, 1, size, size] output, row-major.
 */
export function unionProbability(
  scores: ArrayLike<number>,
  masks: Float32Array,
  size: number,
  scoreThreshold: number,
): Float32Array | undefined {
  const plane = size * size;
  let out: Float32Array | undefined;
  for (let k = 0; k < scores.length; k++) {
    if (!((scores[k] as number) >= scoreThreshold)) continue;
    if (out === undefined) out = new Float32Array(plane);
    const base = k * plane;
    for (let i = 0; i < plane; i++) {
      const v = masks[base + i] as number;
      if (v > (out[i] as number)) out[i] = v;
    }
  }
  return out;
}

/** Bilinear paste-back of a size x size probability map to rows x columns, thresholded at 0.5. */
export function pasteBack(
  prob: Float32Array,
  size: number,
  rows: number,
  columns: number,
): Uint8Array {
  if (rows === 2 * size && columns === 2 * size) return pasteBackDouble(prob, size);
  const full = resample(prob, size, size, rows, columns);
  const out = new Uint8Array(rows * columns);
  for (let i = 0; i < out.length; i++) out[i] = (full[i] as number) >= 0.5 ? 1 : 0;
  return out;
}

/**
 * The common 2x case (256 -> 512): bilinear with pixel centres aligned (each output pixel is 3/4 of
 * its nearest source pixel and 1/4 of the next one, per axis), as resample computes it.
 */
function pasteBackDouble(prob: Float32Array, size: number): Uint8Array {
  const n = 2 * size;
  const out = new Uint8Array(n * n);
  // Each output pixel is a convex combination of the source pixels around its own (one row and one
  // column either side): where all of those are below 0.5 it is 0, and is left so without computing
  // it. span[y]: the source columns whose output in rows of source row y may reach 0.5.
  const first = new Int32Array(size).fill(size);
  const last = new Int32Array(size).fill(-1);
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      if ((prob[row + x] as number) >= 0.5) {
        if (first[y] === size) first[y] = x;
        last[y] = x;
      }
    }
  }
  const spanFrom = new Int32Array(size);
  const spanTo = new Int32Array(size);
  for (let y = 0; y < size; y++) {
    let from = size;
    let to = -1;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(size - 1, y + 1); yy++) {
      from = Math.min(from, first[yy] as number);
      to = Math.max(to, last[yy] as number);
    }
    spanFrom[y] = Math.max(0, from - 1);
    spanTo[y] = Math.min(size - 1, to + 1);
  }
  // The horizontal pass of row r feeds the output rows of source rows r-1..r+1: it runs over the
  // union of their spans, so that the vertical pass reads only computed values.
  const wide = new Float32Array(size * n);
  for (let r = 0; r < size; r++) {
    let from = size;
    let to = -1;
    for (let y = Math.max(0, r - 1); y <= Math.min(size - 1, r + 1); y++) {
      if ((spanFrom[y] as number) > (spanTo[y] as number)) continue;
      from = Math.min(from, spanFrom[y] as number);
      to = Math.max(to, spanTo[y] as number);
    }
    const row = r * size;
    const outRow = r * n;
    for (let x = from; x <= to; x++) {
      const c = prob[row + x] as number;
      const left = prob[row + Math.max(0, x - 1)] as number;
      const right = prob[row + Math.min(size - 1, x + 1)] as number;
      wide[outRow + 2 * x] = 0.75 * c + 0.25 * left;
      wide[outRow + 2 * x + 1] = 0.75 * c + 0.25 * right;
    }
  }
  for (let y = 0; y < size; y++) {
    const from = spanFrom[y] as number;
    const to = spanTo[y] as number;
    if (from > to) continue;
    const c = y * n;
    const up = Math.max(0, y - 1) * n;
    const down = Math.min(size - 1, y + 1) * n;
    const even = 2 * y * n;
    const odd = even + n;
    for (let x = 2 * from; x <= 2 * to + 1; x++) {
      const v = wide[c + x] as number;
      out[even + x] = 0.75 * v + 0.25 * (wide[up + x] as number) >= 0.5 ? 1 : 0;
      out[odd + x] = 0.75 * v + 0.25 * (wide[down + x] as number) >= 0.5 ? 1 : 0;
    }
  }
  return out;
}

/** Where an array lies in its frame (refinement works on a crop around the body). */
export interface Window {
  readonly top: number;
  readonly left: number;
  readonly frameRows: number;
  readonly frameColumns: number;
}

/**
 * Edge refinement (optional) and hole filling of a pasted-back mask, on the smallest crop that holds
 * the body and everything refinement may add: most of a frame is background, and the morphology then
 * runs on the body's box only. Returns a full-frame mask.
 */
export function finishMask(
  mask: Uint8Array,
  intensity: Uint8Array,
  rows: number,
  columns: number,
  band: RefinementBand | undefined,
): Uint8Array {
  let minY = rows;
  let maxY = -1;
  let minX = columns;
  let maxX = -1;
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    const first = findByte(mask, 1, row, row + columns);
    if (first === -1) continue;
    const last = findLastByte(mask, 1, row, row + columns);
    if (y < minY) minY = y;
    maxY = y;
    if (first - row < minX) minX = first - row;
    if (last - row > maxX) maxX = last - row;
  }
  if (maxY < 0) return mask;
  const pad = (band === undefined ? 0 : Math.max(band.outsidePx, band.frameEdgePx)) + 2;
  const top = Math.max(0, minY - pad);
  const left = Math.max(0, minX - pad);
  const cropRows = Math.min(rows, maxY + 1 + pad) - top;
  const cropColumns = Math.min(columns, maxX + 1 + pad) - left;
  const cropMask = new Uint8Array(cropRows * cropColumns);
  const cropIntensity = new Uint8Array(cropRows * cropColumns);
  for (let y = 0; y < cropRows; y++) {
    const from = (y + top) * columns + left;
    cropMask.set(mask.subarray(from, from + cropColumns), y * cropColumns);
    cropIntensity.set(intensity.subarray(from, from + cropColumns), y * cropColumns);
  }
  let done: Uint8Array = cropMask;
  if (band !== undefined) {
    done = refineEdge(cropMask, cropIntensity, cropRows, cropColumns, band, {
      top,
      left,
      frameRows: rows,
      frameColumns: columns,
    });
  }
  done = fillHoles(done, cropRows, cropColumns);
  const out = new Uint8Array(rows * columns);
  for (let y = 0; y < cropRows; y++) {
    out.set(done.subarray(y * cropColumns, (y + 1) * cropColumns), (y + top) * columns + left);
  }
  return out;
}

/** How far inside and outside the model's outline the edge is re-decided, in frame pixels. */
export interface RefinementBand {
  readonly insidePx: number;
  readonly outsidePx: number;
  /** Where the outline ends this close to the frame's edge, the band runs on to the edge. */
  readonly frameEdgePx: number;
}

/**
 * Default band, in model-input pixels (frame pixels of a 512 x 512 slice): 3 inside (6), 3 outside (6),
 * and on to the frame's edge where the outline ends within 12 (24) of it (see extendToFrameEdges).
 * A narrow outside band keeps couch and blankets that touch the skin out; the outside values were
 * chosen on the held-out slices against missed body pixels. The inside band is 3, not the 2 that
 * scored best (brain IoU 0.9934 against 0.9884, CT 0.9951 against 0.9945), for stability: the model's
 * probabilities move slightly everywhere when the background is embedded into, and where the pasted
 * outline then moves by a pixel, a wider band re-decides it from intensities that did not change
 * (stable frames through embedIdentity with 2 / 3 / 4: fidelity MR 57 / 60 / 59 of 60, robust CT
 * 107 / 124 / 125 of 128; models/README.md).
 */
export function refinementBand(rows: number, columns: number, inputSize: number): RefinementBand {
  const px = Math.max(rows, columns) / inputSize;
  return {
    insidePx: Math.max(1, Math.ceil(3 * px)),
    outsidePx: Math.max(1, Math.ceil(3 * px)),
    frameEdgePx: Math.max(2, Math.ceil(12 * px)),
  };
}

/**
 * Intensity steps (of 255) below the inside median that still count as body in the band. When the
 * outside of the outline is as bright as its inside (the body runs off the frame, or the whole image
 * is tissue), the midpoint would split the tissue by noise; this keeps it body.
 */
export const REFINE_MIN_CONTRAST = 25;

/**
 * Refines the outline at full resolution. The model's mask is exact to about one input pixel (two
 * frame pixels of a 512 x 512 slice); within `band` of its outline, a pixel is body when its
 * intensity reaches the midpoint between the median intensity of the band's inside and outside parts
 * (or lies within REFINE_MIN_CONTRAST of the inside median). Where the model reaches further out than
 * half the inside band, the inside median is background's and the outline stays where it was. Components that do not touch the model's mask eroded by the band (text, markers near the
 * skin) are dropped.
 */
export function refineEdge(
  mask: Uint8Array,
  intensity: Uint8Array,
  rows: number,
  columns: number,
  band: RefinementBand,
  frame: Window = { top: 0, left: 0, frameRows: rows, frameColumns: columns },
): Uint8Array {
  const dilated = dilateMask(mask, rows, columns, band.outsidePx);
  extendToFrameEdges(mask, dilated, rows, columns, band.frameEdgePx, frame);
  const eroded = erodeSquare(mask, rows, columns, band.insidePx);
  // A ring deeper inside would see the skull under the scalp of a head MR; the band's own inside part
  // measured better on the held-out slices (models/README.md).
  // The band (dilated, not eroded) is a thin ring: it is walked as runs found by findByte instead of testing every pixel of the crop, and the core's runs are filled at once.
  const n = mask.length;
  const out = new Uint8Array(n);
  const list = new Int32Array(n);
  let listed = 0;
  let anyCore = false;
  const inside = new Uint32Array(256);
  const outside = new Uint32Array(256);
  let nIn = 0;
  let nOut = 0;
  let nextCore = -1;
  let p = 0;
  while (p < n) {
    const start = findByte(dilated, 1, p, n);
    if (start < 0) break;
    let end = findByte(dilated, 0, start, n);
    if (end < 0) end = n;
    let q = start;
    while (q < end) {
      if (nextCore < q) {
        nextCore = findByte(eroded, 1, q, n);
        if (nextCore < 0) nextCore = n;
      }
      const bandEnd = Math.min(nextCore, end);
      for (let i = q; i < bandEnd; i++) {
        const v = intensity[i] as number;
        list[listed++] = i;
        if (mask[i] !== 0) {
          inside[v] = (inside[v] as number) + 1;
          nIn++;
        } else {
          outside[v] = (outside[v] as number) + 1;
          nOut++;
        }
      }
      if (bandEnd >= end) break;
      let coreEnd = findByte(eroded, 0, bandEnd, n);
      if (coreEnd < 0 || coreEnd > end) coreEnd = end;
      out.fill(1, bandEnd, coreEnd);
      anyCore = true;
      q = coreEnd;
    }
    p = end;
  }
  if (nIn === 0 || nOut === 0) return mask;
  const medianIn = histogramMedian(inside, nIn);
  const threshold = Math.min(
    (medianIn + histogramMedian(outside, nOut)) / 2,
    medianIn - REFINE_MIN_CONTRAST,
  );
  // The result is the core (the eroded mask) plus the band pixels that pass the threshold and connect
  // to the core through other such pixels: a flood through the band alone, not the whole body.
  const candidate = new Uint8Array(n);
  let kept = 0;
  if (threshold > 0) {
    for (let k = 0; k < listed; k++) {
      const i = list[k] as number;
      if ((intensity[i] as number) >= threshold) {
        candidate[i] = 1;
        list[kept++] = i;
      }
    }
  }
  listed = kept;
  if (!anyCore) {
    // A mask thinner than the inside band: keep what connects to the model's own pixels.
    for (let k = 0; k < listed; k++) out[list[k] as number] = 1;
    return keepTouching(out, mask, rows, columns);
  }
  // The list's own storage serves as the flood's stack (each pixel is pushed at most once, after
  // its list entry has been read).
  const stack = list;
  let top = 0;
  for (let k = 0; k < listed; k++) {
    const i = list[k] as number;
    if (touches(out, i, rows, columns)) {
      candidate[i] = 0;
      out[i] = 1;
      stack[top++] = i;
    }
  }
  while (top > 0) {
    const i = stack[--top] as number;
    const y = (i / columns) | 0;
    const x = i - y * columns;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(rows - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(columns - 1, x + 1); xx++) {
        const j = yy * columns + xx;
        if (candidate[j] !== 0) {
          candidate[j] = 0;
          out[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  return out;
}

/**
 * Where the outline ends within `reachPx` of the frame's edge, the band runs on to the edge (along
 * that row or column): a body cut by the field of view goes on to the edge, and the pasted-back mask
 * always stops a little short of it (its last cell fades out).
 */
function extendToFrameEdges(
  mask: Uint8Array,
  band: Uint8Array,
  rows: number,
  columns: number,
  reachPx: number,
  frame: Window,
): void {
  const rightGap = frame.frameColumns - (frame.left + columns);
  const bottomGap = frame.frameRows - (frame.top + rows);
  for (let y = 0; y < rows; y++) {
    const row = y * columns;
    const first = findByte(mask, 1, row, row + columns);
    if (first === -1) continue;
    const last = findLastByte(mask, 1, row, row + columns) - row;
    if (frame.left + (first - row) <= reachPx) band.fill(1, row, first);
    if (columns - 1 - last + rightGap <= reachPx) band.fill(1, row + last + 1, row + columns);
  }
  for (let x = 0; x < columns; x++) {
    let first = -1;
    let last = -1;
    for (let y = 0; y < rows; y++) {
      if (mask[y * columns + x] !== 0) {
        if (first < 0) first = y;
        last = y;
      }
    }
    if (first < 0) continue;
    if (frame.top + first <= reachPx) for (let y = 0; y < first; y++) band[y * columns + x] = 1;
    if (rows - 1 - last + bottomGap <= reachPx) {
      for (let y = last + 1; y < rows; y++) band[y * columns + x] = 1;
    }
  }
}

function histogramMedian(hist: Uint32Array, n: number): number {
  const half = (n - 1) / 2;
  let seen = 0;
  for (let v = 0; v < hist.length; v++) {
    seen += hist[v] as number;
    if (seen > half) return v;
  }
  return hist.length - 1;
}

/**
 * Grows a non-CT mask into the faint tissue connected to it (see faint-tissue.ts). The model sees MR
 * only above its noise floor (models/README.md), and the dim partial-volume tissue at the edge of a
 * body (the first and last slices through it) lies below that floor: the model's outline stops at
 * the bright organs. Blocks where more than GROWTH_MIN_PER_BLOCK of 16 samples reach the faint level
 * are faint tissue (dense signal; background noise that reaches the level is sparse); those
 * connected to the mask's blocks through such blocks join, and of their pixels those that reach the
 * level and connect to the mask through others that do; holes filled; padding never.
 *
 * Stability: the blocks it reads are never embedded into, and no embedded block becomes one (the
 * pipeline's faint-tissue rule), so the growth is the same on the stego frame.
 */
export function growIntoFaintTissue(
  mask: Uint8Array,
  frame: PixelFrame,
  level: FaintTissueLevel,
  padding?: Uint8Array,
): Uint8Array {
  const { rows, columns, samples } = frame;
  const counts = faintSamplesPerBlock(frame, level);
  const blockRows = Math.floor(rows / BLOCK_SIZE);
  const blockColumns = Math.floor(columns / BLOCK_SIZE);
  const blocks = blockRows * blockColumns;
  // 1: a block of faint tissue; 2: a block holding mask pixels (the seeds); 3: both.
  const kind = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) if ((counts[b] as number) > GROWTH_MIN_PER_BLOCK) kind[b] = 1;
  for (let y = 0; y < blockRows * BLOCK_SIZE; y++) {
    const row = y * columns;
    const blockRow = ((y / BLOCK_SIZE) | 0) * blockColumns;
    for (let x = 0; x < blockColumns * BLOCK_SIZE; x++) {
      if (mask[row + x] === 0) continue;
      const b = blockRow + ((x / BLOCK_SIZE) | 0);
      kind[b] = (kind[b] as number) | 2;
    }
  }
  // Faint blocks 8-connected (on the block grid, through faint or seed blocks) to a seed block.
  const grown = new Uint8Array(blocks);
  const stack = new Int32Array(blocks);
  let top = 0;
  const reached = new Uint8Array(blocks);
  for (let b = 0; b < blocks; b++) {
    if ((kind[b] as number) >= 2) {
      reached[b] = 1;
      stack[top++] = b;
    }
  }
  while (top > 0) {
    const b = stack[--top] as number;
    if (((kind[b] as number) & 1) !== 0) grown[b] = 1;
    const by = (b / blockColumns) | 0;
    const bx = b - by * blockColumns;
    for (let yy = Math.max(0, by - 1); yy <= Math.min(blockRows - 1, by + 1); yy++) {
      for (let xx = Math.max(0, bx - 1); xx <= Math.min(blockColumns - 1, bx + 1); xx++) {
        const j = yy * blockColumns + xx;
        if (reached[j] === 0 && kind[j] !== 0) {
          reached[j] = 1;
          stack[top++] = j;
        }
      }
    }
  }
  const from = level.from;
  return floodFromOutline(mask, rows, columns, (i) => {
    if ((samples[i] as number) < from || (padding !== undefined && padding[i] !== 0)) return false;
    const y = (i / columns) | 0;
    const x = i - y * columns;
    const by = (y / BLOCK_SIZE) | 0;
    const bx = (x / BLOCK_SIZE) | 0;
    return by < blockRows && bx < blockColumns && grown[by * blockColumns + bx] === 1;
  });
}

/**
 * The mask and the pixels that pass `joins` and are 8-connected to it through others that do, holes
 * filled. The flood starts on the ring just outside the mask and visits only what it adds and that
 * addition's outline, not the whole frame.
 */
function floodFromOutline(
  mask: Uint8Array,
  rows: number,
  columns: number,
  joins: (i: number) => boolean,
): Uint8Array {
  const n = mask.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (mask[i] !== 0) out[i] = 1;
  const ring = dilateMask(out, rows, columns, 1);
  const tested = new Uint8Array(n);
  let stack = new Int32Array(1024);
  let top = 0;
  const push = (i: number): void => {
    if (top === stack.length) {
      const bigger = new Int32Array(stack.length * 2);
      bigger.set(stack);
      stack = bigger;
    }
    stack[top++] = i;
  };
  for (let i = 0; i < n; i++) {
    if (ring[i] === 0 || out[i] !== 0) continue;
    tested[i] = 1;
    if (joins(i)) {
      out[i] = 1;
      push(i);
    }
  }
  while (top > 0) {
    const i = stack[--top] as number;
    const y = (i / columns) | 0;
    const x = i - y * columns;
    for (let yy = Math.max(0, y - 1); yy <= Math.min(rows - 1, y + 1); yy++) {
      for (let xx = Math.max(0, x - 1); xx <= Math.min(columns - 1, x + 1); xx++) {
        const j = yy * columns + xx;
        if (out[j] !== 0 || tested[j] !== 0) continue;
        tested[j] = 1;
        if (joins(j)) {
          out[j] = 1;
          push(j);
        }
      }
    }
  }
  return fillHoles(out, rows, columns);
}
