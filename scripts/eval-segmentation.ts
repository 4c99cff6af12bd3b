/**
 * Body IoU and Dice per series, onnx-maskrcnn (with and without edge refinement) beside threshold, on
 * the labelled slices of ../shared/data (labels: models/train/make_labels.py). Held-out series come
 * first; the others were seen in training and are printed for reference only.
 * Per series: pooled IoU/Dice (all pixels of the series) and the worst slice's IoU.
 */
import { createOnnxSegmenter } from '../src/segmentation/onnx-maskrcnn';
import type { Segmenter } from '../src/segmentation/segmenter';
import { createThresholdSegmenter } from '../src/segmentation/threshold-segmenter';
import {
  diceOf,
  iouOf,
  labelledFiles,
  loadFrames,
  overlap,
  readLabel,
  type Overlap,
} from '../test/segmentation/helpers/slices';

interface Tally {
  i: number;
  u: number;
  a: number;
  b: number;
  worst: number;
  n: number;
}

async function main(): Promise<void> {
  const segmenters: [string, Segmenter][] = [
    ['onnx-maskrcnn', await createOnnxSegmenter()],
    ['onnx (no refine)', await createOnnxSegmenter({ refineEdges: false })],
    ['threshold', createThresholdSegmenter()],
  ];
  const tallies = new Map<string, Map<string, Tally>>();
  const unreadable: string[] = [];
  for (const { rel, heldOut } of labelledFiles()) {
    let slice;
    try {
      [slice] = loadFrames(rel);
    } catch (err) {
      unreadable.push(`${rel} (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    if (slice === undefined) continue;
    const label = readLabel(rel);
    const key = `${heldOut ? 'HELD-OUT' : 'train   '} ${slice.series}`;
    const row = tallies.get(key) ?? new Map<string, Tally>();
    tallies.set(key, row);
    for (const [name, s] of segmenters) {
      const mask = await s.segment(slice.frame, slice.context);
      const o: Overlap = overlap(mask.data, label);
      const t = row.get(name) ?? { i: 0, u: 0, a: 0, b: 0, worst: 1, n: 0 };
      t.i += o.intersection;
      t.u += o.union;
      t.a += o.a;
      t.b += o.b;
      t.worst = Math.min(t.worst, iouOf(o));
      t.n++;
      row.set(name, t);
    }
  }
  const names = segmenters.map(([n]) => n);
  console.log(
    [
      'series'.padEnd(42),
      'n'.padStart(3),
      ...names.map((n) => `${n}: IoU / Dice / worst`.padStart(36)),
    ].join(' '),
  );
  for (const key of [...tallies.keys()].sort()) {
    const row = tallies.get(key) as Map<string, Tally>;
    const cells = names.map((n) => {
      const t = row.get(n) as Tally;
      const o = { intersection: t.i, union: t.u, a: t.a, b: t.b };
      return `${iouOf(o).toFixed(4)} / ${diceOf(o).toFixed(4)} / ${t.worst.toFixed(4)}`.padStart(
        36,
      );
    });
    const n = (row.get(names[0] as string) as Tally).n;
    console.log([key.padEnd(42), String(n).padStart(3), ...cells].join(' '));
  }
  if (unreadable.length > 0)
    console.log(`not readable by src/dicom, skipped: ${unreadable.join('; ')}`);
  for (const [, s] of segmenters) await s.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
