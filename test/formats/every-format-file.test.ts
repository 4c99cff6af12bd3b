import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readDicomImage } from '../../src/dicom';
import { embedIdentity, extractIdentity, identityRecordOf } from '../../src/pipeline';
import { createThresholdSegmenter } from '../../src/segmentation/threshold-segmenter';
import { StegoGatewayError } from '../../src/stego/errors';
import { generateKeyRing } from '../../src/stego/key-ring';
import { DATA_DIR } from './format-files';

/**
 * Every file of ../shared/data/formats through the adapter and pipeline in-process (what
 * scripts/formats-survey.ts reports in docs/formats.md): each one is embedded and extracted exactly
 * from every frame with only Pixel Data changed, or refused with a specific coded error; none
 * crashes and no input is modified.
 */

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)],
    )
    .sort();
}

const FILES = listFiles(path.join(DATA_DIR, 'formats')).map((f) => path.relative(DATA_DIR, f));
const keyRing = generateKeyRing((n) => new Uint8Array(randomBytes(n)), 'formats');
const segmenter = createThresholdSegmenter();
const NOW = new Date('2026-01-01T00:00:00Z');

type Outcome =
  | { readonly kind: 'embedded'; readonly frames: number }
  | { readonly kind: 'refused'; readonly code: string };

const outcomes = new Map<string, Outcome>();

describe('every file of ../shared/data/formats', () => {
  it('is a corpus of well over a hundred files', () => {
    expect(FILES.length).toBeGreaterThan(200);
  });

  it.each(FILES)('%s', async (file) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DATA_DIR, file)));
    const before = bytes.slice();
    let embedded: Awaited<ReturnType<typeof embedIdentity>>;
    try {
      embedded = await embedIdentity(bytes, { profile: 'fidelity', keyRing, segmenter, now: NOW });
    } catch (error) {
      if (!(error instanceof StegoGatewayError)) throw error;
      expect(error.code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(error.httpStatus).toBeGreaterThanOrEqual(400);
      expect(error.message).not.toBe('');
      outcomes.set(file, { kind: 'refused', code: error.code });
      expect(Buffer.compare(bytes, before)).toBe(0);
      return;
    }
    expect(Buffer.compare(bytes, before)).toBe(0);
    const image = readDicomImage(bytes);
    const { offset, length } = image.pixelData;
    expect(embedded.bytes.length).toBe(bytes.length);
    expect(Buffer.compare(embedded.bytes.subarray(0, offset), bytes.subarray(0, offset))).toBe(0);
    expect(
      Buffer.compare(embedded.bytes.subarray(offset + length), bytes.subarray(offset + length)),
    ).toBe(0);
    const extracted = await extractIdentity(embedded.bytes, {
      profile: 'fidelity',
      keyRing,
      segmenter,
    });
    expect(extracted.ok).toBe(true);
    if (!extracted.ok) return;
    expect(extracted.frames.every((f) => f.ok)).toBe(true);
    expect(extracted.framesAgree).toBe(true);
    expect(extracted.identity).toEqual({
      kind: 'record',
      record: identityRecordOf(image.header, undefined, NOW, keyRing.activeKeyId),
    });
    outcomes.set(file, { kind: 'embedded', frames: extracted.frames.length });
  });

  it('embeds in the native monochrome images and refuses the rest with their codes', () => {
    const all = [...outcomes.values()];
    expect(all).toHaveLength(FILES.length);
    expect(all.filter((o) => o.kind === 'embedded').length).toBeGreaterThanOrEqual(15);
    // Multi-frame: every frame carries the payload (16-frame MR, 10-frame MR).
    expect(all.some((o) => o.kind === 'embedded' && o.frames >= 10)).toBe(true);
    const codes = new Set(all.flatMap((o) => (o.kind === 'refused' ? [o.code] : [])));
    for (const code of [
      'NOT_DICOM',
      'NOT_AN_IMAGE',
      'UNSUPPORTED_TRANSFER_SYNTAX',
      'UNSUPPORTED_PHOTOMETRIC',
    ]) {
      expect(codes).toContain(code);
    }
  });
});
