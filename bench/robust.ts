/**
 * Robust profile through the whole pipeline (`npm run bench -- robust`): on every CT file, embed the
 * header's compact record, add each of the paper's attacks (sigma 147 stored units) to the saved
 * pixels, write them back into the DICOM bytes, extract with the block map the segmenter finds on
 * the noisy image. Beside it, the baseline measured in the same run: the same extraction with only
 * the declared padding value frozen (what the pipeline did before the -1500 HU tolerance). Then the
 * clean round trip on every MR slice with its strength and PSNR. Never fails the build.
 */
import fs from 'node:fs';
import path from 'node:path';
import { paddingMask, readDicomImage, writeDicomFrames, type DicomImage } from '../src/dicom';
import { embedIdentity, extractIdentity, segmentationContext } from '../src/pipeline';
import { createSegmenter } from '../src/segmentation/create-segmenter';
import type { Segmenter, SegmenterName } from '../src/segmentation/segmenter';
import { gaussianNoise, saltAndPepperNoise, uniformNoise } from '../src/stego/attacks';
import { blockMapFromMask } from '../src/stego/block-map';
import { extractPayload } from '../src/stego/embed';
import { generateKeyRing } from '../src/stego/key-ring';
import { SeededRandom } from '../src/stego/prng';
import type { PixelFrame } from '../src/stego/types';

const DATA = path.resolve(__dirname, '../../shared/data');
const NOW = new Date('2026-11-26T08:00:00.000Z');
const ATTACKS: readonly [string, (f: PixelFrame, seed: number) => PixelFrame][] = [
  ['gaussian', (f, s) => gaussianNoise(f, 147, s)],
  ['uniform', (f, s) => uniformNoise(f, 147, s)],
  ['salt-and-pepper', (f, s) => saltAndPepperNoise(f, 147, s)],
];

function files(modality: 'ct' | 'mr'): string[] {
  const root = path.join(DATA, modality);
  return fs
    .readdirSync(root)
    .sort()
    .flatMap((series) =>
      fs
        .readdirSync(path.join(root, series))
        .filter((f) => f.endsWith('.dcm'))
        .sort()
        .map((f) => path.join(root, series, f)),
    );
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The baseline: the segmenter's mask with only the declared padding frozen. */
async function extractExactPadding(
  image: DicomImage,
  segmenter: Segmenter,
  ring: ReturnType<typeof generateKeyRing>,
): Promise<Uint8Array | undefined> {
  const frame = image.frames[0] as PixelFrame;
  const padding = paddingMask(frame, image.paddingRange);
  const mask = await segmenter.segment(frame, segmentationContext(image, padding));
  const map = blockMapFromMask(mask, padding === undefined ? {} : { frozen: padding });
  const x = extractPayload(frame, map, { keyRing: ring, profile: 'robust' });
  return x.ok ? x.payload : undefined;
}

async function ctUnderNoise(name: SegmenterName, segmenter: Segmenter): Promise<void> {
  const rng = new SeededRandom(1);
  const ring = generateKeyRing((n) => rng.bytes(n), 'bench-robust');
  const ct = files('ct');
  const ours = ATTACKS.map(() => 0);
  const baseline = ATTACKS.map(() => 0);
  const psnrs: number[] = [];
  const misses: string[] = [];
  for (const [index, file] of ct.entries()) {
    const input = new Uint8Array(fs.readFileSync(file));
    const { bytes, report } = await embedIdentity(input, {
      profile: 'robust',
      keyRing: ring,
      segmenter,
      now: NOW,
    });
    psnrs.push(report.summary.psnrMax65535);
    const clean = await extractIdentity(bytes, { keyRing: ring, segmenter, profile: 'robust' });
    if (!clean.ok) {
      misses.push(`${path.basename(path.dirname(file))}/${path.basename(file)} clean`);
      continue;
    }
    const stego = readDicomImage(bytes);
    for (const [a, [attack, apply]] of ATTACKS.entries()) {
      const noisy = stego.frames.map((f) => apply(f, 1000 * index + a));
      const noisyBytes = writeDicomFrames(bytes, stego, noisy);
      const x = await extractIdentity(noisyBytes, { keyRing: ring, segmenter, profile: 'robust' });
      if (x.ok && sameBytes(x.payload, clean.payload)) ours[a] = (ours[a] as number) + 1;
      else misses.push(`${path.basename(path.dirname(file))}/${path.basename(file)} ${attack}`);
      const b = await extractExactPadding(readDicomImage(noisyBytes), segmenter, ring);
      if (b !== undefined && sameBytes(b, clean.payload)) baseline[a] = (baseline[a] as number) + 1;
    }
  }
  console.log(
    `${name}: ${ct.length} CT files, stego PSNR (MAX 65535) min ${Math.min(...psnrs).toFixed(2)} / median ${median(psnrs).toFixed(2)} dB`,
  );
  for (const [a, [attack]] of ATTACKS.entries()) {
    console.log(
      `  ${attack.padEnd(16)} exact ${ours[a]}/${ct.length}   baseline (declared padding only) ${baseline[a]}/${ct.length}`,
    );
  }
  if (misses.length > 0) console.log(`  misses: ${misses.join(', ')}`);
}

async function mrClean(name: SegmenterName, segmenter: Segmenter): Promise<void> {
  const rng = new SeededRandom(2);
  const ring = generateKeyRing((n) => rng.bytes(n), 'bench-robust');
  const mr = files('mr');
  let exact = 0;
  const strengths: number[] = [];
  const psnrs: number[] = [];
  for (const file of mr) {
    try {
      const { bytes, report } = await embedIdentity(new Uint8Array(fs.readFileSync(file)), {
        profile: 'robust',
        keyRing: ring,
        segmenter,
        now: NOW,
      });
      const x = await extractIdentity(bytes, { keyRing: ring, segmenter, profile: 'robust' });
      if (x.ok) exact++;
      psnrs.push(report.summary.psnrMax65535);
      for (const f of report.frames) strengths.push(f.robustMaxShift ?? NaN);
    } catch (error) {
      console.log(`  ${path.basename(file)}: ${error instanceof Error ? error.message : ''}`);
    }
  }
  console.log(
    `${name}: MR clean round trip exact ${exact}/${mr.length}; block shift cap ${Math.min(...strengths)}..${Math.max(...strengths)} stored units; PSNR (MAX 65535) ${Math.min(...psnrs).toFixed(1)}..${Math.max(...psnrs).toFixed(1)} dB`,
  );
}

export async function run(): Promise<void> {
  for (const name of ['threshold', 'onnx-maskrcnn'] as const) {
    let segmenter: Segmenter;
    try {
      segmenter = await createSegmenter(name);
    } catch (error) {
      console.log(`${name}: unavailable (${error instanceof Error ? error.message : ''})`);
      continue;
    }
    await ctUnderNoise(name, segmenter);
    await mrClean(name, segmenter);
  }
}
