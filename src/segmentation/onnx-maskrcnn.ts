import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { StegoGatewayError } from '../stego/errors';
import type { PixelFrame, SignificanceMask } from '../stego/types';
import { BODY_MODEL } from './model-card';
import {
  finishMask,
  growIntoFaintTissue,
  pasteBack,
  refinementBand,
  unionProbability,
} from './postprocess';
import { faintTissueLevel } from './faint-tissue';
import { levelZeroRange, modelInput, normaliseFrame } from './preprocess';
import type { SegmentationContext, Segmenter } from './segmenter';

export interface OnnxSegmenterOptions {
  /** The .onnx file (default: models/body-maskrcnn.onnx of this repository). */
  readonly modelPath?: string;
  /** SHA-256 (hex) the file must have (default: the model card's). */
  readonly expectedSha256?: string;
  /** onnxruntime intra-op threads (default 2). */
  readonly intraOpThreads?: number;
  /** Refine the outline at full resolution (default true; see refineEdge in postprocess.ts). */
  readonly refineEdges?: boolean;
  /** Instances scoring below this are ignored (default: the model card's 0.5). */
  readonly scoreThreshold?: number;
  /**
   * Non-CT MONOCHROME2 frames: grow the mask into the faint tissue connected to it (default true; see
   * growIntoFaintTissue in postprocess.ts).
   */
  readonly faintTissue?: boolean;
  /**
   * Non-CT frames: the fraction of the 99.5th percentile below which samples read 0 (default: the
   * model card's). For measuring a candidate model trained with another floor.
   */
  readonly noiseFloor?: number;
}

export const DEFAULT_MODEL_PATH = path.resolve(__dirname, '../../models', BODY_MODEL.fileName);

const FETCHES: readonly string[] = ['scores', 'masks'];

/** Frames above this many pixels are refused (64 Mi: 8192 x 8192) rather than exhausting memory. */
export const MAX_FRAME_PIXELS = 8192 * 8192;

function modelError(
  code: 'MODEL_NOT_FOUND' | 'MODEL_HASH_MISMATCH' | 'MODEL_INVALID',
  message: string,
  cause?: unknown,
) {
  return new StegoGatewayError(code, message, {
    httpStatus: 503,
    ...(cause === undefined ? {} : { cause }),
  });
}

function inputError(message: string): StegoGatewayError {
  return new StegoGatewayError('SEGMENTATION_INPUT_INVALID', message, { httpStatus: 422 });
}

/**
 * The trained Mask R-CNN body segmenter. The model file is read once, checked against its SHA-256,
 * and one onnxruntime session serves every call.
 */
