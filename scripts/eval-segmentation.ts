/**
 * Body IoU and Dice per series, onnx-maskrcnn (with and without edge refinement) beside threshold, on
 * the labelled slices of ../shared/data (labels: models/train/make_labels.py). Held-out series come
 * first; the others were seen in training and are printed for reference only.
 * Per series: pooled IoU/Dice (all pixels of the series) and the worst slice's IoU.
 * With --stability: what ships, embedIdentity (pipeline, re-check loop included) per profile, and the
 * stego frames' block maps against the cover's (see shippedStability()). With --stability-engine: the
 * engine alone, without the pipeline's re-check loop (see stability()). With --model FILE: a candidate
 * model instead of models/body-maskrcnn.onnx (and --noise-floor F: the MR floor it was trained with).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readDicomImage, type DicomImage } from '../src/dicom';
import { analyseFrame, blockMapAgreement, embedIdentity, maskNcc } from '../src/pipeline';
import { dilateSquare, DEFAULT_MARGIN_PX } from '../src/stego/block-map';
import { StegoGatewayError } from '../src/stego/errors';
import { generateKeyRing } from '../src/stego/key-ring';
import type { PixelFrame } from '../src/stego/types';
import { createOnnxSegmenter, type OnnxSegmenterOptions } from '../src/segmentation/onnx-maskrcnn';
import type { Segmenter } from '../src/segmentation/segmenter';
import { createThresholdSegmenter } from '../src/segmentation/threshold-segmenter';
import { measureStability, seededBytes } from '../test/segmentation/helpers/stability';
import {
  allCtMrFrames,
  DATA_DIR,
  manifestFiles,
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

/**
 * `--model FILE`: evaluate a candidate model instead of the committed one (its own hash is trusted:
 * this is how a retrained model is measured before its card and hash are updated).
 */
function candidateModel(): OnnxSegmenterOptions {
  const at = process.argv.indexOf('--model');
  const file = at < 0 ? undefined : process.argv[at + 1];
  if (file === undefined) return {};
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  const floorAt = process.argv.indexOf('--noise-floor');
  const floor = floorAt < 0 ? undefined : Number(process.argv[floorAt + 1]);
  return {
    modelPath: path.resolve(file),
    expectedSha256: sha256,
    ...(floor === undefined ? {} : { noiseFloor: floor }),
  };
}

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
    ['onnx-maskrcnn', await createOnnxSegmenter(candidateModel())],
    ['onnx (no refine)', await createOnnxSegmenter({ ...candidateModel(), refineEdges: false })],
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
    ['onnx-maskrcnn', await createOnnxSegmenter(candidateModel())],
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

interface ShippedTally {
  files: number;
  frames: number;
  stable: number;
  coverEqual: number;
  minAgreement: number;
  minCoverAgreement: number;
  sumNcc: number;
  minNcc: number;
  excluded: number;
  rounds: number;
  changed: number;
  changedBody: number;
  changedNear: number;
  labelled: number;
  changedLabel: number;
  failures: Map<string, number>;
  unstable: string[];
}

function newTally(): ShippedTally {
  return {
    files: 0,
    frames: 0,
    stable: 0,
    coverEqual: 0,
    minAgreement: 1,
    minCoverAgreement: 1,
    sumNcc: 0,
    minNcc: 1,
    excluded: 0,
    rounds: 0,
    changed: 0,
    changedBody: 0,
    changedNear: 0,
    labelled: 0,
    changedLabel: 0,
    failures: new Map(),
    unstable: [],
  };
}

/**
 * --stability: what ships. Every CT and MR file of ../shared/data that src/dicom reads goes through
 * the pipeline's embedIdentity (the header's identity record, default segmenter onnx-maskrcnn,
 * margin 4, re-check loop and robust halving included) with the fidelity, robust and paper profiles.
 * Per frame: the pipeline's own report (stego map against the map it embedded with: agreement,
 * stable, mask NCC), and, decoded from the stego file's bytes, the stego frame re-segmented as an
 * extractor will (its map against the cover's; changed pixels inside the cover's mask, within the
 * margin, inside the ground-truth label).
 */
