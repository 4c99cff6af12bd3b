import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDicomImage } from '../../src/dicom';
import {
  embedIdentity,
  extractIdentity,
  identityPayload,
  identityRecordOf,
} from '../../src/pipeline';
import { analyseFrame } from '../../src/pipeline/frame-context';
import { dilate } from '../../src/segmentation/morphology';
import { createThresholdSegmenter } from '../../src/segmentation/threshold-segmenter';
import { generateKeyRing } from '../../src/stego/key-ring';
import { SeededRandom } from '../../src/stego/prng';
import type { PixelFrame } from '../../src/stego/types';
import { ctAndMrRows, readData } from '../dicom/data-files';

const MARGIN_PX = 4;
const NOW = new Date('2026-11-26T08:00:00.000Z');

function seededBytes(seed: number): (n: number) => Uint8Array {
  const rng = new SeededRandom(seed);
  return (n) => Uint8Array.from({ length: n }, () => Math.floor(rng.next() * 256));
}

/** dcmdump's full listing without the Pixel Data line. */
function dumpWithoutPixels(file: string): string {
  const r = spawnSync('dcmdump', ['+L', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`dcmdump failed on ${file}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((line) => !line.startsWith('(7fe0,0010)'))
    .join('\n');
}

/**
 * Every CT and MR file whose path starts with one of `prefixes`: fidelity profile, threshold
 * segmenter, in process. Extraction is exact, no pixel changes inside the mask and its margin (nor
 * padding), every byte outside Pixel Data is unchanged and dcmdump sees the same header.
 */
export function describeEveryFile(prefixes: readonly string[]): void {
  const rows = ctAndMrRows().filter((r) => prefixes.some((p) => r.path.startsWith(p)));
  const ring = generateKeyRing(seededBytes(1), 'every-file');
  const segmenter = createThresholdSegmenter();
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'every-file-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has files to check', () => {
    expect(rows.length).toBeGreaterThan(10);
  });

  it.each(rows.map((r) => r.path))('%s', async (p) => {
    const input = readData(p);
    const pristine = input.slice();
    const { bytes, report } = await embedIdentity(input, {
      profile: 'fidelity',
      keyRing: ring,
      segmenter,
      marginPx: MARGIN_PX,
      now: NOW,
      randomBytes: seededBytes(2),
    });
    expect(Buffer.compare(input, pristine)).toBe(0);

    // Exact extraction of what was embedded.
    const image = readDicomImage(input);
    const expected = identityPayload(
      'fidelity',
      identityRecordOf(image.header, undefined, NOW, ring.activeKeyId),
      ring,
    );
    const extracted = await extractIdentity(bytes, {
      keyRing: ring,
      segmenter,
      marginPx: MARGIN_PX,
    });
    expect(extracted.ok).toBe(true);
    if (!extracted.ok) return;
    expect(extracted.profile).toBe('fidelity');
    expect(Buffer.compare(extracted.payload, expected)).toBe(0);
    expect(report.frames.every((f) => f.changedPixels > 0)).toBe(true);

    // Nothing changes inside the cover's mask and margin, nor in padding.
    const stego = readDicomImage(bytes);
    for (let f = 0; f < image.frames.length; f++) {
      const cover = image.frames[f] as PixelFrame;
      const after = stego.frames[f] as PixelFrame;
      const { mask } = await analyseFrame(image, cover, segmenter, MARGIN_PX);
      const protectedPx = dilate(mask.data, cover.rows, cover.columns, MARGIN_PX);
      const [padLo, padHi] = image.paddingRange ?? [1, 0];
      let violations = 0;
      for (let i = 0; i < cover.samples.length; i++) {
        const before = cover.samples[i] ?? 0;
        const now = after.samples[i] ?? 0;
        if (before === now) continue;
        if (protectedPx[i] || (before >= padLo && before <= padHi)) violations++;
        if (now >= padLo && now <= padHi) violations++;
      }
      expect(violations).toBe(0);
    }

    // Every byte outside Pixel Data is unchanged, and dcmdump agrees.
    const { offset, length } = image.pixelData;
    expect(bytes.length).toBe(input.length);
    expect(Buffer.compare(bytes.subarray(0, offset), input.subarray(0, offset))).toBe(0);
    expect(Buffer.compare(bytes.subarray(offset + length), input.subarray(offset + length))).toBe(
      0,
    );
    const a = path.join(dir, 'cover.dcm');
    const b = path.join(dir, 'stego.dcm');
    fs.writeFileSync(a, input);
    fs.writeFileSync(b, bytes);
    expect(dumpWithoutPixels(b)).toBe(dumpWithoutPixels(a));
  });
}