export async function createOnnxSegmenter(options: OnnxSegmenterOptions = {}): Promise<Segmenter> {
  const modelPath = options.modelPath ?? DEFAULT_MODEL_PATH;
  const expected = (options.expectedSha256 ?? BODY_MODEL.sha256).toLowerCase();
  const threads = options.intraOpThreads ?? 2;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new StegoGatewayError(
      'CONFIG_INVALID',
      `intraOpThreads must be a positive integer [${threads}]`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(modelPath);
  } catch (cause) {
    throw modelError('MODEL_NOT_FOUND', `segmentation model not readable [${modelPath}]`, cause);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) {
    throw modelError(
      'MODEL_HASH_MISMATCH',
      `segmentation model [${modelPath}] has SHA-256 [${actual}], expected [${expected}]`,
    );
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
  } catch (cause) {
    throw modelError('MODEL_INVALID', `segmentation model [${modelPath}] cannot be loaded`, cause);
  }
  const names = [...session.outputNames];
  if (
    session.inputNames[0] !== BODY_MODEL.inputName ||
    BODY_MODEL.outputNames.some((n) => !names.includes(n))
  ) {
    await session.release();
    throw modelError(
      'MODEL_INVALID',
      `segmentation model [${modelPath}] has inputs [${session.inputNames.join(',')}] and outputs [${names.join(',')}]`,
    );
  }
  const refine = options.refineEdges ?? true;
  const growFaint = options.faintTissue ?? true;
  const scoreThreshold = options.scoreThreshold ?? BODY_MODEL.scoreThreshold;
  const size = BODY_MODEL.inputSize;
  const normalisation = { ...BODY_MODEL, noiseFloor: options.noiseFloor ?? BODY_MODEL.noiseFloor };
  let closed = false;

  async function segment(
    frame: PixelFrame,
    context: SegmentationContext,
  ): Promise<SignificanceMask> {
    if (closed)
      throw new StegoGatewayError('SEGMENTER_CLOSED', 'the onnx-maskrcnn segmenter is closed');
    validateFrame(frame, context);
    const { rows, columns } = frame;
    const intensity = normaliseFrame(frame, context, normalisation);
    const input = new ort.Tensor('float32', modelInput(intensity, rows, columns, size), [
      1,
      size,
      size,
    ]);
    // Only the outputs post-processing reads (boxes and labels are not copied out).
    const out = await session.run({ [BODY_MODEL.inputName]: input }, FETCHES);
    const { scores, masks } = parseOutputs(out, size);
    const prob = unionProbability(scores, masks, size, scoreThreshold);
    let data: Uint8Array = new Uint8Array(rows * columns);
    if (prob !== undefined) {
      data = finishMask(
        pasteBack(prob, size, rows, columns),
        intensity,
        rows,
        columns,
        refine ? refinementBand(rows, columns, size) : undefined,
      );
      const level = growFaint ? faintTissueLevel(frame, context) : undefined;
      if (level !== undefined) data = growIntoFaintTissue(data, frame, level, context.padding);
    }
    const padding = context.padding;
    if (padding !== undefined)
      for (let i = 0; i < data.length; i++) if (padding[i] !== 0) data[i] = 0;
    return { rows, columns, data };
  }

  return {
    name: 'onnx-maskrcnn',
    segment,
    // The model and the edge refinement see only the 8-bit levels of normaliseFrame (padding read as
    // 0): samples that stay at level 0 cannot move the mask. The faint-tissue growth reads blocks
    // that the pipeline's faint-tissue rule keeps out of every embedding (faint-tissue.ts).
    insensitiveRange(frame, context) {
      validateFrame(frame, context);
      return levelZeroRange(frame, context, normalisation);
    },
    async close() {
      if (closed) return;
      closed = true;
      await session.release();
    },
  };
}

function validateFrame(frame: PixelFrame, context: SegmentationContext): void {
  const { rows, columns, samples } = frame;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1) {
    throw inputError(`frame size must be positive integers [${rows}x${columns}]`);
  }
  if (rows * columns > MAX_FRAME_PIXELS) {
    throw inputError(
      `frame too large to segment [${rows}x${columns}], at most [${MAX_FRAME_PIXELS}] pixels`,
    );
  }
  if (samples.length !== rows * columns) {
    throw inputError(`frame has [${samples.length}] samples for [${rows}x${columns}]`);
  }
  if (context.padding !== undefined && context.padding.length !== samples.length) {
    throw inputError(
      `padding mask has [${context.padding.length}] pixels for [${rows}x${columns}]`,
    );
  }
}

/** Model outputs are untrusted until their types and shapes are checked. */
function parseOutputs(
  out: ort.InferenceSession.OnnxValueMapType,
  size: number,
): { scores: Float32Array; masks: Float32Array } {
  const scores = out['scores'];
  const masks = out['masks'];
  if (!(scores instanceof ort.Tensor) || !(masks instanceof ort.Tensor)) {
    throw modelError('MODEL_INVALID', 'segmentation model returned no scores or masks');
  }
  const n = scores.dims[0] ?? -1;
  const ok =
    scores.type === 'float32' &&
    masks.type === 'float32' &&
    scores.dims.length === 1 &&
    masks.dims.length === 4 &&
    masks.dims[0] === n &&
    masks.dims[1] === 1 &&
    masks.dims[2] === size &&
    masks.dims[3] === size;
  if (!ok) {
    throw modelError(
      'MODEL_INVALID',
      `segmentation model returned scores [${scores.dims.join('x')}] and masks [${masks.dims.join('x')}]`,
    );
  }
  return { scores: scores.data as Float32Array, masks: masks.data as Float32Array };
}