async function shippedStability(): Promise<void> {
  const segmenter = await createOnnxSegmenter(candidateModel());
  const keyRing = generateKeyRing(seededBytes(7), 'k-eval');
  const marginPx = DEFAULT_MARGIN_PX;
  const labels = new Map<string, Uint8Array>();
  for (const { rel } of labelledFiles()) {
    try {
      labels.set(rel, readLabel(rel));
    } catch {
      // no label for this file
    }
  }
  const files: { rel: string; bytes: Uint8Array; image: DicomImage }[] = [];
  let unreadable = 0;
  for (const rel of manifestFiles(['CT', 'MR'])) {
    const bytes = new Uint8Array(readFileSync(path.join(DATA_DIR, rel)));
    try {
      files.push({ rel, bytes, image: readDicomImage(bytes) });
    } catch {
      unreadable++;
    }
  }
  const frameCount = files.reduce((n, f) => n + f.image.frames.length, 0);
  console.log(
    `${files.length} CT/MR files (${frameCount} frames) read by src/dicom; ${unreadable} not readable; ` +
      `segmenter ${segmenter.name}, margin ${marginPx} px`,
  );
  const tallies = new Map<string, ShippedTally>();
  const covers = new Map<string, Awaited<ReturnType<typeof analyseFrame>>[]>();
  for (const profile of ['fidelity', 'robust', 'paper'] as const) {
    for (const { rel, bytes, image } of files) {
      const modality = image.modality === 'CT' ? 'CT' : 'MR';
      const key = `${profile.padEnd(8)} ${modality}`;
      const t = tallies.get(key) ?? newTally();
      tallies.set(key, t);
      t.files++;
      let coverAnalyses = covers.get(rel);
      if (coverAnalyses === undefined) {
        coverAnalyses = [];
        for (const frame of image.frames)
          coverAnalyses.push(await analyseFrame(image, frame, segmenter, marginPx));
        covers.set(rel, coverAnalyses);
      }
      let result: Awaited<ReturnType<typeof embedIdentity>>;
      try {
        result = await embedIdentity(bytes, {
          profile,
          segmenter,
          marginPx,
          now: new Date('2026-01-01T00:00:00Z'),
          randomBytes: seededBytes(11),
          ...(profile === 'paper' ? {} : { keyRing }),
        });
      } catch (err) {
        const code = err instanceof StegoGatewayError ? err.code : 'UNEXPECTED';
        t.failures.set(code, (t.failures.get(code) ?? 0) + image.frames.length);
        if (!(err instanceof StegoGatewayError)) console.error(rel, err);
        continue;
      }
      const stegoImage = readDicomImage(result.bytes);
      const label = labels.get(rel);
      for (let f = 0; f < image.frames.length; f++) {
        const report = result.report.frames[f];
        const cover = image.frames[f] as PixelFrame;
        const stego = stegoImage.frames[f] as PixelFrame;
        const coverAnalysis = coverAnalyses[f];
        if (report === undefined || coverAnalysis === undefined) continue;
        const after = await analyseFrame(stegoImage, stego, segmenter, marginPx);
        t.frames++;
        if (report.stable) t.stable++;
        else
          t.unstable.push(
            `${rel}#${f} (${report.blockMapAgreement.toFixed(5)}, ${report.iterations} rounds)`,
          );
        t.minAgreement = Math.min(t.minAgreement, report.blockMapAgreement);
        t.sumNcc += report.maskNcc;
        t.minNcc = Math.min(t.minNcc, report.maskNcc);
        t.excluded += report.blocksExcluded;
        t.rounds += report.iterations;
        const coverAgreement = blockMapAgreement(coverAnalysis.map, after.map);
        if (coverAgreement === 1) t.coverEqual++;
        t.minCoverAgreement = Math.min(t.minCoverAgreement, coverAgreement);
        const mask = coverAnalysis.mask.data;
        const near = dilateSquare(mask, cover.rows, cover.columns, marginPx);
        const useLabel = label !== undefined && label.length === mask.length;
        if (useLabel) t.labelled++;
        for (let i = 0; i < cover.samples.length; i++) {
          if (cover.samples[i] === stego.samples[i]) continue;
          t.changed++;
          if (mask[i] !== 0) t.changedBody++;
          if (near[i] !== 0) t.changedNear++;
          if (useLabel && label[i] !== 0) t.changedLabel++;
        }
        // the NCC of the extractor's view against the cover (the report's is the same masks)
        if (report.stable && maskNcc(coverAnalysis.mask, after.mask) !== report.maskNcc)
          t.unstable.push(`${rel}#${f} (report NCC differs from the re-segmented stego file)`);
      }
    }
  }
  console.log(
    'profile  mod. files frames | stable (map used = stego map) | min agreement | mask NCC mean / min | ' +
      'cover map = stego map | min | blocks excluded | rounds | changed px / in mask / within margin / in label (labelled frames)',
  );
  for (const [key, t] of tallies) {
    const failures = [...t.failures].map(([k, v]) => `${k}: ${v} frames`).join(', ');
    console.log(
      `${key} ${String(t.files).padStart(5)} ${String(t.frames).padStart(6)} | ${t.stable}/${t.frames} | ` +
        `${t.minAgreement.toFixed(5)} | ${(t.sumNcc / Math.max(1, t.frames)).toFixed(5)} / ${t.minNcc.toFixed(5)} | ` +
        `${t.coverEqual}/${t.frames} | ${t.minCoverAgreement.toFixed(5)} | ${t.excluded} | ${t.rounds} | ` +
        `${t.changed} / ${t.changedBody} / ${t.changedNear} / ${t.changedLabel} (${t.labelled})` +
        (failures ? ` | not embedded: ${failures}` : ''),
    );
    if (t.unstable.length > 0) console.log(`  not stable: ${t.unstable.join(', ')}`);
  }
  await segmenter.close();
}

async function main(): Promise<void> {
  if (process.argv.includes('--stability-engine')) await stability();
  else if (process.argv.includes('--stability')) await shippedStability();
  else await accuracy();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
