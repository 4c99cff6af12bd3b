import { embedPayload, extractPayload, payloadCapacityBits } from '../../src/stego/embed';
import { identityText } from '../../src/stego/identity-record';
import { PAPER_BETAS } from '../../src/stego/paper';
import { ctFiles, onlyUsableBlocksChanged, realSlice, syntheticSlice } from './helpers/fixtures';

const text = identityText({
  fields: [
    ['PatientName', 'Doe^Jane'],
    ['PatientID', 'TCGA-XY-0042'],
    ['PatientBirthDate', '19700101'],
    ['StudyInstanceUID', '1.2.840.113619.2.55.3.604688119.969.1268071029.320'],
  ],
  embeddedAt: '2024-05-01T10:00:00.000Z',
  keyId: 'k',
});
const payload = new Uint8Array(Buffer.from(text, 'utf8'));

describe('paper profile', () => {
  it.each([
    ['synthetic', () => syntheticSlice(256, 9)],
    ['tcga CT', () => realSlice(ctFiles('tcga-thca-whole-body')[10] as string)],
    ['cmb CT (signed, padding)', () => realSlice(ctFiles('cmb-crc-chest-abdomen')[5] as string)],
  ])('the QR decodes to the exact identity text on the clean stego image: %s', (_, make) => {
    const slice = make();
    const r = embedPayload(slice.image.frame, slice.map, payload, {
      profile: 'paper',
      constraints: slice.constraints,
    });
    if (!r.ok) throw new Error(r.message);
    expect(PAPER_BETAS).toContain(r.report.beta);
    expect(r.report.qrNcc).toBeGreaterThan(0.9);
    expect(onlyUsableBlocksChanged(slice.map, slice.image.frame, r.stego)).toBe(true);
    const x = extractPayload(r.stego, slice.map, {});
    expect(x.ok && x.profile).toBe('paper');
    expect(x.ok && Buffer.from(x.payload).toString('utf8')).toBe(text);
    expect(x.ok && x.qrNcc).toBeGreaterThan(0.9);
  });

  it('extracts with the beta given explicitly', () => {
    const slice = syntheticSlice(256, 10);
    const r = embedPayload(slice.image.frame, slice.map, payload, {
      profile: 'paper',
      constraints: slice.constraints,
      beta: 100,
    });
    if (!r.ok) throw new Error(r.message);
    expect(r.report.beta).toBe(100);
    const x = extractPayload(r.stego, slice.map, { profile: 'paper', beta: 100 });
    expect(x.ok && Buffer.from(x.payload).toString('utf8')).toBe(text);
  });

  it('reports no-payload on a clean image and capacity when the QR does not fit', () => {
    const slice = syntheticSlice(128, 11);
    expect(extractPayload(slice.image.frame, slice.map, { profile: 'paper' })).toMatchObject({
      ok: false,
      reason: 'no-payload',
    });
    const capacity = payloadCapacityBits(slice.image.frame, slice.map, 'paper');
    const r = embedPayload(slice.image.frame, slice.map, new Uint8Array(capacity / 8 + 1), {
      profile: 'paper',
      constraints: slice.constraints,
    });
    expect(r).toMatchObject({ ok: false, reason: 'capacity' });
  });
});
