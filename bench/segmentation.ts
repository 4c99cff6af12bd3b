/**
 * Milliseconds per 512 x 512 CT slice for both segmenters (model load excluded, median of many,
 * onnxruntime intra-op threads = 2), and the parts of onnx-maskrcnn: pre-processing, the model
 * alone, post-processing. Run: npx tsx bench/segmentation.ts (or npm run bench).
 */
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { BODY_MODEL } from '../src/segmentation/model-card';
import { createOnnxSegmenter, DEFAULT_MODEL_PATH } from '../src/segmentation/onnx-maskrcnn';
import {
  finishMask,
  pasteBack,
  refinementBand,
  unionProbability,
} from '../src/segmentation/postprocess';
import { modelInput, normaliseFrame } from '../src/segmentation/preprocess';
import type { Segmenter } from '../src/segmentation/segmenter';
import { createThresholdSegmenter } from '../src/segmentation/threshold-segmenter';
import { loadFrames, type Slice } from '../test/segmentation/helpers/slices';

const SLICES = [
  'ct/lung-pet-ct-dx/1-05.dcm',
  'ct/lung-pet-ct-dx/1-15.dcm',
  'ct/tcga-thca-whole-body/1-101.dcm',
  'ct/cmb-crc-chest-abdomen/1-049.dcm',
];
const WARMUP = 5;
const RUNS = 60;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Timing {
  /** Median wall-clock milliseconds. */
  readonly wall: number;
  /**
   * Median CPU milliseconds of this process (all threads, onnxruntime's included): what the work
   * costs when the machine is shared and wall time mostly measures waiting.
   */
  readonly cpu: number;
}

async function timeIt(fn: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c = process.cpuUsage();
    const t = performance.now();
    await fn();
    wall.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const fmt = (t: Timing): string =>
  `${t.wall.toFixed(2).padStart(8)} ms wall ${t.cpu.toFixed(2).padStart(8)} ms CPU`;

async function perSlice(slices: Slice[], segmenter: Segmenter): Promise<Timing> {
  let k = 0;
  return timeIt(() => {
    const s = slices[k++ % slices.length] as Slice;
    return segmenter.segment(s.frame, s.context);
  });
}

export async function run(): Promise<void> {
  const slices = SLICES.flatMap((rel) => loadFrames(rel));
  const threshold = createThresholdSegmenter();
  const onnx = await createOnnxSegmenter({ intraOpThreads: 2 });
  const onnxPlain = await createOnnxSegmenter({ intraOpThreads: 2, refineEdges: false });
  const tThreshold = await perSlice(slices, threshold);
  const tOnnx = await perSlice(slices, onnx);
  const tOnnxPlain = await perSlice(slices, onnxPlain);

  // The parts, on one slice.
  const s = slices[0] as Slice;
  const { rows, columns } = s.frame;
  const size = BODY_MODEL.inputSize;
  // The segmenter's own session options (src/segmentation/onnx-maskrcnn.ts) and outputs.
  const session = await ort.InferenceSession.create(DEFAULT_MODEL_PATH, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const intensity = normaliseFrame(s.frame, s.context, BODY_MODEL);
  const input = modelInput(intensity, rows, columns, size);
  const feeds = { [BODY_MODEL.inputName]: new ort.Tensor('float32', input, [1, size, size]) };
  const out = await session.run(feeds);
  const scores = out['scores']?.data as Float32Array;
  const masks = out['masks']?.data as Float32Array;
  const tPre = await timeIt(async () =>
    modelInput(normaliseFrame(s.frame, s.context, BODY_MODEL), rows, columns, size),
  );
  const tModel = await timeIt(() => session.run(feeds, ['scores', 'masks']));
  const tPost = await timeIt(async () => {
    const prob = unionProbability(scores, masks, size, BODY_MODEL.scoreThreshold);
    if (prob === undefined) return;
    const band = refinementBand(rows, columns, size);
    finishMask(pasteBack(prob, size, rows, columns), intensity, rows, columns, band);
  });
  await session.release();
  await Promise.all([threshold.close(), onnx.close(), onnxPlain.close()]);

  console.log(
    `segmentation, per ${rows}x${columns} CT slice (median of ${RUNS}, ${slices.length} slices, ` +
      `2 intra-op threads; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs)`,
  );
  console.log(`  threshold (baseline)           ${fmt(tThreshold)}`);
  console.log(
    `  onnx-maskrcnn                  ${fmt(tOnnx)}  (x${(tOnnx.wall / tThreshold.wall).toFixed(2)} of threshold, wall)`,
  );
  console.log(`  onnx-maskrcnn, no edge refine  ${fmt(tOnnxPlain)}`);
  console.log(`    pre-processing               ${fmt(tPre)}`);
  console.log(`    model (onnxruntime)          ${fmt(tModel)}`);
  console.log(`    post-processing with refine  ${fmt(tPost)}`);
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
