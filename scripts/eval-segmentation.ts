/**
 * Body IoU and Dice per series, onnx-maskrcnn (with and without edge refinement) beside threshold, on
 * the labelled slices of ../shared/data (labels: models/train/make_labels.py). Held-out series come
 * first; the others were seen in training and are printed for reference only.
 * Per series: pooled IoU/Dice (all pixels of the series) and the worst slice's IoU.
 * With --stability: cover/stego block-map agreement instead (see stability()).
 */
import { createOnnxSegmenter } from '../src/segmentation/onnx-maskrcnn';
import type { Segmenter } from '../src/segmentation/segmenter';
import { createThresholdSegmenter } from '../src/segmentation/threshold-segmenter';
import { measureStability } from '../test/segmentation/helpers/stability';
import {
  allCtMrFrames,
  diceOf,
  heldOutReformats,
  iouOf,
  labelledFiles,
  loadFrames,
  overlap,
  readLabel,
  type Overlap,
  type Slice,
} from '../test/segmentation/helpers/slices';

interface Tally {
  i: number;
  u: number;
  a: number;
  b: number;
  worst: number;
  n: number;
}

async function accuracy(): Promise<void> {
  const segmenters: [string, Segmenter][] = [
    ['onnx-maskrcnn', await createOnnxSegmenter()],
    ['onnx (no refine)', await createOnnxSegmenter({ refineEdges: false })],
    ['threshold', createThresholdSegmenter()],
  ];
  const tallies = new Map<string, Map<string, Tally>>();
  const unreadable: string[] = [];
  const cases: { key: string; slice: Slice; label: Uint8Array }[] = [];
  for (const { rel, heldOut } of labelledFiles()) {
    let slice: Slice | undefined;
    try {
      [slice] = loadFrames(rel);
    } catch (err) {
      unreadable.push(`${rel} (${err instanceof Error ? err.message : String(err)})`);
      continue;
    }
    if (slice === undefined) continue;
    cases.push({
      key: `${heldOut ? 'HELD-OUT' : 'train   '} ${slice.series}`,
      slice,
      label: readLabel(rel),
    });
  }
  for (const { slice, label } of heldOutReformats()) {
    cases.push({ key: `HELD-OUT ${slice.series}`, slice, label });
  }
  for (const { key, slice, label } of cases) {
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

/**
 * --stability: every CT and MR frame of ../shared/data that src/dicom reads: segment the cover, embed a
 * payload with the real engine (fidelity and robust profiles), segment the stego frame; block-map
 * agreement, mask NCC and changed body pixels, per profile and segmenter.
 */
async function stability(): Promise<void> {
  const { slices, skipped } = allCtMrFrames();
  const labels = new Map<string, Uint8Array>();
  for (const { rel } of labelledFiles()) {
    try {
      labels.set(rel, readLabel(rel));
    } catch {
      // no label for this file
    }
  }
  const segmenters: [string, Segmenter][] = [
    ['onnx-maskrcnn', await createOnnxSegmenter()],
    ['threshold', createThresholdSegmenter()],
  ];
  console.log(`${slices.length} CT/MR frames; ${skipped.length} files not readable by src/dicom`);
  const groups: [string, Slice[]][] = [
    ['CT', slices.filter((x) => x.modality === 'CT')],
    ['MR', slices.filter((x) => x.modality !== 'CT')],
  ];
  for (const profile of ['fidelity', 'robust'] as const) {
    for (const [name, s] of segmenters)
      for (const [modality, group] of groups) {
        let frames = 0;
        let equal = 0;
        let minAgreement = 1;
        let minNcc = 1;
        let sumNcc = 0;
        let changed = 0;
        let changedBody = 0;
        let changedNear = 0;
        let labelled = 0;
        let changedLabel = 0;
        let payloadBytes = 0;
        const notEmbedded = new Map<string, number>();
        const unequal: string[] = [];
        for (const slice of group) {
          const label = labels.get(slice.rel);
          const o = await measureStability(s, slice, {
            profile,
            payloadBytes: PAYLOAD_BYTES,
            ...(label === undefined ? {} : { label }),
          });
          if (!o.embedded) {
            notEmbedded.set(o.reason, (notEmbedded.get(o.reason) ?? 0) + 1);
            continue;
          }
          frames++;
          if (o.mapsEqual) equal++;
          else unequal.push(`${slice.rel} (${o.agreement.toFixed(5)})`);
          minAgreement = Math.min(minAgreement, o.agreement);
          minNcc = Math.min(minNcc, o.ncc);
          sumNcc += o.ncc;
          changed += o.changedPixels;
          changedBody += o.changedBodyPixels;
          changedNear += o.changedNearBody;
          if (o.changedLabelBody !== undefined) {
            labelled++;
            changedLabel += o.changedLabelBody;
          }
          payloadBytes += o.payloadBytes;
        }
        const skippedText = [...notEmbedded].map(([k, v]) => `${k}: ${v}`).join(', ');
        console.log(
          `${profile.padEnd(8)} ${name.padEnd(14)} ${modality} frames ${frames}, identical block maps ${equal}/${frames}, ` +
            `min agreement ${minAgreement.toFixed(5)}, mask NCC mean ${(sumNcc / Math.max(1, frames)).toFixed(5)} ` +
            `min ${minNcc.toFixed(5)}, mean payload ${(payloadBytes / Math.max(1, frames)).toFixed(0)} B, changed pixels ${changed}, in body ${changedBody}, within margin ${changedNear}, ` +
            `in the labelled body of ${labelled} labelled slices ${changedLabel}` +
            (skippedText ? `; not embedded (${skippedText})` : ''),
        );
        if (unequal.length > 0) console.log(`  differing: ${unequal.join(', ')}`);
      }
  }
  for (const [, s] of segmenters) await s.close();
}

/** Bytes of payload per frame in --stability: an identity record, or less where it does not fit. */
const PAYLOAD_BYTES = [128, 64, 32, 16, 8, 4];

async function main(): Promise<void> {
  if (process.argv.includes('--stability')) await stability();
  else await accuracy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
