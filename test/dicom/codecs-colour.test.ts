import {
  applyCarrier,
  carrierFrame,
  colourPolicy,
  storedValues,
  type ColourCarrier,
} from '../../src/dicom/codecs';
import { loadImage, nativeFrames, readData } from '../formats/format-files';

/** The colour policy: which plane carries the payload, and that nothing else moves. */

describe('colourPolicy', () => {
  it.each([
    ['MONOCHROME1', 1, 'monochrome'],
    ['MONOCHROME2', 1, 'monochrome'],
    ['RGB', 3, 'rgb-green'],
    ['YBR_RCT', 3, 'rgb-green'],
    ['YBR_FULL', 3, 'ybr-luma'],
    ['YBR_FULL_422', 3, 'ybr-422-luma'],
  ])('%s with %i samples embeds in the %s carrier', (photometric, samples, carrier) => {
    expect(colourPolicy(photometric, samples)).toEqual({ kind: 'embed', carrier });
  });

  it.each([
    ['PALETTE COLOR', 1, /lookup-table indices/],
    ['YBR_PARTIAL_420', 3, /no defined carrier/],
    ['CMYK', 4, /samples per pixel/],
    ['MONOCHROME2', 3, /samples per pixel/],
  ])('refuses %s with a reason', (photometric, samples, reason) => {
    const policy = colourPolicy(photometric, samples);
    expect(policy).toMatchObject({ kind: 'refuse', code: 'UNSUPPORTED_PHOTOMETRIC' });
    expect(policy.kind === 'refuse' ? policy.reason : '').toMatch(reason);
  });
});

/** Adds +1 / -1 (staying in range) to every 7th carrier sample, as an embedding would. */
function perturb(samples: Int32Array, max: number): Int32Array {
  return samples.map((v, i) => (i % 7 !== 0 ? v : v < max ? v + 1 : v - 1));
}

describe.each([
  ['formats/pydicom-data/SC_rgb.dcm', 'rgb-green'],
  ['formats/pydicom-data/SC_rgb_16bit.dcm', 'rgb-green'],
  ['formats/pydicom-data/US1_UNCR.dcm', 'rgb-green'],
  ['formats/pydicom-data/SC_ybr_full_uncompressed.dcm', 'ybr-luma'],
  ['formats/pydicom-test-files/SC_ybr_full_422_uncompressed.dcm', 'ybr-422-luma'],
] as const)('%s', (file, carrier: ColourCarrier) => {
  const image = loadImage(readData(file));
  const native = nativeFrames(image)[0] as Uint8Array;
  const info = image.info;

  it('has the policy its photometric interpretation implies', () => {
    expect(colourPolicy(info.photometricInterpretation, info.samplesPerPixel)).toEqual({
      kind: 'embed',
      carrier,
    });
  });

  it('gives back exactly the carrier it was given, and moves nothing outside the carrier pixels', () => {
    const cover = carrierFrame(native, info, carrier);
    expect(cover.samples).toHaveLength(info.rows * info.columns);
    const stego = { ...cover, samples: perturb(cover.samples, 2 ** info.bitsStored - 1) };
    const written = applyCarrier(native, info, carrier, stego);
    const readBack = carrierFrame(written, info, carrier).samples;
    expect(readBack.every((v, i) => v === stego.samples[i])).toBe(true);
    const sampleCount =
      carrier === 'ybr-422-luma' ? info.rows * info.columns * 2 : info.rows * info.columns * 3;
    const flat = { ...info, rows: 1, columns: sampleCount, samplesPerPixel: 1 };
    const before = storedValues(native, flat);
    const after = storedValues(written, flat);
    let changedOutsideCarrier = 0;
    for (let i = 0; i < before.length; i++) {
      if (before[i] === after[i]) continue;
      if (carrier === 'rgb-green') {
        // R and B follow G's change (clamped), so grey stays grey.
        const pixel = Math.floor(i / 3);
        const delta = (stego.samples[pixel] ?? 0) - (cover.samples[pixel] ?? 0);
        const clamped = Math.min(2 ** info.bitsStored - 1, Math.max(0, (before[i] ?? 0) + delta));
        if (delta === 0 || after[i] !== clamped) changedOutsideCarrier++;
      } else {
        const isLuma = carrier === 'ybr-luma' ? i % 3 === 0 : i % 4 < 2;
        if (!isLuma) changedOutsideCarrier++;
      }
    }
    expect(changedOutsideCarrier).toBe(0);
  });
});
