import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { PNG } from 'pngjs';
import { paddingMask, readDicomImage, sampleConstraints } from '../../../src/dicom';
import type { SegmentationContext } from '../../../src/segmentation/segmenter';
import type { PixelFrame, SampleConstraints } from '../../../src/stego/types';

/** ../shared/data beside the repository (never copied into it). */
export const DATA_DIR = path.resolve(__dirname, '../../../../shared/data');
/** Labels made by models/train/make_labels.py, one PNG per axial slice, and the held-out list. */
export const LABEL_DIR = path.resolve(__dirname, '../../../models/labels');

export interface Slice {
  /** Path relative to DATA_DIR. */
  readonly rel: string;
  /** Series folder, e.g. 'ct/lung-pet-ct-dx'. */
  readonly series: string;
  readonly modality: string;
  readonly frame: PixelFrame;
  readonly context: SegmentationContext;
  /** What embedded samples may be (stored range, outside padding). */
  readonly constraints: SampleConstraints;
}

/** The frames of one DICOM file of the shared data, with what a segmenter needs to know. */
export function loadFrames(rel: string): Slice[] {
  const image = readDicomImage(new Uint8Array(readFileSync(path.join(DATA_DIR, rel))));
  return image.frames.map((frame) => {
    const padding = paddingMask(frame, image.paddingRange);
    return {
      rel,
      series: path.dirname(rel),
      modality: image.modality,
      frame,
      constraints: sampleConstraints(image),
      context: {
        modality: image.modality,
        rescaleSlope: image.rescaleSlope,
        rescaleIntercept: image.rescaleIntercept,
        photometricInterpretation: image.photometricInterpretation,
        ...(padding === undefined ? {} : { padding }),
      },
    };
  });
}

/** Every file of the manifest with the given modalities (single or multi-frame images). */
export function manifestFiles(modalities: readonly string[]): string[] {
  const lines = readFileSync(path.join(DATA_DIR, 'manifest.tsv'), 'utf8').split('\n').slice(1);
  const out: string[] = [];
  for (const line of lines) {
    const [rel, modality] = line.split('\t');
    if (rel && modality && modalities.includes(modality)) out.push(rel);
  }
  return out;
}

/** CT and MR frames of the shared data that the DICOM adapter decodes (others are counted, not read). */
export function allCtMrFrames(): { slices: Slice[]; skipped: string[] } {
  const slices: Slice[] = [];
  const skipped: string[] = [];
  for (const rel of manifestFiles(['CT', 'MR'])) {
    try {
      slices.push(...loadFrames(rel));
    } catch {
      skipped.push(rel);
    }
  }
  return { slices, skipped };
}

/** The label of one axial slice (1 = body). */
export function readLabel(rel: string): Uint8Array {
  const png = PNG.sync.read(readFileSync(path.join(LABEL_DIR, rel.replace(/\.dcm$/, '.png'))));
  const out = new Uint8Array(png.width * png.height);
  for (let i = 0; i < out.length; i++) out[i] = (png.data[i * 4] as number) > 127 ? 1 : 0;
  return out;
}

/** Labelled files (those with a label in models/labels), held-out ones flagged. */
export function labelledFiles(): { rel: string; heldOut: boolean }[] {
  const held = new Set(
    readFileSync(path.join(LABEL_DIR, 'heldout.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
  const out: { rel: string; heldOut: boolean }[] = [];
  for (const rel of manifestFiles(['CT', 'MR'])) {
    if (!existsSync(path.join(LABEL_DIR, rel.replace(/\.dcm$/, '.png')))) continue;
    out.push({ rel, heldOut: held.has(rel) });
  }
  return out;
}

export interface Overlap {
  readonly intersection: number;
  readonly union: number;
  readonly a: number;
  readonly b: number;
}

export function overlap(a: Uint8Array, b: Uint8Array): Overlap {
  let i = 0;
  let u = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k] !== 0;
    const y = b[k] !== 0;
    if (x) na++;
    if (y) nb++;
    if (x && y) i++;
    if (x || y) u++;
  }
  return { intersection: i, union: u, a: na, b: nb };
}

export const iouOf = (o: Overlap): number => (o.union === 0 ? 1 : o.intersection / o.union);
export const diceOf = (o: Overlap): number =>
  o.a + o.b === 0 ? 1 : (2 * o.intersection) / (o.a + o.b);

/** Normalised cross-correlation of two masks (the paper's stability measure). */
export function maskNcc(a: Uint8Array, b: Uint8Array): number {
  const n = a.length;
  let sa = 0;
  let sb = 0;
  for (let k = 0; k < n; k++) {
    sa += a[k] as number;
    sb += b[k] as number;
  }
  const ma = sa / n;
  const mb = sb / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let k = 0; k < n; k++) {
    const x = (a[k] as number) - ma;
    const y = (b[k] as number) - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  if (da === 0 || db === 0) return da === db && ma === mb ? 1 : 0;
  return num / Math.sqrt(da * db);
}

/**
 * The held-out coronal and sagittal CT reformats (models/labels/reformats, written by make_labels.py):
 * HU + 1024 as int16, as an unsigned 16-bit CT frame with Rescale Intercept -1024, and their labels.
 */
export function heldOutReformats(): { slice: Slice; label: Uint8Array }[] {
  const dir = path.join(LABEL_DIR, 'reformats');
  const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
    name: string;
    rows: number;
    columns: number;
  }[];
  return index.map(({ name, rows, columns }) => {
    const raw = gunzipSync(readFileSync(path.join(dir, `${name}.i16.gz`)));
    const samples = new Int32Array(rows * columns);
    for (let i = 0; i < samples.length; i++) samples[i] = raw.readInt16LE(2 * i);
    const frame: PixelFrame = { rows, columns, bitsStored: 16, signed: false, samples };
    const png = PNG.sync.read(readFileSync(path.join(dir, `${name}.png`)));
    const label = new Uint8Array(rows * columns);
    for (let i = 0; i < label.length; i++) label[i] = (png.data[i * 4] as number) > 127 ? 1 : 0;
    return {
      slice: {
        rel: name,
        series: `${path.dirname(name)} (reformats)`,
        modality: 'CT',
        frame,
        constraints: { minValue: 0, maxValue: 65535, forbidden: [] },
        context: {
          modality: 'CT',
          rescaleSlope: 1,
          rescaleIntercept: -1024,
          photometricInterpretation: 'MONOCHROME2',
        },
      },
      label,
    };
  });
}
