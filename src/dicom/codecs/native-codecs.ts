import { constants, Context, log as codecsLog, NativeCodecs } from 'dcmjs-codecs';
import { codecError } from './codec-error';
import type { FrameInfo } from './frame-info';

/**
 * The one place that imports dcmjs-codecs (WebAssembly builds of IJG libjpeg 8/12/16-bit with the
 * lossless patches, CharLS, OpenJPEG, OpenJPH, libjxl and an RLE coder). Its Transcoder works on
 * whole dcmjs datasets and rewrites headers; we call its per-frame NativeCodecs entry points instead.
 *
 * A failed call leaves the module's heap as the codec left it (dcmjs-codecs does not free its
 * context when a codec throws; a run of failures was seen to make later, valid frames fail), so
 * after any failure the module is released and instantiated again before the next call.
 */

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'loading'; readonly ready: Promise<void> }
  | { readonly kind: 'ready' }
  | { readonly kind: 'stale' };

let state: State = { kind: 'idle' };

codecsLog.setLevel('silent');

function load(): Promise<void> {
  const ready = (async () => {
    try {
      if (NativeCodecs.isInitialized()) NativeCodecs.release();
      await NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
      state = { kind: 'ready' };
    } catch (cause) {
      state = { kind: 'idle' };
      throw codecError(
        'CODEC_INIT_FAILED',
        'the codec WebAssembly module could not be loaded',
        cause,
      );
    }
  })();
  state = { kind: 'loading', ready };
  return ready;
}

/** Loads the codecs (once; later calls return at once). Safe to call concurrently. */
export async function initializeCodecs(): Promise<void> {
  switch (state.kind) {
    case 'ready':
      return;
    case 'loading':
      return state.ready;
    case 'idle':
    case 'stale':
      return load();
  }
}

/**
 * Runs `work` (synchronous codec calls) with the codecs loaded. The check and the work run in one
 * synchronous stretch, so a failure of another call in between (which marks the module for reload)
 * makes this one wait for the reload instead of failing.
 */
export async function withCodecs<T>(work: () => T): Promise<T> {
  // Each round some call runs (load failures throw out of initializeCodecs), so this ends; the bound
  // only guards against a livelock of calls that keep failing in front of this one.
  for (let attempt = 0; attempt < 1000; attempt++) {
    await initializeCodecs();
    if (state.kind === 'ready') return work();
  }
  throw codecError('CODEC_INIT_FAILED', 'the codecs kept being reloaded by failing calls');
}

/** Whether a codec call can run now (initialised and not waiting for a reload after a failure). */
export function codecsReady(): boolean {
  return state.kind === 'ready';
}

export type NativeOperation =
  | 'decodeRle'
  | 'decodeJpeg'
  | 'decodeJpegLs'
  | 'decodeJpeg2000'
  | 'decodeHtJpeg2000'
  | 'decodeJpegXl'
  | 'encodeRle'
  | 'encodeJpeg'
  | 'encodeJpegLs'
  | 'encodeJpeg2000'
  | 'encodeHtJpeg2000'
  | 'encodeJpegXl';

export interface EncodeParameters {
  readonly lossy: false;
  readonly predictor?: number;
  readonly pointTransform?: number;
  readonly allowMct?: boolean;
  readonly progressionOrder?: number;
}

export const RPCL_PROGRESSION: number = constants.Jpeg2000ProgressionOrder.Rpcl;

function message(cause: unknown): string {
  const text = cause instanceof Error ? cause.message : String(cause);
  // Codec messages name the library function that failed; keep the first line, bounded.
  return (text.split('\n')[0] ?? '').slice(0, 200);
}

/**
 * Runs one codec call on one frame and returns a copy of its output buffer. `bytes` is the
 * compressed frame for a decode, the native frame for an encode. Requires initializeCodecs().
 */
export function runNative(
  operation: NativeOperation,
  bytes: Uint8Array,
  info: FrameInfo,
  photometric: string,
  parameters: EncodeParameters | Record<string, never>,
): Uint8Array {
  if (state.kind !== 'ready') {
    throw codecError(
      'CODEC_UNAVAILABLE',
      'the codecs are not loaded: await initializeCodecs() first',
    );
  }
  const decoding = operation.startsWith('decode');
  const context = new Context({
    width: info.columns,
    height: info.rows,
    bitsAllocated: info.bitsAllocated,
    bitsStored: info.bitsStored,
    samplesPerPixel: info.samplesPerPixel,
    pixelRepresentation: info.signed ? 1 : 0,
    planarConfiguration: 0,
    photometricInterpretation: photometric,
    ...(decoding ? { encodedBuffer: bytes } : { decodedBuffer: bytes }),
  });
  let out: Uint8Array | undefined;
  try {
    const result = NativeCodecs[operation](context, { ...parameters });
    out = decoding ? result.getDecodedBuffer() : result.getEncodedBuffer();
  } catch (cause) {
    state = { kind: 'stale' };
    throw codecError(
      decoding ? 'CODEC_DECODE_FAILED' : 'CODEC_ENCODE_FAILED',
      `${operation} failed [${message(cause)}]`,
      cause,
    );
  }
  if (out === undefined || out.length === 0) {
    throw codecError(
      decoding ? 'CODEC_DECODE_FAILED' : 'CODEC_ENCODE_FAILED',
      `${operation} returned no data`,
    );
  }
  return out.slice();
}
