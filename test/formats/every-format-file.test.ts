import fs from 'node:fs';
import path from 'node:path';
import { walkPart10 } from '../../src/dicom';
import { DATA_DIR, listFiles, REFUSAL_CODES } from './format-files';
import { formatOutcome, type FormatOutcome } from './format-outcome';

/**
 * Every file of ../shared/data/formats through the adapter (openDicomImage / writeDicomImage) and
 * the pipeline's pieces in-process (what scripts/formats-survey.ts reports in docs/formats.md): each
 * one is embedded and extracted exactly from every frame, or passes through (the caller stores the
 * original byte-identical) with a stated reason, or is refused with a specific coded error; none
 * crashes and no input is modified. Lossy files are also run under lossyPolicy 'store-explicit-le'.
 */

const FILES = listFiles(path.join(DATA_DIR, 'formats')).map((f) => path.relative(DATA_DIR, f));

const outcomes = new Map<string, FormatOutcome>();
const lossyStored = new Map<string, FormatOutcome>();

function checkOutcome(o: FormatOutcome): void {
  switch (o.kind) {
    case 'embedded':
      expect(o.exact).toBe(true);
      expect(o.everyFrame).toBe(true);
      expect(walkPart10(o.written).transferSyntaxUid).toBe(o.outputSyntax);
      return;
    case 'passthrough':
      expect(o.message).toMatch(/\[.*\]/);
      return;
    case 'refused':
      expect(REFUSAL_CODES).toContain(o.code);
      expect(o.message).not.toBe('');
  }
}

describe('every file of ../shared/data/formats', () => {
  it('is a corpus of well over a hundred files', () => {
    expect(FILES.length).toBeGreaterThan(200);
  });

  it.each(FILES)('%s', async (file) => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(DATA_DIR, file)));
    const before = bytes.slice();
    const o = await formatOutcome(bytes);
    outcomes.set(file, o);
    expect(Buffer.compare(bytes, before)).toBe(0);
    checkOutcome(o);
    if (o.kind === 'passthrough' && o.reason === 'lossy-compression') {
      const stored = await formatOutcome(bytes, { lossyPolicy: 'store-explicit-le' });
      lossyStored.set(file, stored);
      expect(Buffer.compare(bytes, before)).toBe(0);
      checkOutcome(stored);
      if (stored.kind === 'embedded') {
        expect(stored.outputSyntax).toBe('1.2.840.10008.1.2.1');
        expect(stored.warnings.join(' ')).toMatch(/Lossy Image Compression 01/);
      }
    }
  });

  it('embeds in native, converted, colour and lossless compressed images; passes non-images and lossy ones', () => {
    const all = [...outcomes.values()];
    expect(all).toHaveLength(FILES.length);
    const embedded = all.flatMap((o) => (o.kind === 'embedded' ? [o] : []));
    expect(embedded.length).toBeGreaterThanOrEqual(35);
    // Multi-frame: every frame carries the payload (16-frame MR).
    expect(embedded.some((o) => o.frames >= 10)).toBe(true);
    const syntaxes = new Set(embedded.map((o) => o.outputSyntax));
    for (const uid of [
      '1.2.840.10008.1.2', // implicit VR LE, patched in place
      '1.2.840.10008.1.2.1',
      '1.2.840.10008.1.2.5', // RLE, re-encoded
      '1.2.840.10008.1.2.4.70', // JPEG lossless SV1
      '1.2.840.10008.1.2.4.90', // JPEG 2000 lossless
    ]) {
      expect(syntaxes).toContain(uid);
    }
    const reasons = new Set(all.flatMap((o) => (o.kind === 'passthrough' ? [o.reason] : [])));
    expect(reasons).toEqual(new Set(['not-an-image', 'lossy-compression']));
    // Under 'store-explicit-le' some lossy files carry the payload as Explicit VR LE.
    expect([...lossyStored.values()].some((o) => o.kind === 'embedded')).toBe(true);
  });
});
