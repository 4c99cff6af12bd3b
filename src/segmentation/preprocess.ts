import type { PixelFrame } from '../stego/types';
import type { SegmentationContext } from './segmenter';

/** How a frame's samples become the model's [0, 1] intensities (see models/README.md). */
export interface NormalisationOptions {
  /** CT window [lo, hi] in Hounsfield units. */
  readonly ctWindowHu: readonly [number, number];
  /** Percentile (0..100) of the frame's samples that maps to 1 for other modalities. */
  readonly percentile: number;
  /** Other modalities: intensities below this fraction of the percentile read as 0 (noise floor). */
  readonly noiseFloor: number;
}

/**
 * The frame's intensities in [0, 1], quantised to 8 bits (0..255), at full resolution.
 *
 * Quantising is deliberate: the model was trained on 8-bit inputs, and a representation with steps of
 * about 4.7 HU (CT) ignores most of the +-1 changes that embedding makes; everything below the window
 * (air at -1000 HU, padding, the space outside a circular field of view) is 0 however it changes.
 * Padding pixels are 0. MONOCHROME1 frames are inverted first.
 */
export function normaliseFrame(
  frame: PixelFrame,
  context: SegmentationContext,
  options: NormalisationOptions,
): Uint8Array {
  const { samples } = frame;
  const n = samples.length;
  const out = new Uint8Array(n);
  const padding = context.padding;
  const level = levelOf(intensityTransform(frame, context, options));
  // Stored samples span at most 2^16 values in practice: a lookup table makes the per-pixel work one
  // load (and keeps 8000 x 8000 frames fast).
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = samples[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (n > 0 && max - min < 1 << 20) {
    const lut = new Uint8Array(max - min + 1);
    for (let v = min; v <= max; v++) lut[v - min] = level(v);
    if (padding === undefined) {
      for (let i = 0; i < n; i++) out[i] = lut[(samples[i] as number) - min] as number;
    } else {
      for (let i = 0; i < n; i++)
        out[i] = padding[i] !== 0 ? 0 : (lut[(samples[i] as number) - min] as number);
    }
    return out;
  }
  for (let i = 0; i < n; i++) out[i] = level(samples[i] as number);
  if (padding !== undefined) for (let i = 0; i < n; i++) if (padding[i] !== 0) out[i] = 0;
  return out;
}

/**
 * The linear map of stored samples onto 8-bit levels, `level = round(stored * a + b)` clipped to
 * 0..255, with everything below `floor` read as 0.
 */
export interface IntensityTransform {
  readonly a: number;
  readonly b: number;
  readonly floor: number;
  readonly minStored: number;
  readonly maxStored: number;
}

/** The values Bits Stored and Pixel Representation allow, inclusive. */
export function storedRange(frame: PixelFrame): readonly [number, number] {
  return frame.signed
    ? [-(2 ** (frame.bitsStored - 1)), 2 ** (frame.bitsStored - 1) - 1]
    : [0, 2 ** frame.bitsStored - 1];
}

/** The frame's IntensityTransform: CT by its rescale and window, others by the frame's percentile. */
export function intensityTransform(
  frame: PixelFrame,
  context: SegmentationContext,
  options: NormalisationOptions,
): IntensityTransform {
  const invert = context.photometricInterpretation === 'MONOCHROME1';
  const [minStored, maxStored] = storedRange(frame);
  // stored -> physical, then the linear map onto [0, 255]: y = stored * a + b.
  let a: number;
  let b: number;
  if (context.modality === 'CT') {
    const [lo, hi] = options.ctWindowHu;
    const slope =
      Number.isFinite(context.rescaleSlope) && context.rescaleSlope !== 0
        ? context.rescaleSlope
        : 1;
    const intercept = Number.isFinite(context.rescaleIntercept) ? context.rescaleIntercept : 0;
    a = (slope * 255) / (hi - lo);
    b = ((intercept - lo) * 255) / (hi - lo);
    if (invert) {
      // physical = (maxStored + minStored - stored) * slope + intercept
      b += (maxStored + minStored) * a;
      a = -a;
    }
  } else {
    const p = percentileOfSamples(
      frame.samples,
      context.padding,
      options.percentile,
      invert,
      maxStored + minStored,
    );
    const scale = p > 0 ? 255 / p : 0;
    a = invert ? -scale : scale;
    b = invert ? (maxStored + minStored) * scale : 0;
  }
  const floor = context.modality === 'CT' ? 0 : Math.round(255 * options.noiseFloor);
  return { a, b, floor, minStored, maxStored };
}

function levelOf(t: IntensityTransform): (v: number) => number {
  const { a, b, floor } = t;
  return (v: number): number => {
    const y = Math.round(v * a + b);
    return y < floor || y <= 0 ? 0 : y >= 255 ? 255 : y;
  };
}

/**
 * The stored values this frame's normalisation reads as level 0 (no signal): an interval, since the
 * map is monotonic; undefined when the whole range reads 0 (a blank frame, whose percentile the
 * embedding could move) or none of it does.
 *
 * Why it matters: a block whose samples all stay in this interval looks the same to the segmenter
 * before and after embedding. On CT it is everything below the window (-600 HU: air and padding);
 * on MR, what lies under the noise floor. The frame's percentile (MR) does not move either, since
 * these values all lie below it (see models/README.md, Stability).
 */
export function levelZeroRange(
  frame: PixelFrame,
  context: SegmentationContext,
  options: NormalisationOptions,
): readonly [number, number] | undefined {
  const t = intensityTransform(frame, context, options);
  const level = levelOf(t);
  const { minStored, maxStored } = t;
  if (t.a === 0) return undefined;
  // Levels rise with the stored value (a > 0) or fall (a < 0, MONOCHROME1): level 0 is a prefix
  // or a suffix of the stored range; find its end by bisection on the monotonic level.
  const rising = t.a > 0;
  const edge = rising ? minStored : maxStored;
  if (level(edge) !== 0) return undefined;
  const other = rising ? maxStored : minStored;
  if (level(other) === 0) return undefined;
  let zero = edge;
  let nonZero = other;
  while (Math.abs(nonZero - zero) > 1) {
    const mid = Math.floor((zero + nonZero) / 2);
    if (level(mid) === 0) zero = mid;
    else nonZero = mid;
  }
  return rising ? [minStored, zero] : [zero, maxStored];
}

/**
 * The p-th percentile (nearest rank) of the non-padding samples (inverted as `flip - s` when asked),
 * by a histogram when the value range is small (the usual 12- or 16-bit case), else by sorting.
 */
export function percentileOfSamples(
  samples: Int32Array,
  padding: Uint8Array | undefined,
  p: number,
  invert = false,
  flip = 0,
): number {
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = 0; i < samples.length; i++) {
    if (padding !== undefined && padding[i] !== 0) continue;
    const v = invert ? flip - (samples[i] as number) : (samples[i] as number);
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  if (count === 0) return 0;
  const rank = Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
  const range = max - min + 1;
  if (range <= 1 << 20) {
    const hist = new Uint32Array(range);
    for (let i = 0; i < samples.length; i++) {
      if (padding !== undefined && padding[i] !== 0) continue;
      const v = invert ? flip - (samples[i] as number) : (samples[i] as number);
      hist[v - min] = (hist[v - min] as number) + 1;
    }
    let seen = 0;
    for (let k = 0; k < range; k++) {
      seen += hist[k] as number;
      if (seen > rank) return k + min;
    }
    return max;
  }
  const values = new Float64Array(count);
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    if (padding !== undefined && padding[i] !== 0) continue;
    values[j++] = invert ? flip - (samples[i] as number) : (samples[i] as number);
  }
  values.sort();
  return values[rank] as number;
}

