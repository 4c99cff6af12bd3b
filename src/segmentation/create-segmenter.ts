import { StegoGatewayError } from '../stego/errors';
import type { Segmenter, SegmenterName } from './segmenter';
import { createThresholdSegmenter, type ThresholdOptions } from './threshold-segmenter';

export interface CreateSegmenterOptions {
  /** onnx-maskrcnn: the model file (default: the onnx module's own default). */
  readonly modelPath?: string;
  /** threshold: its tuning. */
  readonly threshold?: ThresholdOptions;
  /** Anything else the ONNX segmenter accepts (threads, input size, ...), passed through. */
  readonly onnx?: Readonly<Record<string, unknown>>;
}

/** The module onnx-maskrcnn.ts is expected to be; checked at run time since it is optional. */
interface OnnxModule {
  createOnnxSegmenter(options: Record<string, unknown>): Promise<Segmenter>;
}

function isOnnxModule(value: unknown): value is OnnxModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { createOnnxSegmenter?: unknown }).createOnnxSegmenter === 'function'
  );
}

function modelUnavailable(message: string, cause?: unknown): StegoGatewayError {
  return new StegoGatewayError('MODEL_UNAVAILABLE', message, {
    httpStatus: 503,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * The ONNX module is loaded only when asked for, so that the threshold segmenter (and everything that
 * uses it) works where onnxruntime-node or the model file is missing.
 */
function loadOnnxModule(): OnnxModule {
  const specifier = './onnx-maskrcnn';
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional, resolved at run time
    loaded = require(specifier);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw modelUnavailable(
      `the onnx-maskrcnn segmenter cannot be loaded [${reason}]; use --segmenter threshold`,
      cause,
    );
  }
  if (!isOnnxModule(loaded)) {
    throw modelUnavailable('the onnx-maskrcnn module exports no createOnnxSegmenter');
  }
  return loaded;
}

/** Creates a segmenter by name; MODEL_UNAVAILABLE when the ONNX model or its runtime is missing. */
export async function createSegmenter(
  name: SegmenterName,
  options: CreateSegmenterOptions = {},
): Promise<Segmenter> {
  switch (name) {
    case 'threshold':
      return createThresholdSegmenter(options.threshold);
    case 'onnx-maskrcnn': {
      const onnx = loadOnnxModule();
      try {
        return await onnx.createOnnxSegmenter({
          ...options.onnx,
          ...(options.modelPath === undefined ? {} : { modelPath: options.modelPath }),
        });
      } catch (cause) {
        if (cause instanceof StegoGatewayError && cause.code === 'MODEL_UNAVAILABLE') throw cause;
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw modelUnavailable(
          `the onnx-maskrcnn model could not be loaded [${reason}]; use --segmenter threshold`,
          cause,
        );
      }
    }
  }
}
