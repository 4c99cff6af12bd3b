import fs from 'node:fs';
import path from 'node:path';

/** ../shared/data, relative to the repository root (never copied into the repo). */
export const DATA_DIR = path.resolve(__dirname, '../../../shared/data');

export interface ManifestRow {
  readonly path: string;
  readonly modality: string;
  readonly rows: number;
  readonly columns: number;
  readonly frames: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly pixelRepresentation: number;
  readonly photometric: string;
  readonly transferSyntax: string;
}

export function readManifest(): ManifestRow[] {
  const lines = fs.readFileSync(path.join(DATA_DIR, 'manifest.tsv'), 'utf8').trim().split('\n');
  return lines.slice(1).map((line) => {
    const c = line.split('\t');
    return {
      path: c[0] ?? '',
      modality: c[1] ?? '',
      rows: Number(c[2]),
      columns: Number(c[3]),
      frames: Number(c[4]),
      bitsAllocated: Number(c[5]),
      bitsStored: Number(c[6]),
      pixelRepresentation: Number(c[7]),
      photometric: c[8] ?? '',
      transferSyntax: c[9] ?? '',
    };
  });
}

/** Every CT and MR image of ../shared/data/ct and ../shared/data/mr. */
export function ctAndMrRows(): ManifestRow[] {
  return readManifest().filter((r) => r.path.startsWith('ct/') || r.path.startsWith('mr/'));
}

export function readData(relative: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(DATA_DIR, relative)));
}