/** Per output index: the source indices and weights along one axis. */
interface AxisTaps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

/**
 * Resampling taps along one axis. Shrinking averages each output pixel's footprint (area
 * interpolation: a 2:1 reduction is the mean of 2 pixels, which also averages embedding noise away);
 * enlarging interpolates linearly between pixel centres (align-corners false, as torch and the model's
 * paste-back do).
 */
export function axisTaps(srcLength: number, dstLength: number): AxisTaps {
  const scale = srcLength / dstLength;
  const start = new Int32Array(dstLength);
  const count = new Int32Array(dstLength);
  const index: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < dstLength; i++) {
    start[i] = index.length;
    if (scale > 1) {
      const lo = i * scale;
      const hi = (i + 1) * scale;
      for (let s = Math.floor(lo); s < Math.min(srcLength, Math.ceil(hi)); s++) {
        const w = Math.min(hi, s + 1) - Math.max(lo, s);
        if (w > 1e-9) {
          index.push(s);
          weight.push(w / scale);
        }
      }
    } else {
      const c = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), srcLength - 1);
      const s0 = Math.floor(c);
      const s1 = Math.min(s0 + 1, srcLength - 1);
      const f = c - s0;
      index.push(s0);
      weight.push(1 - f);
      if (s1 !== s0 && f > 0) {
        index.push(s1);
        weight.push(f);
      }
    }
    count[i] = index.length - (start[i] as number);
  }
  return { start, count, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/** Separable resampling of a rows x columns image (any numeric array) to dstRows x dstColumns. */
export function resample(
  src: ArrayLike<number>,
  rows: number,
  columns: number,
  dstRows: number,
  dstColumns: number,
): Float32Array {
  const tx = axisTaps(columns, dstColumns);
  const ty = axisTaps(rows, dstRows);
  // Columns first (rows x dstColumns), then rows.
  const tmp = new Float32Array(rows * dstColumns);
  for (let y = 0; y < rows; y++) {
    const base = y * columns;
    const outBase = y * dstColumns;
    for (let x = 0; x < dstColumns; x++) {
      let acc = 0;
      const s = tx.start[x] as number;
      const e = s + (tx.count[x] as number);
      for (let k = s; k < e; k++)
        acc += (src[base + (tx.index[k] as number)] as number) * (tx.weight[k] as number);
      tmp[outBase + x] = acc;
    }
  }
  const out = new Float32Array(dstRows * dstColumns);
  for (let y = 0; y < dstRows; y++) {
    const s = ty.start[y] as number;
    const e = s + (ty.count[y] as number);
    const outBase = y * dstColumns;
    for (let k = s; k < e; k++) {
      const w = ty.weight[k] as number;
      const rowBase = (ty.index[k] as number) * dstColumns;
      for (let x = 0; x < dstColumns; x++)
        out[outBase + x] = (out[outBase + x] as number) + (tmp[rowBase + x] as number) * w;
    }
  }
  return out;
}

/** The model's input tensor data: the 8-bit intensities stretched to size x size, in [0, 1] steps of 1/255. */
export function modelInput(
  intensity: Uint8Array,
  rows: number,
  columns: number,
  size: number,
): Float32Array {
  const k = rows / size;
  if (rows === columns && Number.isInteger(k) && k >= 1) return boxReduce(intensity, rows, k, size);
  const resized = resample(intensity, rows, columns, size, size);
  for (let i = 0; i < resized.length; i++) resized[i] = Math.round(resized[i] as number) / 255;
  return resized;
}

/**
 * The common case of modelInput (a square frame k times the input size, e.g. 512 -> 256): the mean
 * of each k x k block in integer arithmetic, rounded as resample + Math.round would.
 */
function boxReduce(intensity: Uint8Array, n: number, k: number, size: number): Float32Array {
  if (k === 2) return halve(intensity, size);
  const sums = new Uint32Array(size * size);
  for (let y = 0; y < n; y++) {
    const outRow = ((y / k) | 0) * size;
    const row = y * n;
    for (let x = 0; x < n; x++) {
      const o = outRow + ((x / k) | 0);
      sums[o] = (sums[o] as number) + (intensity[row + x] as number);
    }
  }
  const area = k * k;
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = Math.round((sums[i] as number) / area) / 255;
  return out;
}

/** boxReduce for k = 2 (512 -> 256): two rows at a time, no per-pixel division. */
function halve(intensity: Uint8Array, size: number): Float32Array {
  const n = 2 * size;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const top = 2 * y * n;
    const bottom = top + n;
    const row = y * size;
    for (let x = 0; x < size; x++) {
      const s =
        (intensity[top + 2 * x] as number) +
        (intensity[top + 2 * x + 1] as number) +
        (intensity[bottom + 2 * x] as number) +
        (intensity[bottom + 2 * x + 1] as number);
      // Math.round(s / 4) for non-negative integers: (s + 2) >> 2.
      out[row + x] = ((s + 2) >> 2) / 255;
    }
  }
  return out;
}
