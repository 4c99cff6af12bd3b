import type { PixelFrame, SignificanceMask } from '../stego/types';
import {
  close,
  connectedComponents,
  fillHoles,
  open,
  reconstruct,
  selectLabels,
} from './morphology';
import { storedRange } from './preprocess';
import type { SegmentationContext, Segmenter } from './segmenter';

/**
 * The classical body segmenter, the fallback when the ONNX model is unavailable.
 *
 * CT: Hounsfield units (stored * slope + intercept) above a threshold (default -500 HU: air and lung
 * lie below, fat, water, soft tissue and bone above). Others (MR, ...): the image normalised between
 * its 0.5th and 99.5th percentiles and smoothed, above 4% of that range (see percentileForeground).
 * Then, for both: an opening removes speckle and thin structures (table, tubes); components of the
 * opened mask smaller than a fraction of the image are dropped (cables, table bits); the surviving
 * objects are taken back at their exact outline from the thresholded mask (reconstruction), closed,
 * and their holes filled (lungs, bowel gas). Padding is never significant.
 *
 * Deterministic, and stable under the embedding: a CT mask depends only on which pixels are above
 * the threshold, which +-few-unit changes of background air (about -1000 HU) cannot cross.
 */
export interface ThresholdOptions {
  /** CT body threshold in HU (default -500). */
  readonly thresholdHu?: number;
  /** Opening radius in pixels; default scales with the image (5 px at 512). */
  readonly openRadiusPx?: number;
  /** Closing radius in pixels; default scales with the image (2 px at 512). */
  readonly closeRadiusPx?: number;
  /**
   * Components of the opened mask smaller than this fraction of the image area are dropped
   * (default 0.001: specks and cable bits go, limbs cut by the field of view stay; large table parts
   * stay too, which costs capacity, never safety). Absolute, not relative to the largest component,
   * so that more foreground never drops a kept component (the mask is monotone in the threshold).
   */
  readonly minComponentFraction?: number;
}

export const DEFAULT_THRESHOLD_HU = -500;
const DEFAULT_MIN_COMPONENT_FRACTION = 0.001;
const LOW_PERCENTILE = 0.005;
const HIGH_PERCENTILE = 0.995;
/**
 * Body above 4% of the percentile range: on the MR of ../shared/data this keeps the faint body of
 * the mouse and the scalp of the brain (what a log-compressed Otsu split found there), and stays
 * put under the embedding where Otsu did not.
 */
const BODY_FRACTION = 0.04;
/**
 * Below this range (stored units) between the 0.5th percentile and the brightest pixel an image is
 * flat: nothing in it is an object. Above the +-1..3 units that the fidelity and paper profiles
 * add, so that embedding into an empty field never makes an object appear.
 */
const MIN_CONTRAST = 8;

function scaledRadius(rows: number, columns: number, at512: number): number {
  return Math.max(1, Math.round((Math.min(rows, columns) / 512) * at512));
}

/**
 * The thresholded image, and where it is clearly above the threshold: objects are seeded from
 * `strong` and taken at their outline in `fg` (hysteresis), so that faint background that the
 * embedding nudges over the threshold never starts an object of its own.
 */
interface Foreground {
  readonly fg: Uint8Array;
  readonly strong: Uint8Array;
}

/** Foreground by a fixed Hounsfield threshold (stable as it is: strong = fg). */
function ctForeground(
  frame: PixelFrame,
  context: SegmentationContext,
  thresholdHu: number,
): Foreground {
  const { samples } = frame;
  const fg = new Uint8Array(samples.length);
  const slope = context.rescaleSlope === 0 ? 1 : context.rescaleSlope;
  const pad = context.padding;
  for (let i = 0; i < samples.length; i++) {
    const hu = (samples[i] ?? 0) * slope + context.rescaleIntercept;
    fg[i] = hu > thresholdHu && !(pad !== undefined && pad[i]) ? 1 : 0;
  }
  return { fg, strong: fg };
}

/** The value at fraction `q` of a histogram over [min, min + counts.length). */
function histogramPercentile(counts: Uint32Array, total: number, min: number, q: number): number {
  const target = q * (total - 1);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen > target) return min + i;
  }
  return min + counts.length - 1;
}

/**
 * Foreground of a non-CT image: the image normalised between its 0.5th and 99.5th percentiles,
 * smoothed by a box filter (MR background is noise), above a fixed fraction of that range.
 *
 * Why not Otsu's threshold, the textbook choice: Otsu's split depends on the whole histogram,
 * background included, so the embedding's small background changes moved it and with it the whole
 * mask boundary (a test showed it on the mouse MR). The percentiles depend only on the darkest and
 * brightest 0.5% of the image, which the embedding does not reach, so this threshold stays put.
 */
