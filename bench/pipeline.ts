/**
 * Pipeline benchmark: what one 512x512 CT slice costs end to end (read, segment, embed with the
 * stability check, patch in place, write) per profile, with the parts beside their baselines:
 * reading and writing through dcmjs (parse everything, re-encode everything) against our tag walker
 * and in-place patch, and the threshold segmenter against the ONNX model when it is available.
 * Medians of many runs; never fails the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { data as dcmjsData } from 'dcmjs';
import { readDicomImage, paddingMask, writeDicomFrames } from '../src/dicom';
import { embedIdentity, extractIdentity, segmentationContext } from '../src/pipeline';
import { createSegmenter } from '../src/segmentation/create-segmenter';
import type { Segmenter } from '../src/segmentation/segmenter';
import { generateKeyRing } from '../src/stego/key-ring';
import { PROFILE_NAMES } from '../src/stego/profiles';
import { SeededRandom } from '../src/stego/prng';
import type { PixelFrame } from '../src/stego/types';

const DATA = path.resolve(__dirname, '../../shared/data');
const SLICES = 12;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

async function timeMs(work: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Median milliseconds of `work` over every file, after one warm-up. */
async function perFile<T>(
  files: readonly T[],
  work: (f: T) => unknown | Promise<unknown>,
): Promise<number> {
  await work(files[0] as T);
  const times: number[] = [];
  for (const f of files) times.push(await timeMs(() => work(f)));
  return median(times);
}

function row(name: string, ms: number, baselineName?: string, baselineMs?: number): void {
  const mpps = (512 * 512) / 1e6 / (ms / 1000);
  const base =
    baselineMs === undefined
      ? ''
      : `   baseline ${baselineName}: ${baselineMs.toFixed(2)} ms (x${(baselineMs / ms).toFixed(1)})`;
  console.log(
    `${name.padEnd(34)} ${ms.toFixed(2).padStart(8)} ms  ${mpps.toFixed(1).padStart(6)} MP/s${base}`,
  );
}

function ctFiles(): Uint8Array[] {
  const dirs = ['ct/lung-pet-ct-dx', 'ct/cmb-crc-chest-abdomen', 'ct/tcga-thca-whole-body'];
  const out: Uint8Array[] = [];
  for (const d of dirs) {
    const names = fs.readdirSync(path.join(DATA, d)).sort();
    for (let i = 0; i < SLICES / dirs.length; i++) {
      const name = names[Math.floor(((i + 0.5) * names.length) / (SLICES / dirs.length))];
      if (name !== undefined) out.push(new Uint8Array(fs.readFileSync(path.join(DATA, d, name))));
    }
  }
  return out;
}

export async function run(): Promise<void> {
  const files = ctFiles();
  console.log(
    `${files.length} CT slices 512x512 from ../shared/data; medians; 1 MP/s = 1e6 pixels per second`,
  );

  const read = await perFile(files, (b) => readDicomImage(b));
  // Same result through dcmjs alone: parse everything, name the attributes, copy the samples out.
  const readDcmjs = await perFile(files, (b) => {
    const file = dcmjsData.DicomMessage.readFile(b.slice().buffer);
    const header = dcmjsData.DicomMetaDictionary.naturalizeDataset(file.dict);
    const pixels = file.dict['7FE00010']?.Value?.[0];
    return [header, pixels instanceof ArrayBuffer ? Int32Array.from(new Int16Array(pixels)) : null];
  });
  row('read (tag walker + header)', read, 'dcmjs parse + naturalize + samples', readDcmjs);

  const images = files.map((b) => ({ bytes: b, image: readDicomImage(b) }));
  const write = await perFile(images, ({ bytes, image }) => {
    const frames = image.frames.map((f) => {
      const samples = f.samples.slice();
      samples[0] = (samples[0] ?? 0) === 0 ? 1 : 0;
      return { ...f, samples };
    });
    return writeDicomFrames(bytes, image, frames);
  });
  const writeDcmjs = await perFile(files, (b) =>
    dcmjsData.DicomMessage.readFile(b.slice().buffer).write(),
  );
  row('write (in-place patch)', write, 'dcmjs parse + re-encode', writeDcmjs);

  const segmenters: Segmenter[] = [await createSegmenter('threshold')];
  try {
    segmenters.push(await createSegmenter('onnx-maskrcnn'));
  } catch (error) {
    console.log(
      `onnx-maskrcnn unavailable: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const segTimes = new Map<string, number>();
  for (const s of segmenters) {
    const ms = await perFile(images, ({ image }) => {
      const frame = image.frames[0] as PixelFrame;
      return s.segment(frame, segmentationContext(image, paddingMask(frame, image.paddingRange)));
    });
    segTimes.set(s.name, ms);
  }
  const thresholdMs = segTimes.get('threshold') ?? NaN;
  row('segment threshold', thresholdMs);
  const onnxMs = segTimes.get('onnx-maskrcnn');
  if (onnxMs !== undefined) row('segment onnx-maskrcnn', onnxMs, 'threshold', thresholdMs);

  const rng = new SeededRandom(3);
  const ring = generateKeyRing(
    (n) => Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256)),
    'bench',
  );
  const threshold = segmenters[0] as Segmenter;
  console.log(
    '\nwhole pipeline per slice, threshold segmenter (embedding segments twice: cover and stego check)',
  );
  for (const profile of PROFILE_NAMES) {
    try {
      const stego: Uint8Array[] = [];
      const embedMs = await perFile(files, async (b) => {
        const r = await embedIdentity(b, { profile, keyRing: ring, segmenter: threshold });
        stego.push(r.bytes);
      });
      const extractMs = await perFile(stego, (b) =>
        extractIdentity(b, { keyRing: ring, segmenter: threshold, profile }),
      );
      row(`embed ${profile}`, embedMs, 'of which segmentation', 2 * thresholdMs);
      row(`extract ${profile}`, extractMs, 'of which segmentation', thresholdMs);
    } catch (error) {
      console.log(`${profile}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const s of segmenters) await s.close();
}

if (require.main === module) void run();