function percentileForeground(frame: PixelFrame, context: SegmentationContext): Foreground {
  const { samples, rows, columns } = frame;
  const n = samples.length;
  const pad = context.padding;
  const sign = context.photometricInterpretation === 'MONOCHROME1' ? -1 : 1;
  let min = Infinity;
  let max = -Infinity;
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (pad !== undefined && pad[i]) continue;
    const v = sign * (samples[i] ?? 0);
    if (v < min) min = v;
    if (v > max) max = v;
    total++;
  }
  const fg = new Uint8Array(n);
  if (total === 0) return { fg, strong: fg };
  const counts = new Uint32Array(max - min + 1);
  for (let i = 0; i < n; i++) {
    if (pad !== undefined && pad[i]) continue;
    const idx = sign * (samples[i] ?? 0) - min;
    counts[idx] = (counts[idx] ?? 0) + 1;
  }
  const lo = histogramPercentile(counts, total, min, LOW_PERCENTILE);
  // A small object (under 0.5% of the image) on a flat field leaves p99.5 at the field's level:
  // then the object's own maximum sets the range.
  const p995 = histogramPercentile(counts, total, min, HIGH_PERCENTILE);
  const hi = p995 - lo >= MIN_CONTRAST ? p995 : max;
  if (hi - lo < MIN_CONTRAST) {
    // Flat (an empty field, or only the embedding's +-1 on one): no object, and the embedding
    // cannot create one.
    return { fg, strong: fg };
  }
  const normalised = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (pad !== undefined && pad[i]) continue;
    const x = (sign * (samples[i] ?? 0) - lo) / (hi - lo);
    normalised[i] = x < 0 ? 0 : x > 1 ? 1 : x;
  }
  const smoothed = boxMean(normalised, rows, columns, scaledRadius(rows, columns, 2));
  const strong = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (pad !== undefined && pad[i]) continue;
    const v = smoothed[i] ?? 0;
    fg[i] = v > BODY_FRACTION ? 1 : 0;
    strong[i] = v > 2 * BODY_FRACTION ? 1 : 0;
  }
  return { fg, strong };
}

/** Mean over a (2r+1)x(2r+1) window, clipped at the edges (separable running sums). */
export function boxMean(
  values: Float64Array,
  rows: number,
  columns: number,
  radius: number,
): Float64Array {
  const horizontal = new Float64Array(values.length);
  for (let y = 0; y < rows; y++) {
    runningMean(values, horizontal, y * columns, 1, columns, radius);
  }
  const out = new Float64Array(values.length);
  for (let x = 0; x < columns; x++) runningMean(horizontal, out, x, columns, rows, radius);
  return out;
}

function runningMean(
  input: Float64Array,
  out: Float64Array,
  start: number,
  stride: number,
  length: number,
  radius: number,
): void {
  // Prefix sums along the line keep it O(length) whatever the radius.
  const prefix = new Float64Array(length + 1);
  for (let i = 0; i < length; i++)
    prefix[i + 1] = (prefix[i] ?? 0) + (input[start + i * stride] ?? 0);
  for (let i = 0; i < length; i++) {
    const a = Math.max(0, i - radius);
    const b = Math.min(length, i + radius + 1);
    out[start + i * stride] = ((prefix[b] ?? 0) - (prefix[a] ?? 0)) / (b - a);
  }
}

/** Keeps the components of the opened foreground of at least `minPixels`. */
function largeComponents(
  opened: Uint8Array,
  rows: number,
  columns: number,
  minPixels: number,
): Uint8Array {
  const { labels, sizes, count } = connectedComponents(opened, rows, columns);
  const keep = new Uint8Array(count + 1);
  for (let l = 1; l <= count; l++) keep[l] = (sizes[l] ?? 0) >= minPixels ? 1 : 0;
  return selectLabels(labels, keep);
}

/** Segments one frame; pure and synchronous (the Segmenter wraps it). */
export function segmentByThreshold(
  frame: PixelFrame,
  context: SegmentationContext,
  options: ThresholdOptions = {},
): SignificanceMask {
  const { rows, columns } = frame;
  const { fg, strong } =
    context.modality === 'CT'
      ? ctForeground(frame, context, options.thresholdHu ?? DEFAULT_THRESHOLD_HU)
      : percentileForeground(frame, context);
  const openRadius = options.openRadiusPx ?? scaledRadius(rows, columns, 5);
  const closeRadius = options.closeRadiusPx ?? scaledRadius(rows, columns, 2);
  const minFraction = options.minComponentFraction ?? DEFAULT_MIN_COMPONENT_FRACTION;
  let opened = open(strong, rows, columns, openRadius);
  // An object thinner than the opening everywhere (tiny images) is still an object.
  if (!opened.includes(1)) opened = strong;
  const seeds = largeComponents(opened, rows, columns, Math.max(1, minFraction * rows * columns));
  const body = reconstruct(fg, seeds, rows, columns);
  const data = fillHoles(close(body, rows, columns, closeRadius), rows, columns);
  const pad = context.padding;
  if (pad !== undefined) {
    for (let i = 0; i < data.length; i++) if (pad[i]) data[i] = 0;
  }
  return { rows, columns, data };
}

export function createThresholdSegmenter(options: ThresholdOptions = {}): Segmenter {
  return {
    name: 'threshold',
    segment: (frame, context) => Promise.resolve(segmentByThreshold(frame, context, options)),
    insensitiveRange: (frame, context) =>
      ctBelowThreshold(frame, context, options.thresholdHu ?? DEFAULT_THRESHOLD_HU),
    close: () => Promise.resolve(),
  };
}

/**
 * CT: the stored values at or below the HU threshold, which ctForeground reads alike (background).
 * Other modalities: none (their threshold follows the frame's 0.5th percentile, which changes in
 * the darkest values could move).
 */
export function ctBelowThreshold(
  frame: PixelFrame,
  context: SegmentationContext,
  thresholdHu: number,
): readonly [number, number] | undefined {
  if (context.modality !== 'CT') return undefined;
  const slope = context.rescaleSlope === 0 ? 1 : context.rescaleSlope;
  if (!(slope > 0) || !Number.isFinite(context.rescaleIntercept)) return undefined;
  const [minStored, maxStored] = storedRange(frame);
  const isBackground = (v: number): boolean => v * slope + context.rescaleIntercept <= thresholdHu;
  let last = Math.floor((thresholdHu - context.rescaleIntercept) / slope);
  // The same comparison as ctForeground decides, not the rounded division.
  while (last >= minStored && !isBackground(last)) last--;
  while (last + 1 <= maxStored && isBackground(last + 1)) last++;
  if (last < minStored) return undefined;
  return [minStored, Math.min(last, maxStored)];
}
